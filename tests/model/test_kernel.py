"""The similarity layer (`model.kernel`) and the model it makes with an MLP after it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.pipeline import Pipeline

from model.kernel import RBFFeatures, rbf
from model.recognize import probabilities
from model.train import TrainingConfig, fit_classifier, for_prediction


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    bunch = load_digits()
    return bunch.data[:400], bunch.target[:400]


def test_rbf_is_the_kernel_of_each_pair() -> None:
    rng = np.random.default_rng(0)
    x, landmarks = rng.integers(0, 17, (5, 64)), rng.integers(0, 17, (3, 64))
    expected = [[np.exp(-0.002 * np.sum((a - b) ** 2)) for b in landmarks] for a in x]
    np.testing.assert_allclose(rbf(x.astype(float), landmarks.astype(float), 0.002), expected)
    assert rbf(x.astype(float), x[:1].astype(float), 0.002)[0, 0] == pytest.approx(1.0)


def test_landmarks_are_training_rows_and_features_standardized(
    digits: tuple[np.ndarray, np.ndarray],
) -> None:
    x, _ = digits
    features = RBFFeatures(n_landmarks=50, random_state=3).fit(x)
    assert features.landmarks_.shape == (50, 64)
    rows = {row.tobytes() for row in x}
    assert all(landmark.tobytes() in rows for landmark in features.landmarks_)
    out = features.transform(x)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-6)
    # More landmarks than rows: every row once.
    assert len(RBFFeatures(n_landmarks=1000).fit(x[:30]).landmarks_) == 30


def test_transform_checks_its_input(digits: tuple[np.ndarray, np.ndarray]) -> None:
    features = RBFFeatures(n_landmarks=20).fit(digits[0])
    with pytest.raises(ValueError, match="64 features"):
        features.transform(np.zeros((2, 10)))


def test_a_kernel_model_is_a_pipeline_ending_in_an_mlp(
    digits: tuple[np.ndarray, np.ndarray],
) -> None:
    x, y = digits
    config = replace(
        TrainingConfig(), landmarks=100, hidden_layer_sizes=(32,), schedule=((1e-3, 60),)
    )
    model = for_prediction(fit_classifier(config, x[:300], y[:300], progress=lambda _: None))
    assert isinstance(model, Pipeline) and type(model[-1]).__name__ == "MLPClassifier"
    assert not hasattr(model[-1], "_optimizer")  # training state dropped
    held_out = x[300:]
    assert (model.predict(held_out) == y[300:]).mean() > 0.8
    # The recognizer asks any model other than a plain MLP the usual way.
    np.testing.assert_allclose(probabilities(model, held_out), model.predict_proba(held_out))
