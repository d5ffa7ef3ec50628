"""The sha256 of the model file shipped in this package (written by `digitbot train --ship`)."""

SHIPPED_MODEL_SHA256 = "6f1c22d6a11b2aa13c101b73a4303d91b5c72e245cd438d26e5f9a915d8bbb58"
