"""Image bytes → the digits they show, with confidences and what the model saw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from model.preprocess import WORK_SIDE, Box, digit_images

# Below this probability the answer is given as a guess, with the runner-up.
UNSURE_BELOW = 0.80


@dataclass(frozen=True)
class DigitReading:
    """One digit as read: the answer, the runner-up, and the grid and crop behind them."""

    digit: int
    confidence: float
    runner_up: int
    runner_up_confidence: float
    box: Box
    grid: np.ndarray  # (8, 8) values 0..16
    ink: np.ndarray  # the crop the grid was made from, ink 0..1

    @property
    def unsure(self) -> bool:
        """Whether the model's confidence is too low to state the digit as fact."""
        return self.confidence < UNSURE_BELOW


@dataclass(frozen=True)
class Reading:
    """All digits found in one image, left to right; empty when there is none."""

    digits: tuple[DigitReading, ...]

    @property
    def text(self) -> str:
        """The digits as a string, e.g. "2025"; "" when no digit was found."""
        return "".join(str(d.digit) for d in self.digits)

    @property
    def confidence(self) -> float:
        """The confidence that every digit is right (the product of their confidences)."""
        return float(np.prod([d.confidence for d in self.digits])) if self.digits else 0.0

    @property
    def unsure(self) -> bool:
        """Whether any digit is read with low confidence."""
        return any(d.unsure for d in self.digits)


class Recognizer:
    """Reads digits from image bytes with a fitted estimator taking `(n, 64)` grids on 0..16."""

    def __init__(self, estimator: Any, work_side: int = WORK_SIDE) -> None:
        self.estimator = estimator
        self.work_side = work_side

    def read(self, data: bytes) -> Reading:
        """Return the digits in the image; raises `model.errors.ImageError` for bad input."""
        found = digit_images(data, self.work_side)
        if not found:
            return Reading(digits=())
        grids = np.stack([f.grid.reshape(-1) for f in found]).astype(np.float64)
        probabilities = self.estimator.predict_proba(grids)
        classes = np.asarray(self.estimator.classes_)
        order = np.argsort(probabilities, axis=1)
        readings = []
        for found_digit, probs, ranked in zip(found, probabilities, order, strict=True):
            best, second = ranked[-1], ranked[-2]
            readings.append(
                DigitReading(
                    digit=int(classes[best]),
                    confidence=float(probs[best]),
                    runner_up=int(classes[second]),
                    runner_up_confidence=float(probs[second]),
                    box=found_digit.box,
                    grid=found_digit.grid,
                    ink=found_digit.ink,
                )
            )
        return Reading(digits=tuple(readings))
