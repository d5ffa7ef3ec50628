"""Digit, writing or mark: the check that tells what the photo path found from digits.

The digit classifier reads anything as some digit: a handwritten word cut into pieces, the edge
of a sheet of paper. This small model sees each piece as the classifier does (its 8x8 grid and
the aspect of its ink, as `model.verifier.verifier_features`) and says whether it is a digit
(`DIGIT`), writing (`WRITING`: letters and words, handwritten or printed) or a mark (`MARK`: a
scribble, a blob, the bent edge of paper or of an object). `python -m training.train_nondigit`
makes it (see there); the fonts it is trained with are not needed here. Its file holds the
network's weights as arrays (`model.weights`), pinned by NONDIGIT_SHA256 in `model.shipped`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model.errors import ModelError
from model.network import Network
from model.shipped import NONDIGIT_SHA256
from model.weights import model_file_arrays, read_arrays, write_arrays

NONDIGIT_PATH = Path(__file__).with_name("nondigit.npz")
DIGIT, WRITING, MARK = 0, 1, 2
# The name of the check's network in its file.
CHECK = "check"


def load_check(path: Path = NONDIGIT_PATH, sha256: str = NONDIGIT_SHA256) -> Network:
    """The fitted check, after its file's sha256 is found to be `sha256`."""
    try:
        return Network.from_arrays(read_arrays(path, sha256), CHECK)
    except KeyError as exc:
        raise ModelError(f"model file {path} does not hold a digit/writing/mark check") from exc


def save_check(check: Any, metadata: dict[str, Any], path: Path) -> str:
    """Write the fitted check (a ReLU MLP) and `metadata` to `path`; return the file's sha256."""
    return write_arrays(path, model_file_arrays({CHECK: check}, metadata))
