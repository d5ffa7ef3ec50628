"""The sha256 of the model file shipped in this package (written by `digitbot train --ship`)."""

SHIPPED_MODEL_SHA256 = "bc6e86d1a759e20d3760ad5c454a0fdf69a3bb282473d2a7a18bdffa1733ff38"
