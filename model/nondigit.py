"""Digit, writing or mark: the check that tells what the photo path found from digits.

The digit classifier reads anything as some digit: a handwritten word cut into pieces, the edge
of a sheet of paper. This small model sees each piece as the classifier does (its 8x8 grid and
the aspect of its ink, as `model.verifier.verifier_features`) and says whether it is a digit
(`DIGIT`), writing (`WRITING`: letters and words, handwritten or printed) or a mark (`MARK`: a
scribble, a blob, the bent edge of paper or of an object). `python -m model.train_nondigit`
makes it (see there); the fonts it is trained with are not needed here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from model.errors import ModelError

NONDIGIT_PATH = Path(__file__).with_name("nondigit.joblib")
# The sha256 of the shipped file (written by `python -m model.train_nondigit --ship`).
NONDIGIT_SHA256 = "190b0278bcdc24bdf2a0ec44d23a1525caf20bb04a729d2a34a5dc0e3f555aa5"
DIGIT, WRITING, MARK = 0, 1, 2


def load_check(path: Path = NONDIGIT_PATH, sha256: str = NONDIGIT_SHA256) -> Any:
    """The fitted check, after its file's sha256 is found to be `sha256`."""
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != sha256:
        raise ModelError(f"model file {path} has sha256 {actual}, expected {sha256}: refusing it")
    # Imported here, not with the module: worker processes read without them (model.network).
    import joblib
    from sklearn.neural_network import MLPClassifier

    payload = joblib.load(path)
    if not isinstance(payload, dict) or not isinstance(payload.get("check"), MLPClassifier):
        raise ModelError(f"model file {path} does not hold a digit/writing/mark check")
    return payload["check"]
