"""Retraining with the digits users confirmed: the allowed training data plus their labels.

The confirmed 8x8 grids join the training data the way load_digits' own images do (several
copies, and varied copies), so a few hundred of them weigh against tens of thousands of others.
`load_digits()[1000:]` stays out even when a user's grid happens to equal one of its images.

How much the confirmed digits help is measured twice: on the 797 held-out load_digits images,
and on the confirmed digits themselves by k-fold cross-validation, each fold scored by a model
that was trained without it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from model.store import StoredModel
from training.augment import varied_grid_ink
from training.data import heldout_digits
from training.evaluate import evaluate
from training.train import (
    Progress,
    TrainingConfig,
    TrainingSet,
    fit_classifier,
    fit_ensemble,
    grids_of,
    made_with,
    train_verifier,
    training_set,
)


@dataclass(frozen=True)
class FeedbackConfig:
    """How the confirmed digits enter training, and how their accuracy is estimated."""

    copies: int = 10  # as many as load_digits' images get (TrainingConfig.load_digits_copies)
    variants: int = 3
    folds: int = 5  # below 2: no cross-validation


@dataclass(frozen=True)
class FeedbackTraining:
    """The retrained model and what it achieves."""

    stored: StoredModel
    samples: int  # confirmed digits trained on
    dropped: int  # confirmed digits left out because they are held-out load_digits images
    heldout_accuracy: float
    cv_accuracy: float | None  # None without cross-validation (too few digits or folds < 2)
    cv_predictions: np.ndarray | None  # each confirmed digit as read by the model without it


def heldout_mask(grids: np.ndarray) -> np.ndarray:
    """Which of the `(n, 64)` grids are exactly one of the held-out load_digits images."""
    heldout, _ = heldout_digits()
    known = {bytes(row.astype(np.uint8)) for row in heldout}
    return np.array([bytes(row.astype(np.uint8)) in known for row in grids], dtype=bool)


def feedback_part(
    grids: np.ndarray, labels: np.ndarray, config: FeedbackConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The confirmed digits as training data: `copies` of each, then `variants` varied ones."""
    copies = np.tile(grids, (config.copies, 1)).astype(np.float64)
    varied = grids_of(
        [
            varied_grid_ink(grid.reshape((8, 8)), rng)
            for grid in grids
            for _ in range(config.variants)
        ]
    ).reshape((-1, 64))
    return (
        np.vstack([copies, varied]),
        np.concatenate([np.tile(labels, config.copies), np.repeat(labels, config.variants)]),
    )


def _folds(labels: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs, stratified by digit when every digit is common enough."""
    if folds < 2 or len(labels) < folds:
        return []
    counts = np.bincount(labels, minlength=10)
    if counts[counts > 0].min() >= folds:
        splitter: Any = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def _check(grids: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    grids = np.asarray(grids).reshape((len(grids), -1))
    labels = np.asarray(labels, dtype=np.int64)
    if grids.shape[1:] != (64,) or len(labels) != len(grids):
        raise ValueError("give (n, 64) grids and n labels")
    if len(grids) and (grids.min() < 0 or grids.max() > 16 or labels.min() < 0 or labels.max() > 9):
        raise ValueError("grids hold values 0..16 and labels digits 0..9")
    return grids, labels


def train_with_feedback(
    grids: np.ndarray,
    labels: np.ndarray,
    training: TrainingConfig | None = None,
    feedback: FeedbackConfig | None = None,
    progress: Progress = print,
    base: TrainingSet | None = None,
    verifier: Any = None,
) -> FeedbackTraining:
    """Train on the allowed data plus the confirmed digits `grids` `(n, 64)` with `labels`.

    `base` is the allowed training data (default: `training_set(training)`), and `verifier`
    the whole-digit check to ship with the model (default: trained anew; it does not depend on
    the labels).
    """
    training = training or TrainingConfig()
    feedback = feedback or FeedbackConfig()
    started = time.perf_counter()
    grids, labels = _check(grids, labels)
    heldout = heldout_mask(grids)
    if heldout.any():
        progress(f"leaving out {int(heldout.sum())} confirmed digits that are held-out images")
    grids, labels = grids[~heldout], labels[~heldout]
    base = base or training_set(training, progress)
    rng = np.random.default_rng(training.seed + 2)

    cv_predictions = None
    folds = _folds(labels, feedback.folds, training.seed)
    if folds:
        cv_predictions = np.zeros_like(labels)
        for number, (train_index, test_index) in enumerate(folds, start=1):
            progress(f"cross-validation fold {number} of {len(folds)}")
            extra, extra_labels = feedback_part(
                grids[train_index], labels[train_index], feedback, rng
            )
            # One network per fold, not the ensemble: a slightly low estimate, in a third of
            # the time.
            estimator = fit_classifier(
                training,
                np.vstack([base.grids, extra]),
                np.concatenate([base.labels, extra_labels]),
                progress,
            )
            cv_predictions[test_index] = estimator.predict(grids[test_index].astype(np.float64))
    cv_accuracy = float((cv_predictions == labels).mean()) if cv_predictions is not None else None

    extra, extra_labels = feedback_part(grids, labels, feedback, rng)
    progress(f"training on {len(base.labels)} grids and {len(extra_labels)} from confirmed digits")
    estimator = fit_ensemble(
        training,
        np.vstack([base.grids, extra]),
        np.concatenate([base.labels, extra_labels]),
        progress,
    )
    result = evaluate(estimator)
    verifier_accuracy = None
    if verifier is None:
        verifier, verifier_accuracy = train_verifier(training, progress)
    metadata = {
        **made_with(),
        "config": asdict(training),
        "feedback_config": asdict(feedback),
        "training_counts": base.counts | {"confirmed digits (copies and variants)": len(extra)},
        "training_sources": "load_digits()[:1000], MNIST's 60,000 training digits "
        "and digits the bot's users confirmed",
        "feedback_samples": len(labels),
        "heldout_accuracy": round(result.accuracy, 4),
        "feedback_cv_accuracy": None if cv_accuracy is None else round(cv_accuracy, 4),
        "verifier_benchmark_accuracy": None
        if verifier_accuracy is None
        else round(verifier_accuracy, 4),
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    return FeedbackTraining(
        stored=StoredModel(estimator=estimator, metadata=metadata, verifier=verifier),
        samples=len(labels),
        dropped=int(heldout.sum()),
        heldout_accuracy=result.accuracy,
        cv_accuracy=cv_accuracy,
        cv_predictions=cv_predictions,
    )
