"""The sha256 of the model file shipped in this package (written by `digitbot train --ship`)."""

SHIPPED_MODEL_SHA256 = "3834b5b6b7da05ac2df3f005d5e52cb1df8894b6762a2fde1cd532a19b7435c0"
