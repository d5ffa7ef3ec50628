"""The sha256 of the model file shipped in this package (written by `digitbot train --ship`)."""

SHIPPED_MODEL_SHA256 = "13d83a7f641ceaa57b3de1093f37fd3bdd6d5316707608acd307ec36bccbebae"
