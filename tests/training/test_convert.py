"""Converting a model pickle of earlier versions to a model file of arrays, and pinning hashes."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import model.shipped
from model.errors import ModelError
from model.nondigit import load_check
from model.shipped import pin
from model.store import file_sha256, load_stored_model
from training.convert import convert


def _fitted(classes: int) -> tuple[MLPClassifier, np.ndarray]:
    rng = np.random.default_rng(classes)
    x = rng.uniform(0, 16, (40, 65))
    estimator = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(x, np.arange(40) % classes), x


def test_a_digit_model_pickle_converts_to_the_same_readings(tmp_path: Path) -> None:
    classifier, x = _fitted(10)
    verifier, _ = _fitted(2)
    old, new = tmp_path / "old.joblib", tmp_path / "new.npz"
    metadata = {"sklearn_version": "1.x", "heldout_accuracy": 0.9}
    joblib.dump({"estimator": classifier, "verifier": verifier, "metadata": metadata}, old)
    digest = convert(old, file_sha256(old), new)
    loaded = load_stored_model(new, digest)
    assert loaded.metadata == metadata
    np.testing.assert_array_equal(loaded.estimator.predict(x), classifier.predict(x))
    np.testing.assert_allclose(loaded.verifier.predict_proba(x), verifier.predict_proba(x))
    assert convert(old, file_sha256(old), tmp_path / "again.npz") == digest


def test_a_check_pickle_converts(tmp_path: Path) -> None:
    check, x = _fitted(3)
    old, new = tmp_path / "old.joblib", tmp_path / "new.npz"
    joblib.dump({"check": check, "fonts": ["a.ttf"], "made_with": {"sklearn_version": "1"}}, old)
    digest = convert(old, file_sha256(old), new, check=True)
    np.testing.assert_allclose(load_check(new, digest).predict_proba(x), check.predict_proba(x))


def test_a_pickle_with_another_hash_is_not_loaded(tmp_path: Path) -> None:
    old = tmp_path / "old.joblib"
    joblib.dump({"estimator": None}, old)
    with pytest.raises(ModelError, match="refusing it"):
        convert(old, "0" * 64, tmp_path / "new.npz")


def test_pin_rewrites_one_hash_and_leaves_the_other(tmp_path: Path) -> None:
    copy = tmp_path / "shipped.py"
    shutil.copy(model.shipped.__file__, copy)
    pin("NONDIGIT_SHA256", "ab" * 32, copy)
    text = copy.read_text()
    assert f'NONDIGIT_SHA256 = "{"ab" * 32}"' in text
    assert f'SHIPPED_MODEL_SHA256 = "{model.shipped.SHIPPED_MODEL_SHA256}"' in text
    with pytest.raises(ValueError, match="no line"):
        pin("OTHER_SHA256", "ab" * 32, copy)
