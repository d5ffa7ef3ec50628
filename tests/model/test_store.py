"""Persistence: round trip, the same bytes for the same model, and refusal of altered, missing,
foreign or pickled model files."""

from __future__ import annotations

import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from model.errors import ModelError
from model.network import Ensemble, Network
from model.shipped import SHIPPED_MODEL_SHA256
from model.store import (
    SHIPPED_MODEL_PATH,
    StoredModel,
    file_sha256,
    load_model,
    load_stored_model,
    save_model,
)
from model.weights import ENTRY_DATE, write_arrays
from training.train import TRAINING_STATE, for_prediction


def _fitted(classes: int, seed: int = 0) -> MLPClassifier:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 16, (60, 64)), np.arange(60) % classes
    estimator = MLPClassifier(hidden_layer_sizes=(8, 4), max_iter=30, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(x, y)


@pytest.fixture
def small_model() -> StoredModel:
    return StoredModel(
        estimator=_fitted(10), metadata={"note": "test", "n": 3}, verifier=_fitted(2, seed=1)
    )


def test_round_trip_reads_to_the_same_numbers(tmp_path: Path, small_model: StoredModel) -> None:
    path = tmp_path / "m.npz"
    digest = save_model(small_model, path)
    loaded = load_stored_model(path, digest)
    assert loaded.metadata == {"note": "test", "n": 3}
    x = np.random.default_rng(2).uniform(0, 16, (20, 64))
    for fitted, network in [
        (small_model.estimator, loaded.estimator),
        (small_model.verifier, loaded.verifier),
    ]:
        assert isinstance(network, Network)
        np.testing.assert_allclose(network.predict_proba(x), fitted.predict_proba(x), rtol=1e-12)
        np.testing.assert_array_equal(network.predict(x), fitted.predict(x))


def test_an_ensemble_is_saved_and_read_as_the_mean_of_its_networks(tmp_path: Path) -> None:
    members = (_fitted(10, seed=3), _fitted(10, seed=4), _fitted(10, seed=5))
    ensemble = Ensemble(members)
    x = np.random.default_rng(2).uniform(0, 16, (20, 64))
    mean = np.mean([m.predict_proba(x) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict_proba(x), mean, rtol=1e-12)
    path = tmp_path / "m.npz"
    loaded = load_stored_model(path, save_model(StoredModel(ensemble, {}), path)).estimator
    assert isinstance(loaded, Ensemble) and len(loaded.members) == 3
    assert all(isinstance(member, Network) for member in loaded.members)
    np.testing.assert_allclose(loaded.predict_proba(x), mean, rtol=1e-12)
    np.testing.assert_array_equal(loaded.predict(x), mean.argmax(axis=1))
    # Each network is stored as it is: the second one alone reads as the second member.
    second = Network.from_arrays(np.load(path), "classifier_2")
    np.testing.assert_allclose(second.predict_proba(x), members[1].predict_proba(x), rtol=1e-12)


def test_an_ensemble_needs_networks_of_the_same_classes() -> None:
    with pytest.raises(ValueError, match="same classes"):
        Ensemble((_fitted(10), _fitted(2)))
    with pytest.raises(ValueError, match="at least one"):
        Ensemble(())


def test_the_same_model_is_written_to_the_same_bytes(
    tmp_path: Path, small_model: StoredModel
) -> None:
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    assert save_model(small_model, first) == save_model(small_model, second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {entry.date_time for entry in archive.infolist()} == {ENTRY_DATE}


def test_a_model_without_a_verifier_loads_without_one(
    tmp_path: Path, small_model: StoredModel
) -> None:
    path = tmp_path / "m.npz"
    digest = save_model(StoredModel(small_model.estimator, {}), path)
    assert load_stored_model(path, digest).verifier is None


def test_only_relu_networks_are_saved(tmp_path: Path, small_model: StoredModel) -> None:
    tanh = MLPClassifier(hidden_layer_sizes=(4,), activation="tanh", max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tanh.fit(np.eye(64)[:4] * 16, [0, 1, 2, 3])
    with pytest.raises(ModelError, match="not a ReLU MLP"):
        save_model(StoredModel(tanh, {}), tmp_path / "m.npz")


def test_altered_file_is_refused(tmp_path: Path, small_model: StoredModel) -> None:
    path = tmp_path / "m.npz"
    digest = save_model(small_model, path)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="sha256"):
        load_model(path, digest)


@pytest.mark.parametrize("sha256", ["0" * 64, None])
def test_missing_file_is_refused(tmp_path: Path, sha256: str | None) -> None:
    with pytest.raises(ModelError, match=r"nope\.npz not found"):
        load_model(tmp_path / "nope.npz", sha256)


def test_a_file_that_is_no_model_is_refused_even_with_its_hash(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"not a model at all")
    with pytest.raises(
        ModelError, match="is not a model `digitbot train` wrote: models are arrays"
    ):
        load_model(path, file_sha256(path))


def test_arrays_that_are_no_model_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    digest = write_arrays(path, {"weights": np.zeros(3)})
    with pytest.raises(ModelError, match="is not a model `digitbot train` wrote"):
        load_model(path, digest)


class Booby:
    """Unpickling this creates a file: a stand-in for code a pickled model file would run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("as_zip", [False, True])
def test_a_pickle_is_never_unpickled_even_with_its_hash(tmp_path: Path, as_zip: bool) -> None:
    marker, path = tmp_path / "ran", tmp_path / "old.joblib"
    if as_zip:  # an .npz whose array is a pickle
        with zipfile.ZipFile(path, "w") as archive:
            buffer = archive.open("classifier.coef0.npy", "w")
            np.lib.format.write_array(buffer, np.array([Booby(marker)], dtype=object))
            buffer.close()
    else:  # a model file of earlier versions
        path.write_bytes(pickle.dumps(Booby(marker)))
    with pytest.raises(ModelError, match="not a model"):
        load_model(path, file_sha256(path))
    assert not marker.exists()


def test_custom_path_needs_a_hash(tmp_path: Path, small_model: StoredModel) -> None:
    path = tmp_path / "m.npz"
    save_model(small_model, path)
    with pytest.raises(ModelError, match="MODEL_SHA256"):
        load_model(path, None)


def test_shipped_model_is_three_networks_of_64_values_on_the_0_16_scale(estimator: Any) -> None:
    assert isinstance(estimator, Ensemble)
    assert len(estimator.members) == 3
    for member in estimator.members:
        assert isinstance(member, Network)
        assert member.coefs_[0].shape[0] == 64
    assert list(estimator.classes_) == list(range(10))
    assert file_sha256(SHIPPED_MODEL_PATH) == SHIPPED_MODEL_SHA256


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
    assert isinstance(estimator, Ensemble)
    assert estimator.predict(np.zeros((1, 64))).shape == (1,)
