"""The data the model learns from and is judged on, with the split that keeps it honest.

- `load_digits()[:1000]`: training (the original exercise's split).
- `load_digits()[1000:]`: the 797 held-out images that `/accuracy` and `digitbot evaluate` report.
  Never trained on.
- MNIST's 60,000 training digits (539 writers): training, all of them.
- MNIST's test digits [:5000] (249 writers, none in the training set): the benchmark of
  writers never seen, as 8x8 glyphs and rendered as photos. Nothing here reads the test
  digits [5000:]: they stay for judging the project.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
from pathlib import Path

import numpy as np

from training.mnist import mnist_folder, read_mnist

LOAD_DIGITS_TRAIN = slice(0, 1000)
LOAD_DIGITS_HELDOUT = slice(1000, None)
MNIST_BENCHMARK = 5000  # MNIST test digits [0:5000]


def digits_csv() -> Path:
    """The file `sklearn.datasets.load_digits` reads, found without importing scikit-learn.

    `find_spec` of a top-level package locates it without running it: the bot answers
    /accuracy and /samples from these images, and its processes do without scikit-learn's
    100 MB.
    """
    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            return path
    raise FileNotFoundError(
        "scikit-learn's datasets/data/digits.csv.gz: is scikit-learn installed?"
    )


@functools.cache
def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    """`load_digits()`'s `(1797, 8, 8)` images and labels, read as it reads them."""
    with gzip.open(digits_csv(), mode="rt", encoding="utf-8") as file:
        table = np.loadtxt(file, delimiter=",")
    table.flags.writeable = False  # cached: shared by every caller
    return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(int)


def heldout_digits() -> tuple[np.ndarray, np.ndarray]:
    """Return the 797 held-out `load_digits` images as `(n, 64)` values 0..16 and labels."""
    images, target = _load_digits()
    n = len(images)
    return images.reshape((n, -1))[LOAD_DIGITS_HELDOUT], target[LOAD_DIGITS_HELDOUT]


def train_digits() -> tuple[np.ndarray, np.ndarray]:
    """Return the 1,000 training `load_digits` images as `(n, 8, 8)` and labels."""
    images, target = _load_digits()
    return images[LOAD_DIGITS_TRAIN], target[LOAD_DIGITS_TRAIN]


def _ink(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / np.float32(255.0)


def mnist_train() -> tuple[np.ndarray, np.ndarray]:
    """Return MNIST's 60,000 training digits as `(n, 28, 28)` ink 0..1 and labels."""
    images, labels = read_mnist(mnist_folder(), "train")
    return _ink(images), labels


def mnist_benchmark() -> tuple[np.ndarray, np.ndarray]:
    """Return MNIST's test digits [:5000] as `(n, 28, 28)` ink 0..1 and labels."""
    images, labels = read_mnist(mnist_folder(), "test")
    return _ink(images[:MNIST_BENCHMARK]), labels[:MNIST_BENCHMARK]
