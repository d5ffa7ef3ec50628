"""Accuracy floors of the shipped model: a model that reads worse than the one shipped fails.

The floors sit a little under the figures the README reports (`digitbot evaluate`, `python -m
bench.accuracy --glyphs`), so that a retrained model that loses ground is noticed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model.data import mnist_benchmark
from model.evaluate import evaluate
from model.train import grids_of

HELDOUT_FLOOR = 0.97  # reported: 97.5 %
MNIST_GLYPHS_FLOOR = 0.98  # reported: 98.3 %


def test_held_out_load_digits_are_read_as_well_as_shipped(estimator: Any) -> None:
    result = evaluate(estimator)
    assert result.n == 797 and result.confusion.sum() == 797
    assert result.accuracy >= HELDOUT_FLOOR


def test_writers_never_seen_are_read_as_well_as_shipped(estimator: Any) -> None:
    glyphs, labels = mnist_benchmark()
    predicted = estimator.predict(grids_of(glyphs))
    assert len(labels) == 5000
    assert float(np.mean(predicted == labels)) >= MNIST_GLYPHS_FLOOR
