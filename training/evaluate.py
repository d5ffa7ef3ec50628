"""Held-out evaluation on `load_digits()[1000:]`, the 797 images the original exercise tests on.

The metrics are computed here with NumPy, as scikit-learn's `accuracy_score`, `confusion_matrix`
and `precision_recall_fscore_support` compute them: the bot reports them (/accuracy) without
importing scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from training.data import heldout_digits

LABELS = list(range(10))


@dataclass(frozen=True)
class ClassFigures:
    """Precision, recall and F1 for one digit, and how many test images show it."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """Accuracy, per-digit figures and the confusion matrix (rows: true, columns: predicted)."""

    accuracy: float
    n: int
    per_class: dict[int, ClassFigures]
    confusion: np.ndarray

    def as_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict: accuracy, n, per_class by digit, confusion as lists."""
        return {
            "accuracy": self.accuracy,
            "n": self.n,
            "per_class": {str(k): v.__dict__ for k, v in self.per_class.items()},
            "confusion": self.confusion.tolist(),
        }


def evaluate(estimator: Any) -> Evaluation:
    """Score a fitted estimator on the 797 held-out `load_digits` images."""
    grids, labels = heldout_digits()
    predicted = estimator.predict(grids)
    confusion = confusion_matrix(labels, predicted)
    hits = np.diag(confusion)
    support, said = confusion.sum(axis=1), confusion.sum(axis=0)
    # As scikit-learn's precision_recall_fscore_support(zero_division=0).
    precision, recall = _ratio(hits, said), _ratio(hits, support)
    f1 = _ratio(2 * hits, support + said)
    per_class = {
        digit: ClassFigures(
            precision=float(precision[digit]),
            recall=float(recall[digit]),
            f1=float(f1[digit]),
            support=int(support[digit]),
        )
        for digit in LABELS
    }
    return Evaluation(
        accuracy=float(np.mean(np.asarray(labels) == np.asarray(predicted))),
        n=len(labels),
        per_class=per_class,
        confusion=confusion,
    )


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Counts of each (true digit, predicted digit) pair: rows true, columns predicted."""
    confusion = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    np.add.at(
        confusion, (np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1
    )
    return confusion


def _ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """part / whole, 0 where whole is 0."""
    return np.asarray(np.divide(part, whole, out=np.zeros(len(part)), where=whole > 0))
