"""Cross-validation of training configurations on training writers only.

    python -m bench.crossval --vary mnist_variants=0,2,4 --folds 0,1 --quick

Three folds: fold k holds out the k-th third of `load_digits()[:1000]` (a contiguous slice, so
mostly other writers) and the k-th contiguous third of MNIST's 60,000 training digits (a proxy
for other writers: MNIST does not say who wrote what). Each model trains on the other two thirds
of both, with their varied copies, and is scored on what was held out (the MNIST glyphs
normalized like training data). Neither benchmark (`load_digits()[1000:]`, MNIST's test digits)
is touched, so choosing a configuration here does not choose it by them. Configurations differ
only in the one `TrainingConfig` field named by `--vary` and share their seeds, so their figures
pair up; a table of the means follows the JSON lines.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from training import data
from training.train import TrainingConfig, TrainingSet, fit_ensemble, grids_of, training_set

FOLDS = 3
QUICK_SCHEDULE = ((1e-3, 12), (1e-4, 4), (1e-5, 2))


def _quiet(_: str) -> None:
    pass


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _value(kind: type, text: str) -> Any:
    """One `--vary` value as the field's type; tuples of ints are written `256x128`."""
    if kind is tuple:
        return tuple(int(part) for part in text.split("x"))
    return kind(text)


def fold_mask(n: int, fold: int) -> np.ndarray:
    """Mask of fold `fold` of `n` items: the `fold`-th of FOLDS contiguous blocks."""
    position = np.arange(n) * FOLDS // n
    return np.asarray(position == fold)


# What the data of a fold depends on, apart from load_digits' copies (made from one copy here).
_DATA_FIELDS = ("seed", "load_digits_variants", "mnist_variants")
_built: dict[tuple[Any, ...], tuple[TrainingSet, np.ndarray]] = {}


def _fold_data(config: TrainingConfig, fold: int, progress: Any) -> tuple[TrainingSet, np.ndarray]:
    """The fold's training set (with one copy of each load_digits image) and held-out grids.

    Kept for the process's later configurations that differ only in how they fit.
    """
    key = (fold, *(getattr(config, name) for name in _DATA_FIELDS))
    if key not in _built:
        images, labels = data.train_digits()
        held = fold_mask(len(labels), fold)
        glyphs, glyph_labels = data.mnist_train()
        left_out = fold_mask(len(glyph_labels), fold)
        train_data = training_set(
            replace(config, load_digits_copies=1),
            progress,
            digits=(images[~held], labels[~held]),
            mnist=(glyphs[~left_out], glyph_labels[~left_out]),
        )
        _built.clear()  # one fold's data at a time: each is a few hundred MB
        _built[key] = (train_data, grids_of(glyphs[left_out]))
    return _built[key]


def with_copies(train_data: TrainingSet, copies: int) -> tuple[np.ndarray, np.ndarray]:
    """The grids and labels with the load_digits images (one copy, first) `copies` times."""
    n = train_data.counts["load_digits[:1000]"]
    grids = np.vstack([np.tile(train_data.grids[:n], (copies, 1)), train_data.grids[n:]])
    labels = np.concatenate([np.tile(train_data.labels[:n], copies), train_data.labels[n:]])
    return grids, labels


def one_fold(config: TrainingConfig, fold: int, progress: Any = _quiet) -> dict[str, float]:
    """Train without fold `fold` of both training sources; score on what was left out."""
    images, labels = data.train_digits()
    held = fold_mask(len(labels), fold)
    _, glyph_labels = data.mnist_train()
    mnist_labels = glyph_labels[fold_mask(len(glyph_labels), fold)]
    started = time.perf_counter()
    train_data, mnist_grids = _fold_data(config, fold, progress)
    grids, train_labels = with_copies(train_data, config.load_digits_copies)
    estimator = fit_ensemble(config, grids, train_labels, progress)
    predicted = estimator.predict(images[held].reshape((-1, 64)))
    truth = labels[held]
    mnist_predicted = estimator.predict(mnist_grids)
    return {
        "digits_accuracy": float((predicted == truth).mean()),
        "digits_errors": int((predicted != truth).sum()),
        "mnist_accuracy": float((mnist_predicted == mnist_labels).mean()),
        "mnist_errors": int((mnist_predicted != mnist_labels).sum()),
        "seconds": round(time.perf_counter() - started, 1),
    }


def means_table(field: str, lines: list[dict[str, Any]]) -> str:
    """A markdown table: per value of `field`, mean accuracies and total errors over its runs."""
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        runs[str(line[field])].append(line)
    rows = [
        f"| {field} | runs | load_digits slices | errors | MNIST blocks | errors | minutes |",
        "|---|---|---|---|---|---|---|",
    ]
    for value, mine in runs.items():
        rows.append(
            f"| {value} | {len(mine)} "
            f"| {np.mean([r['digits_accuracy'] for r in mine]):.2%} "
            f"| {sum(r['digits_errors'] for r in mine)} "
            f"| {np.mean([r['mnist_accuracy'] for r in mine]):.2%} "
            f"| {sum(r['mnist_errors'] for r in mine)} "
            f"| {np.mean([r['seconds'] for r in mine]) / 60:.1f} |"
        )
    return "\n".join(rows)


def _choices(parser: argparse.ArgumentParser, option: str, field: str, values: str) -> list[Any]:
    """The comma-separated `values` of a TrainingConfig `field`, or exit with a usage error."""
    if field not in TrainingConfig.__dataclass_fields__ or not values:
        parser.error(
            f"{option} wants FIELD=VALUE with a TrainingConfig field, not {field}={values}"
        )
    kind = type(getattr(TrainingConfig(), field))
    try:
        return [_value(kind, v) for v in values.split(",")]
    except ValueError as err:
        parser.error(f"{option} {field}: {err}")


def main(argv: Sequence[str] | None = None) -> None:
    """Run every value x seed x fold and print one JSON line each."""
    parser = argparse.ArgumentParser(prog="python -m bench.crossval", description=__doc__)
    parser.add_argument(
        "--vary",
        default="mnist_variants=0,2",
        help="a TrainingConfig field and the values to try, e.g. alpha=1,2 or "
        "hidden_layer_sizes=256,256x256",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a TrainingConfig field fixed for every run, e.g. load_digits_copies=3 (repeatable)",
    )
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--folds", default="0,1,2", help=f"which of the {FOLDS} folds to run")
    parser.add_argument("--quick", action="store_true", help=f"schedule {QUICK_SCHEDULE}")
    parser.add_argument("--verbose", action="store_true", help="training progress on stderr")
    args = parser.parse_args(argv)
    fixed = {}
    for setting in args.set:
        name, _, value = setting.partition("=")
        fixed[name] = _choices(parser, "--set", name, value)[0]
    field, _, values = args.vary.partition("=")
    choices = _choices(parser, "--vary", field, values)
    base = replace(TrainingConfig(), **fixed)
    lines = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for fold in (int(f) for f in args.folds.split(",")):
            for value in choices:
                config = replace(base, seed=seed, **{field: value})
                if args.quick:
                    config = replace(config, schedule=QUICK_SCHEDULE)
                result = one_fold(config, fold, _stderr if args.verbose else _quiet)
                line = {field: value, "seed": seed, "fold": fold, "quick": args.quick, **result}
                print(json.dumps(line), flush=True)
                lines.append(line)
    print(means_table(field, lines))


if __name__ == "__main__":
    main()
