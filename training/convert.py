"""Convert a model pickle of earlier versions (`.joblib`) to a model file of arrays (`.npz`).

    python -m training.convert OLD.joblib SHA256 NEW.npz           # a digit model
    python -m training.convert OLD.joblib SHA256 NEW.npz --check   # the digit/writing/mark check

The pickle is loaded (with joblib and scikit-learn, after its sha256 is found to be SHA256) and
its networks' weights are written as they are, so the new file reads exactly as the old one.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
from sklearn.exceptions import InconsistentVersionWarning

from model.errors import ModelError
from model.nondigit import save_check
from model.store import StoredModel, save_model
from model.weights import file_sha256


def load_pickle(path: Path, sha256: str) -> dict[str, Any]:
    """The payload of a `.joblib` model file whose sha256 is `sha256`."""
    actual = file_sha256(path)
    if actual != sha256.lower():
        raise ModelError(f"model file {path} has sha256 {actual}, expected {sha256}: refusing it")
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        payload = joblib.load(path)
    if not isinstance(payload, dict):
        raise ModelError(f"{path} holds a {type(payload).__name__}, not a model payload")
    return payload


def convert(old: Path, sha256: str, new: Path, check: bool = False) -> str:
    """Write `old`'s networks to `new` as arrays; return the new file's sha256."""
    payload = load_pickle(old, sha256)
    if check:
        metadata = {"fonts": list(payload["fonts"]), **dict(payload["made_with"])}
        return save_check(payload["check"], metadata, new)
    stored = StoredModel(
        estimator=payload["estimator"],
        metadata=dict(payload.get("metadata", {})),
        verifier=payload.get("verifier"),
    )
    return save_model(stored, new)


def main(argv: Sequence[str] | None = None) -> None:
    """Convert one file and print the new file's sha256."""
    parser = argparse.ArgumentParser(prog="python -m training.convert", description=__doc__)
    parser.add_argument("old", type=Path, help="the .joblib file")
    parser.add_argument("sha256", help="its sha256")
    parser.add_argument("new", type=Path, help="the .npz file to write")
    parser.add_argument("--check", action="store_true", help="a digit/writing/mark check")
    args = parser.parse_args(argv)
    digest = convert(args.old, args.sha256, args.new, args.check)
    print(f"wrote {args.new}, sha256 {digest}")


if __name__ == "__main__":
    main()
