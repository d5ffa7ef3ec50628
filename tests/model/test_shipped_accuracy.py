"""Accuracy floors of the shipped model: a model that reads worse than the one shipped fails.

The floors sit a little under the figures the README reports (`digitbot evaluate`, `python -m
bench.accuracy --glyphs`), so that a retrained model that loses ground is noticed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from training.data import mnist_benchmark
from training.evaluate import evaluate
from training.train import grids_of

HELDOUT_FLOOR = 0.955  # reported: 95.9 %
MNIST_GLYPHS_FLOOR = 0.98  # reported: 98.5 %


def test_held_out_load_digits_are_read_as_well_as_shipped(estimator: Any) -> None:
    result = evaluate(estimator)
    assert result.n == 797 and result.confusion.sum() == 797
    assert result.accuracy >= HELDOUT_FLOOR


@pytest.mark.slow  # reads 1,000 benchmark glyphs
def test_writers_never_seen_are_read_as_well_as_shipped(estimator: Any) -> None:
    glyphs, labels = mnist_benchmark()
    predicted = estimator.predict(grids_of(glyphs))
    assert len(labels) == 5000
    assert float(np.mean(predicted == labels)) >= MNIST_GLYPHS_FLOOR
