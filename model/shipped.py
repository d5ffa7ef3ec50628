"""The sha256 of the model file shipped in this package (written by `digitbot train --ship`)."""

SHIPPED_MODEL_SHA256 = "6945dca4987e0ca91007e80e9c1ced7fdf85edc22c9a1e698162803f5d1b18e3"
