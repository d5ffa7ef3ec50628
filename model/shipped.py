"""The sha256 of the model file shipped in this package (written by `digitbot train --ship`)."""

SHIPPED_MODEL_SHA256 = "778a784fce60b7e569cbee43942f25d22fc0361e4611c411f4fd4851c8898009"
