"""Training the shipped model: the data story from raw sources to a fitted `MLPClassifier`.

Load the allowed sources (`load_digits()[:1000]` and MNIST's 60,000 training digits), normalize
every MNIST glyph through the same NIST-style steps as photos, add varied copies, and fit with
fixed seeds, one epoch at a time so that progress and the time left can be shown.
`load_digits()[1000:]` and MNIST's test digits never enter the training data.
"""

from __future__ import annotations

import platform
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from model.network import Ensemble
from model.normalize import optdigits_grid_and_aspect, to_optdigits_grid
from model.store import StoredModel
from model.verifier import verifier_features
from training import data
from training.augment import varied_glyph, varied_grid_ink
from training.evaluate import evaluate
from training.segment import segmentation_examples

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides the trained model; the defaults make the shipped one.

    The network's size, the load_digits weight and the MNIST variants were chosen by
    cross-validation on training writers (`bench.crossval`, docs/training.md).
    """

    seed: int = 0
    # A small weights' penalty and 512 units: of the settings cross-validated, the one that read
    # held-out training writers better than the first pass's on all three measures (load_digits
    # slice, MNIST block, varied MNIST block).
    hidden_layer_sizes: tuple[int, ...] = (512,)
    alpha: float = 1e-4
    # The classifier is the mean of this many such networks, fitted from the seeds seed,
    # seed + 1, ... (`model.network.Ensemble`): three or five read held-out training writers
    # better than one on all three measures; five a little better still on the MNIST block
    # and its varied copies, at 5/3 of the training time (docs/training.md).
    members: int = 3
    # Adam epochs at each learning rate: the late small steps settle the weights, which makes
    # accuracy far less dependent on the seed than one long run at a fixed rate.
    schedule: tuple[tuple[float, int], ...] = ((1e-3, 24), (1e-4, 8), (1e-5, 4))
    # load_digits' 1,000 images against 60,000 MNIST digits and their variants: each image
    # this many times, plus its varied copies.
    load_digits_copies: int = 10
    load_digits_variants: int = 3
    # Varied copies of each MNIST digit (rotated, distorted, other pens): with three networks,
    # four read both folds' MNIST blocks and varied blocks better than two, and their load_digits
    # slices alike (docs/training.md, "Third pass").
    mnist_variants: int = 4
    verifier_examples: int = 30000
    verifier_hidden_layer_sizes: tuple[int, ...] = (64,)
    # The whole-digit check learns from the first this many of each digit of MNIST's training
    # digits (0: all 60,000). All of them read the photo benchmark's numbers no better (90.2 %
    # against 90.1 %, docs/training.md), so it keeps the 4,000 it learnt from before.
    verifier_glyphs_per_digit: int = 400


@dataclass(frozen=True)
class TrainingSet:
    """Flattened grids `(n, 64)` on 0..16, their labels, and how many came from each source.

    The grids are float32 (their values are small integers, exact in it): the MLP then learns in
    float32, about twice as fast as in float64.
    """

    grids: np.ndarray
    labels: np.ndarray
    counts: dict[str, int]


def duration(seconds: float) -> str:
    """A duration as people say it: "45 s", "3 min 20 s"."""
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


class Meter:
    """Reports `done` of `total` steps as a bar with the time left, at most every few seconds."""

    def __init__(self, what: str, total: int, progress: Progress, every: float = 5.0):
        self.what, self.total, self.progress, self.every = what, total, progress, every
        self.started = self.last = time.perf_counter()
        self.reported = 0

    def __call__(self, done: int, note: str = "") -> None:
        now = time.perf_counter()
        if done == self.reported or (done < self.total and now - self.last < self.every):
            return
        self.last, self.reported = now, done
        filled = 20 * done // self.total
        left = (now - self.started) * (self.total - done) / max(done, 1)
        when = f"about {duration(left)} left" if done < self.total else duration(now - self.started)
        self.progress(
            f"{self.what} [{'#' * filled}{'.' * (20 - filled)}] {done}/{self.total}{note}, {when}"
        )


def grids_of(inks: Iterable[np.ndarray], meter: Callable[[int], None] | None = None) -> np.ndarray:
    """Normalize each ink image to an 8x8 grid and return them flattened, `(n, 64)`.

    The inks may come one by one from a generator, so that varied copies are never all in memory.
    """
    rows = []
    for n, ink in enumerate(inks, start=1):
        rows.append(to_optdigits_grid(ink).reshape(-1))
        if meter is not None and n % 1000 == 0:
            meter(n)
    return np.array(rows, dtype=np.float64).reshape((-1, 64))


def _variants(
    glyphs: np.ndarray, rng: np.random.Generator, count: int, vary: Callable[..., np.ndarray]
) -> Iterator[np.ndarray]:
    for glyph in glyphs:
        for _ in range(count):
            yield vary(glyph, rng)


def training_set(
    config: TrainingConfig,
    progress: Progress = print,
    digits: tuple[np.ndarray, np.ndarray] | None = None,
    mnist: tuple[np.ndarray, np.ndarray] | None = None,
) -> TrainingSet:
    """Build the training data from the allowed sources, with varied copies.

    For cross-validation, `digits` replaces `load_digits()[:1000]` (`(n, 8, 8)` images and
    labels) and `mnist` the MNIST training glyphs (`(n, 28, 28)` ink and labels).
    """
    rng = np.random.default_rng(config.seed)
    digit_images, digit_labels = digits if digits is not None else data.train_digits()
    glyphs, glyph_labels = mnist if mnist is not None else data.mnist_train()
    n_glyphs, n_digits = len(glyphs), len(digit_images)
    total = n_glyphs * (1 + config.mnist_variants) + n_digits * config.load_digits_variants
    meter = Meter("normalizing to 8x8", total, progress)
    mnist_grids = grids_of(glyphs, meter)
    done = len(mnist_grids)
    digit_variants = grids_of(
        _variants(digit_images, rng, config.load_digits_variants, varied_grid_ink),
        lambda n: meter(done + n),
    )
    done += len(digit_variants)
    mnist_variants = grids_of(
        _variants(glyphs, rng, config.mnist_variants, varied_glyph), lambda n: meter(done + n)
    )
    meter(total)
    parts = [
        (
            "load_digits[:1000]",
            np.tile(digit_images.reshape((n_digits, -1)), (config.load_digits_copies, 1)),
            np.tile(digit_labels, config.load_digits_copies),
        ),
        ("mnist", mnist_grids, glyph_labels),
        (
            "load_digits variants",
            digit_variants,
            np.repeat(digit_labels, config.load_digits_variants),
        ),
        ("mnist variants", mnist_variants, np.repeat(glyph_labels, config.mnist_variants)),
    ]
    return TrainingSet(
        grids=np.vstack([p[1] for p in parts]).astype(np.float32),
        labels=np.concatenate([p[2] for p in parts]),
        counts={name: len(labels) for name, _, labels in parts},
    )


def fit_classifier(
    config: TrainingConfig, grids: np.ndarray, labels: np.ndarray, progress: Progress = print
) -> MLPClassifier:
    """Fit the digit classifier on `(n, 64)` grids with the config's learning-rate schedule.

    One epoch per `partial_fit`, so that each can be reported; a fresh Adam starts at each
    learning rate, as a new `fit` would. The shuffles come from one `RandomState` made from the
    seed, so a run is repeatable yet no two epochs see the same order.
    """
    estimator = MLPClassifier(
        hidden_layer_sizes=config.hidden_layer_sizes,
        alpha=config.alpha,
        random_state=np.random.RandomState(config.seed),
    )
    classes = np.unique(labels)
    meter = Meter("fitting", sum(epochs for _, epochs in config.schedule), progress, every=0.0)
    done = 0
    for learning_rate, epochs in config.schedule:
        estimator.set_params(learning_rate_init=learning_rate)
        if hasattr(estimator, "_optimizer"):
            del estimator._optimizer
        for _ in range(epochs):
            estimator.partial_fit(grids, labels, classes=classes)
            done += 1
            meter(done, f" epochs (rate {learning_rate:g}, loss {estimator.loss_:.4f})")
    # The stored model names its seed, not the generator's state after training.
    estimator.set_params(random_state=config.seed)
    return estimator


def fit_ensemble(
    config: TrainingConfig, grids: np.ndarray, labels: np.ndarray, progress: Progress = print
) -> Any:
    """The digit classifier: `config.members` networks fitted as `fit_classifier` does, from
    the seeds `config.seed`, `config.seed + 1`, ...; an `Ensemble` of them, or the one
    `MLPClassifier` when `config.members` is 1."""
    fitted = []
    for k in range(config.members):
        if config.members > 1:
            progress(f"network {k + 1} of {config.members}")
        member = replace(config, seed=config.seed + k)
        fitted.append(fit_classifier(member, grids, labels, progress))
    return fitted[0] if len(fitted) == 1 else Ensemble(tuple(fitted))


# What only further fitting uses: Adam's moment estimates and early stopping's copy of the best
# weights. Each is as big as the weights, so together they were most of the model file.
TRAINING_STATE = ("_optimizer", "_best_coefs", "_best_intercepts")


def for_prediction(estimator: Any) -> Any:
    """Drop the training-only state (of each network of an `Ensemble`); predictions are
    unchanged, a later fit starts afresh."""
    if isinstance(estimator, Ensemble):
        return Ensemble(tuple(for_prediction(member) for member in estimator.members))
    for name in TRAINING_STATE:
        if hasattr(estimator, name):
            delattr(estimator, name)
    return estimator


def made_with() -> dict[str, str]:
    """The library versions a model file depends on (no date: the same code makes the same file)."""
    return {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
    }


def train(config: TrainingConfig | None = None, progress: Progress = print) -> StoredModel:
    """Fit the classifier and return it with its metadata, including held-out accuracy."""
    config = config or TrainingConfig()
    started = time.perf_counter()
    train_data = training_set(config, progress)
    networks = f"{config.members} x " if config.members > 1 else ""
    progress(f"training {networks}MLP{config.hidden_layer_sizes} on {len(train_data.labels)} grids")
    estimator = fit_ensemble(config, train_data.grids, train_data.labels, progress)
    result = evaluate(estimator)
    progress(f"held-out accuracy on load_digits[1000:]: {result.accuracy:.4f}")
    verifier, verifier_accuracy = train_verifier(config, progress)
    progress(f"trained in {duration(time.perf_counter() - started)}")
    metadata = {
        **made_with(),
        "config": asdict(config),
        "training_counts": train_data.counts,
        "training_sources": "load_digits()[:1000] and MNIST's 60,000 training digits",
        "heldout_accuracy": round(result.accuracy, 4),
        "verifier_benchmark_accuracy": round(verifier_accuracy, 4),
    }
    return StoredModel(
        estimator=for_prediction(estimator), metadata=metadata, verifier=for_prediction(verifier)
    )


def _verifier_set(
    glyphs: np.ndarray, rng: np.random.Generator, count: int
) -> tuple[np.ndarray, np.ndarray]:
    inks, labels = segmentation_examples(glyphs, rng, count)
    normalized = [optdigits_grid_and_aspect(ink) for ink in inks]
    features = verifier_features(
        np.array([grid for grid, _ in normalized]), np.array([aspect for _, aspect in normalized])
    )
    return features, labels


def train_verifier(
    config: TrainingConfig, progress: Progress = print
) -> tuple[MLPClassifier, float]:
    """Fit the whole-digit check; return it with its accuracy on the benchmark writers' examples."""
    rng = np.random.default_rng(config.seed + 1)
    glyphs, labels = data.mnist_train()
    if config.verifier_glyphs_per_digit:
        n = config.verifier_glyphs_per_digit
        glyphs = glyphs[np.concatenate([np.flatnonzero(labels == d)[:n] for d in range(10)])]
    progress(f"making {config.verifier_examples} whole-digit / fragment examples")
    features, labels = _verifier_set(glyphs, rng, config.verifier_examples)
    progress(f"training the whole-digit check MLP{config.verifier_hidden_layer_sizes}")
    verifier = MLPClassifier(
        hidden_layer_sizes=config.verifier_hidden_layer_sizes,
        alpha=1e-3,
        max_iter=200,
        random_state=config.seed,
    )
    with warnings.catch_warnings():
        # It stops after max_iter epochs on purpose; that is not a failure to converge.
        warnings.simplefilter("ignore", ConvergenceWarning)
        verifier.fit(features, labels)
    benchmark, _ = data.mnist_benchmark()
    test_features, test_labels = _verifier_set(benchmark, rng, config.verifier_examples // 10)
    accuracy = float((verifier.predict(test_features) == test_labels).mean())
    progress(f"whole-digit check accuracy on the benchmark writers' examples: {accuracy:.4f}")
    return verifier, accuracy
