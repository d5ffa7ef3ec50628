"""Held-out evaluation on `load_digits()[1000:]`, the 797 images the original exercise tests on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from model.data import heldout_digits

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
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=LABELS, zero_division=0
    )
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
        accuracy=float(accuracy_score(labels, predicted)),
        n=len(labels),
        per_class=per_class,
        confusion=confusion_matrix(labels, predicted, labels=LABELS),
    )
