"""The sha256 of the model file shipped in this package (written by `digitbot train --ship`)."""

SHIPPED_MODEL_SHA256 = "4e332cfaeacb01b874c47a7c6117bc41e7a23277f921e56ff8c603f6116408ea"
