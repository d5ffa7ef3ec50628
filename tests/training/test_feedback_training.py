"""Retraining with confirmed digits, on a tiny configuration that trains in seconds."""

from __future__ import annotations

import numpy as np
import pytest

from training.data import heldout_digits, train_digits
from training.feedback_training import (
    FeedbackConfig,
    feedback_part,
    heldout_mask,
    train_with_feedback,
)
from training.train import TrainingConfig, TrainingSet

TINY = TrainingConfig(hidden_layer_sizes=(32,), alpha=1e-3, schedule=((1e-2, 30),))


@pytest.fixture(scope="module")
def base() -> TrainingSet:
    """A small stand-in for the allowed training data: 500 of load_digits' training images."""
    images, labels = train_digits()
    return TrainingSet(
        grids=images[:500].reshape((500, 64)).astype(np.float64),
        labels=labels[:500],
        counts={"load_digits[:500]": 500},
    )


def confirmed(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Confirmed digits as users would send them: training images drawn a little differently."""
    images, labels = train_digits()
    grids = images[500 : 500 + n].reshape((n, 64))
    return np.clip(grids + (grids > 0), 0, 16).astype(np.int64), labels[500 : 500 + n]


def test_feedback_part_adds_copies_and_variants() -> None:
    grids, labels = confirmed(5)
    config = FeedbackConfig(copies=2, variants=3)
    extra, extra_labels = feedback_part(grids, labels, config, np.random.default_rng(0))
    assert extra.shape == (25, 64)
    assert extra_labels.tolist() == [*labels, *labels, *np.repeat(labels, 3)]
    assert extra.min() >= 0 and extra.max() <= 16


def test_heldout_images_are_recognized() -> None:
    heldout, _ = heldout_digits()
    grids, _ = confirmed(3)
    mask = heldout_mask(np.vstack([grids, heldout[:2]]))
    assert mask.tolist() == [False, False, False, True, True]


def test_trains_reports_and_never_uses_the_heldout_images(base: TrainingSet) -> None:
    grids, labels = confirmed()
    heldout, heldout_labels = heldout_digits()
    # A user who photographed held-out images: they are left out, not trained on.
    grids = np.vstack([grids, heldout[:4]])
    labels = np.concatenate([labels, heldout_labels[:4]])
    messages: list[str] = []
    result = train_with_feedback(
        grids,
        labels,
        TINY,
        FeedbackConfig(copies=2, variants=1, folds=3),
        progress=messages.append,
        base=base,
        verifier="the current verifier",
    )
    assert (result.samples, result.dropped) == (60, 4)
    assert any("leaving out 4" in m for m in messages)
    assert sum("cross-validation fold" in m for m in messages) == 3
    assert 0.7 < result.heldout_accuracy <= 1.0
    assert result.cv_accuracy is not None and 0.5 < result.cv_accuracy <= 1.0
    assert result.cv_predictions is not None and len(result.cv_predictions) == 60
    stored = result.stored
    assert stored.verifier == "the current verifier"
    assert stored.metadata["feedback_samples"] == 60
    assert stored.metadata["heldout_accuracy"] == round(result.heldout_accuracy, 4)
    assert stored.estimator.predict(grids[:60].astype(np.float64)).shape == (60,)


def test_without_folds_there_is_no_cross_validation(base: TrainingSet) -> None:
    grids, labels = confirmed(8)
    result = train_with_feedback(
        grids,
        labels,
        TINY,
        FeedbackConfig(folds=0),
        progress=lambda _: None,
        base=base,
        verifier=object(),
    )
    assert result.cv_accuracy is None and result.cv_predictions is None


@pytest.mark.parametrize(
    ("grids", "labels"),
    [
        (np.zeros((2, 63)), np.zeros(2)),
        (np.zeros((2, 64)), np.zeros(3)),
        (np.full((2, 64), 17), np.zeros(2)),
        (np.zeros((2, 64)), np.array([0, 10])),
    ],
)
def test_bad_input_is_refused(grids: np.ndarray, labels: np.ndarray) -> None:
    with pytest.raises(ValueError):
        train_with_feedback(grids, labels, TINY, progress=lambda _: None, verifier=object())
