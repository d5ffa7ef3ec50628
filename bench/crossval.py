"""Cross-validation of training configurations, without `load_digits()[1000:]`.

    python -m bench.crossval --vary european_share=0,0.3 --seeds 0,1 --quick

Five folds over `load_digits()[:1000]` (200-image slices) and over the MNIST training glyphs
(in every label's block, a fifth of them): each model trains on the other four fifths of both and
their varied copies, and is scored on the slice and on the fold's MNIST glyphs (normalized like
training data). The MNIST glyphs held out for the photo benchmark are not touched, so choosing a
configuration here does not choose it by the benchmark's handwriting. Configurations differ only
in the one `TrainingConfig` field named by `--vary` and share their seeds, so their figures pair
up.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from model import data
from model.train import TrainingConfig, fit_classifier, grids_of, training_set

FOLDS = 5
FOLD = 1000 // FOLDS
QUICK_SCHEDULE = ((1e-3, 60), (1e-4, 20), (1e-5, 10))


def _quiet(_: str) -> None:
    pass


def _value(kind: type, text: str) -> Any:
    """One `--vary` value as the field's type; tuples of ints are written `256x128`."""
    if kind is tuple:
        return tuple(int(part) for part in text.split("x"))
    return kind(text)


def mnist_fold(labels: np.ndarray, fold: int) -> np.ndarray:
    """Mask of fold `fold` of the MNIST training glyphs: a fifth of each label's glyphs."""
    position = np.zeros(len(labels), dtype=np.int64)
    for label in np.unique(labels):
        mine = labels == label
        position[mine] = np.arange(mine.sum()) * FOLDS // mine.sum()
    return position == fold


def one_fold(config: TrainingConfig, fold: int) -> dict[str, float]:
    """Train without fold `fold` of both training sources; score on what was left out."""
    images, labels = data.train_digits()
    keep = np.ones(len(labels), dtype=bool)
    keep[fold * FOLD : (fold + 1) * FOLD] = False
    glyphs, glyph_labels = data.mnist_glyphs(data.MNIST_TRAIN)
    left_out = mnist_fold(glyph_labels, fold)
    started = time.perf_counter()
    train_data = training_set(
        config,
        _quiet,
        digits=(images[keep], labels[keep]),
        mnist=(glyphs[~left_out], glyph_labels[~left_out]),
    )
    estimator = fit_classifier(config, train_data.grids, train_data.labels, _quiet)
    val_grids = images[~keep].reshape((-1, 64))
    predicted = estimator.predict(val_grids)
    truth = labels[~keep]
    mnist_labels = glyph_labels[left_out]
    mnist_predicted = estimator.predict(grids_of(glyphs[left_out]))
    return {
        "fold_accuracy": float((predicted == truth).mean()),
        "fold_errors": int((predicted != truth).sum()),
        "fold_1_as_7": int(((truth == 1) & (predicted == 7)).sum()),
        "fold_7_as_1": int(((truth == 7) & (predicted == 1)).sum()),
        "mnist_accuracy": float((mnist_predicted == mnist_labels).mean()),
        "mnist_1_as_7": int(((mnist_labels == 1) & (mnist_predicted == 7)).sum()),
        "seconds": round(time.perf_counter() - started, 1),
    }


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
        default="european_share=0,0.3",
        help="a TrainingConfig field and the values to try, e.g. alpha=1,2 or "
        "hidden_layer_sizes=256,256x256",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a TrainingConfig field fixed for every run, e.g. mnist_variants=12 (repeatable)",
    )
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--folds", default="0,1,2,3,4")
    parser.add_argument("--quick", action="store_true", help=f"schedule {QUICK_SCHEDULE}")
    args = parser.parse_args(argv)
    fixed = {}
    for setting in args.set:
        name, _, value = setting.partition("=")
        fixed[name] = _choices(parser, "--set", name, value)[0]
    field, _, values = args.vary.partition("=")
    choices = _choices(parser, "--vary", field, values)
    base = replace(TrainingConfig(), **fixed)
    for seed in (int(s) for s in args.seeds.split(",")):
        for fold in (int(f) for f in args.folds.split(",")):
            for value in choices:
                config = replace(base, seed=seed, **{field: value})
                if args.quick:
                    config = replace(config, schedule=QUICK_SCHEDULE)
                result = one_fold(config, fold)
                line = {field: value, "seed": seed, "fold": fold, "quick": args.quick, **result}
                print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
