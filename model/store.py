"""Saving and loading the trained model, treating the pickle as code.

A joblib file is executable on load, so the loader checks its sha256 against a value the caller
trusts (for the shipped model, the one recorded in `model/shipped.py`) before unpickling, and
refuses a file made by another scikit-learn release.

joblib and scikit-learn are imported where a pickle is written or loaded, not with this module:
worker processes import the reading path, and read with the weights as arrays
(`model.network`), without them.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.errors import ModelError
from model.shipped import SHIPPED_MODEL_SHA256

SHIPPED_MODEL_PATH = Path(__file__).with_name("digitbot.joblib")


@dataclass(frozen=True)
class StoredModel:
    """A fitted estimator with the facts about how it was made."""

    estimator: Any  # MLPClassifier or Pipeline ending in one: predict takes (n, 64) on 0..16
    metadata: dict[str, Any]
    verifier: Any = None  # tells one whole digit from fragments (model.verifier), optional


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_model(stored: StoredModel, path: Path) -> str:
    """Write the model to `path` and return the sha256 a loader must be given."""
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "estimator": stored.estimator,
        "verifier": stored.verifier,
        "metadata": stored.metadata,
    }
    joblib.dump(payload, path, compress=3)
    return file_sha256(path)


def load_stored_model(path: Path | None = None, sha256: str | None = None) -> StoredModel:
    """Load a model whose file hash matches; the shipped one when no path is given."""
    if path is None:
        path, sha256 = SHIPPED_MODEL_PATH, SHIPPED_MODEL_SHA256
    if not path.is_file():
        raise ModelError(f"model file {path} not found")
    if not sha256:
        raise ModelError(f"no sha256 given for {path}: set MODEL_SHA256 to the value train printed")
    actual = file_sha256(path)
    if actual != sha256.lower():
        raise ModelError(f"model file {path} has sha256 {actual}, expected {sha256}: refusing it")
    import joblib
    import sklearn
    from sklearn.exceptions import InconsistentVersionWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            payload = joblib.load(path)
        except InconsistentVersionWarning as exc:
            raise ModelError(
                f"model file {path} was made with scikit-learn {exc.original_sklearn_version}, "
                f"this is {sklearn.__version__}: retrain it with `digitbot train`"
            ) from exc
        except Exception as exc:
            # The hash matched, so this is the file meant, but not a joblib file at all (or
            # one for another Python): unpickling fails in many ways.
            raise ModelError(
                f"model file {path} is not a model `digitbot train` wrote "
                f"({type(exc).__name__}); check MODEL_PATH or --model"
            ) from exc
    if not isinstance(payload, dict) or "estimator" not in payload:
        raise ModelError(
            f"model file {path} is not a model `digitbot train` wrote "
            f"(it holds a {type(payload).__name__}); check MODEL_PATH or --model"
        )
    return StoredModel(
        estimator=payload["estimator"],
        metadata=dict(payload.get("metadata", {})),
        verifier=payload.get("verifier"),
    )


def load_model(path: Path | None = None, sha256: str | None = None) -> Any:
    """Return the fitted estimator: `predict`/`predict_proba` take `(n, 64)` values on 0..16."""
    return load_stored_model(path, sha256).estimator
