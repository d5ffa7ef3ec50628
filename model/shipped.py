"""The sha256 of the model files shipped in this package, the one place they are pinned.

`digitbot train --ship` rewrites SHIPPED_MODEL_SHA256 (model/digitbot.npz), and
`python -m training.train_nondigit --ship` NONDIGIT_SHA256 (model/nondigit.npz).
"""

from __future__ import annotations

import re
from pathlib import Path

SHIPPED_MODEL_SHA256 = "cdffa0242846c65bdb83126ba9afd327c7bc0546c1492e412e64be197dcdb3e6"
NONDIGIT_SHA256 = "37c1724552524c01bf02101edf377900c61dca1a9e74f249395e77d0756fb018"


def pin(name: str, digest: str, path: Path = Path(__file__)) -> Path:
    """Record `digest` as `name`'s value in this file (a source checkout); return its path."""
    text, count = re.subn(
        rf'^{name} = "[0-9a-f]*"$', f'{name} = "{digest}"', path.read_text(), flags=re.MULTILINE
    )
    if count != 1:
        raise ValueError(f"{path} has no line {name} = ...")
    path.write_text(text)
    return path
