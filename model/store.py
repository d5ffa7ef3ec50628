"""Saving and loading the digit model: its networks' weights as arrays, with its metadata.

A model file (`model.weights`) holds the classifier's weights (of each network of an
`Ensemble`: `classifier`, `classifier_2`, ...), the whole-digit verifier's when there is one,
and the metadata as JSON; loading it needs NumPy only, after its sha256 is found to
be the one the caller trusts (for the shipped model, the one recorded in `model/shipped.py`).
Training fits scikit-learn `MLPClassifier`s; `save_model` stores their weights
(`model.network.Network.of`), and `load_stored_model` gives them back as `Network`s, which read
and predict to the same numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.errors import ModelError
from model.network import Ensemble, Network
from model.shipped import SHIPPED_MODEL_SHA256
from model.weights import METADATA, file_sha256, model_file_arrays, read_arrays, write_arrays

__all__ = [
    "SHIPPED_MODEL_PATH",
    "StoredModel",
    "file_sha256",
    "load_model",
    "load_stored_model",
    "save_model",
]

SHIPPED_MODEL_PATH = Path(__file__).with_name("digitbot.npz")
CLASSIFIER, VERIFIER = "classifier", "verifier"


@dataclass(frozen=True)
class StoredModel:
    """A fitted classifier with the facts about how it was made."""

    # A `Network` or an `Ensemble` of them when loaded; fitted ReLU `MLPClassifier`s (or an
    # `Ensemble` of them) too when saved after training: predict_proba takes (n, 64) on 0..16.
    estimator: Any
    metadata: dict[str, Any]
    verifier: Any = None  # tells one whole digit from fragments (model.verifier), optional


def save_model(stored: StoredModel, path: Path) -> str:
    """Write the model to `path` and return the sha256 a loader must be given."""
    members = stored.estimator.members if isinstance(stored.estimator, Ensemble) else ()
    networks = {_member_name(k): member for k, member in enumerate(members)} or {
        CLASSIFIER: stored.estimator
    }
    if stored.verifier is not None:
        networks[VERIFIER] = stored.verifier
    return write_arrays(path, model_file_arrays(networks, stored.metadata))


def load_stored_model(path: Path | None = None, sha256: str | None = None) -> StoredModel:
    """Load a model whose file hash matches; the shipped one when no path is given."""
    if path is None:
        path, sha256 = SHIPPED_MODEL_PATH, SHIPPED_MODEL_SHA256
    arrays = read_arrays(path, sha256)
    try:
        estimator = _classifier(arrays)
        metadata = json.loads(str(arrays[METADATA]))
    except (KeyError, ValueError) as exc:
        raise ModelError(
            f"model file {path} is not a model `digitbot train` wrote (no {exc}); "
            "check MODEL_PATH or --model"
        ) from exc
    verifier = Network.from_arrays(arrays, VERIFIER) if f"{VERIFIER}.coef0" in arrays else None
    return StoredModel(estimator=estimator, metadata=metadata, verifier=verifier)


def _member_name(k: int) -> str:
    """The name of an ensemble's `k`-th network in a model file: the first is the classifier."""
    return CLASSIFIER if k == 0 else f"{CLASSIFIER}_{k + 1}"


def _classifier(arrays: dict[str, Any]) -> Any:
    """The classifier in a model file's arrays: a `Network`, or an `Ensemble` of several."""
    members = [Network.from_arrays(arrays, CLASSIFIER)]
    while f"{_member_name(len(members))}.coef0" in arrays:
        members.append(Network.from_arrays(arrays, _member_name(len(members))))
    return members[0] if len(members) == 1 else Ensemble(tuple(members))


def load_model(path: Path | None = None, sha256: str | None = None) -> Any:
    """Return the fitted classifier: `predict`/`predict_proba` take `(n, 64)` values on 0..16."""
    return load_stored_model(path, sha256).estimator
