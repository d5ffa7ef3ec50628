"""Persistence: round trip, and refusal of altered, missing or foreign model files."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sklearn.base
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from model.errors import ModelError
from model.store import (
    SHIPPED_MODEL_PATH,
    StoredModel,
    file_sha256,
    load_model,
    load_stored_model,
    save_model,
)
from model.train import TRAINING_STATE, for_prediction


@pytest.fixture
def small_model() -> StoredModel:
    estimator = MLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0)
    estimator.fit([[0] * 64, [16] * 64], [0, 1])
    return StoredModel(estimator=estimator, metadata={"note": "test"})


def test_round_trip_with_the_printed_hash(tmp_path: Path, small_model: StoredModel) -> None:
    path = tmp_path / "m.joblib"
    digest = save_model(small_model, path)
    loaded = load_stored_model(path, digest)
    assert loaded.metadata == {"note": "test"}
    assert list(loaded.estimator.predict([[16] * 64])) == [1]


def test_altered_file_is_refused(tmp_path: Path, small_model: StoredModel) -> None:
    path = tmp_path / "m.joblib"
    digest = save_model(small_model, path)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="sha256"):
        load_model(path, digest)


@pytest.mark.parametrize("sha256", ["0" * 64, None])
def test_missing_file_is_refused(tmp_path: Path, sha256: str | None) -> None:
    with pytest.raises(ModelError, match=r"nope\.joblib not found"):
        load_model(tmp_path / "nope.joblib", sha256)


@pytest.mark.parametrize("content", [b"not a model at all", b"\x80\x04K\x01."])
def test_a_file_that_is_no_model_is_refused_even_with_its_hash(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)  # garbage, and a valid pickle of the number 1
    with pytest.raises(ModelError, match="is not a model"):
        load_model(path, file_sha256(path))


def test_custom_path_needs_a_hash(tmp_path: Path, small_model: StoredModel) -> None:
    path = tmp_path / "m.joblib"
    save_model(small_model, path)
    with pytest.raises(ModelError, match="MODEL_SHA256"):
        load_model(path, None)


def test_other_scikit_learn_version_is_refused(
    tmp_path: Path, small_model: StoredModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.joblib"
    with monkeypatch.context() as patch:
        patch.setattr(sklearn.base, "__version__", "0.0.1")
        digest = save_model(small_model, path)
    with pytest.raises(ModelError, match=r"scikit-learn 0\.0\.1"):
        load_model(path, digest)


def test_shipped_model_takes_64_values_on_the_0_16_scale(estimator: Any) -> None:
    assert isinstance(estimator, MLPClassifier)
    assert estimator.n_features_in_ == 64
    assert list(estimator.classes_) == list(range(10))
    assert not [name for name in TRAINING_STATE if hasattr(estimator, name)]


def test_training_state_is_dropped_without_changing_predictions() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 16, (60, 64)), np.arange(60) % 3
    estimator = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(x, y)
        assert all(hasattr(estimator, name) for name in TRAINING_STATE)
        before = estimator.predict_proba(x)
        slim = for_prediction(estimator)
        assert not [name for name in TRAINING_STATE if hasattr(slim, name)]
        np.testing.assert_array_equal(slim.predict_proba(x), before)
        slim.set_params(warm_start=True).fit(x, y)  # fits on, with a fresh optimizer


def test_shipped_model_metadata_names_its_making() -> None:
    metadata = load_stored_model().metadata
    assert metadata["sklearn_version"] == sklearn.__version__
    assert "load_digits()[:1000]" in metadata["training_sources"]
    assert SHIPPED_MODEL_PATH.stat().st_size < 2_000_000


def test_load_model_is_importable_from_the_package() -> None:
    import model

    estimator = model.load_model()
    assert isinstance(estimator, MLPClassifier)
    assert estimator.predict([[0] * 64]).shape == (1,)
