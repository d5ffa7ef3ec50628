"""Fitting the MLP with input noise (`model.mlp`): a scikit-learn model that predicts like one."""

from __future__ import annotations

import io
import warnings
from dataclasses import replace
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.utils.validation import check_is_fitted

from model.mlp import fitted_mlp
from model.recognize import probabilities
from model.train import TrainingConfig, fit_classifier

SHORT = {"hidden_layer_sizes": (32,), "alpha": 1e-3, "schedule": ((1e-2, 20), (1e-3, 5))}


def _quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    bunch = load_digits()
    return bunch.data[:600], bunch.target[:600], bunch.data[600:900], bunch.target[600:900]


def _fit(x: np.ndarray, y: np.ndarray, **overrides: Any) -> MLPClassifier:
    settings: dict[str, Any] = {**SHORT, "input_noise": 1.5, "seed": 0, **overrides}
    return fitted_mlp(x, y, progress=_quiet, **settings)


def test_the_result_is_a_fitted_mlp_classifier_that_reads_digits(
    digits: tuple[np.ndarray, ...],
) -> None:
    x, y, test_x, test_y = digits
    model = _fit(x, y)
    assert isinstance(model, MLPClassifier)
    check_is_fitted(model)
    assert list(model.classes_) == list(range(10))
    assert [w.shape for w in model.coefs_] == [(64, 32), (32, 10)]
    assert model.n_iter_ == 25 == len(model.loss_curve_)
    assert (model.predict(test_x) == test_y).mean() > 0.85
    np.testing.assert_allclose(model.predict_proba(test_x).sum(axis=1), 1.0)
    # The recognizer's own arithmetic on coefs_ agrees with scikit-learn's.
    np.testing.assert_allclose(probabilities(model, test_x), model.predict_proba(test_x))


def test_the_fit_is_deterministic_and_the_seed_and_noise_matter(
    digits: tuple[np.ndarray, ...],
) -> None:
    x, y, _, _ = digits
    first, again = _fit(x, y), _fit(x, y)
    for a, b in zip(
        first.coefs_ + first.intercepts_, again.coefs_ + again.intercepts_, strict=True
    ):
        np.testing.assert_array_equal(a, b)
    other_seed = _fit(x, y, seed=1)
    assert not np.array_equal(first.coefs_[0], other_seed.coefs_[0])
    # Noisy inputs are harder to fit: the training loss stays higher than without noise.
    quiet = _fit(x, y, input_noise=0.0)
    assert quiet.loss_curve_[-1] < first.loss_curve_[-1]


def test_noise_makes_answers_steadier_under_small_changes_to_the_grid(
    digits: tuple[np.ndarray, ...],
) -> None:
    x, y, test_x, _ = digits
    rng = np.random.default_rng(5)
    nudged = np.clip(test_x + rng.integers(-2, 3, test_x.shape), 0, 16)

    def change(model: MLPClassifier) -> float:
        return float(np.abs(model.predict_proba(nudged) - model.predict_proba(test_x)).mean())

    assert change(_fit(x, y, input_noise=3.0)) < change(_fit(x, y, input_noise=0.0))


def test_the_model_survives_joblib_and_clone(digits: tuple[np.ndarray, ...]) -> None:
    x, y, test_x, _ = digits
    model = _fit(x, y)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict(test_x), model.predict(test_x))
    assert clone(model).get_params()["hidden_layer_sizes"] == (32,)


def test_labels_need_not_be_0_to_9_but_there_must_be_three_classes(
    digits: tuple[np.ndarray, ...],
) -> None:
    x, y, _, _ = digits
    keep = y >= 7
    model = _fit(x[keep], y[keep])
    assert list(model.classes_) == [7, 8, 9]
    assert set(model.predict(x[keep])) <= {7, 8, 9}
    assert (model.predict(x[keep]) == y[keep]).mean() > 0.9
    two = np.isin(y, (0, 1))
    with pytest.raises(ValueError, match="at least 3 classes"):
        _fit(x[two], y[two])


def test_training_fits_with_noise_only_when_the_config_asks(
    digits: tuple[np.ndarray, ...],
) -> None:
    x, y, _, _ = digits
    config = TrainingConfig(hidden_layer_sizes=(32,), alpha=1e-3, schedule=((1e-2, 5),))
    noisy = fit_classifier(replace(config, input_noise=3.0), x, y, progress=_quiet)
    np.testing.assert_array_equal(
        noisy.coefs_[0], _fit(x, y, input_noise=3.0, schedule=((1e-2, 5),)).coefs_[0]
    )
    # Without noise, scikit-learn's own fit, as the shipped model was made.
    plain = fit_classifier(config, x, y, progress=_quiet)
    reference = MLPClassifier(
        hidden_layer_sizes=(32,), alpha=1e-3, random_state=0, learning_rate_init=1e-2, max_iter=5
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference.fit(x, y)
    np.testing.assert_array_equal(plain.coefs_[0], reference.coefs_[0])
