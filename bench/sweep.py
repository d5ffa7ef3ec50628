"""Many training settings on the cross-validation folds, from grids normalized once and cached.

    python -m bench.sweep --fold 0 --quick --try alpha=1e-4 --try alpha=1e-4,mnist_variants=2
    python -m bench.sweep --fold 0 --reference knn,svc

The folds are `bench.crossval`'s (a contiguous third of `load_digits()[:1000]` and of MNIST's
60,000 training digits held out; neither benchmark is touched). What differs from crossval:
the 60,000 MNIST digits, `POOL_MNIST_VARIANTS` varied copies of each and `POOL_DIGIT_VARIANTS`
of each load_digits image are normalized once and kept on disk (under the cache folder, keyed
by the seed and the normalizing and varying code), and a setting with fewer varied copies takes
the first ones of each image. Normalizing is the slow part, so each further setting costs only
its fit. The copies come from one generator run over all the images, not over the fold's
training images alone as in `training_set`, so the figures are the same kind as crossval's but
not equal to them.

`--try` takes `TrainingConfig` fields, comma-separated (`hidden_layer_sizes=256x128`); each
prints one JSON line: errors on the held-out load_digits slice, on the held-out MNIST block,
and on one varied copy of each digit of that block ("varied": the block's handwriting
rotated, distorted and with another pen, as a photo changes it). A setting of several
networks (`members=5`) also prints a line for the mean of its first 1, 2, ... networks
(`"networks"`), so one run compares an ensemble with each of its sizes and with one network.
`--reference` fits
classifiers other than the MLP on the same fold, without varied copies, as a yardstick of
what 8x8 grids allow. `--inputs` asks the same of the input: one network of the shipped
width on the fold's MNIST digits alone (load_digits exists only as 8x8 grids), no varied
copies, fed NIST's 32x32 bitmap counted in 8x8 (the model's grid), 16x16 or 32x32 blocks, or
MNIST's own 28x28 grey levels; each prints the held-out MNIST block's errors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.crossval import QUICK_SCHEDULE, _value, fold_mask
from model import normalize
from model.network import Ensemble
from training import augment, data
from training.mnist import cache_folder
from training.train import TrainingConfig, _variants, fit_ensemble, grids_of

POOL_MNIST_VARIANTS = 4
POOL_DIGIT_VARIANTS = 3


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _code_key() -> str:
    """A short hash of the code that makes the grids: a change to it makes a new cache file."""
    digest = hashlib.sha256()
    for module in (normalize, augment):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:12]


def pool(seed: int) -> dict[str, np.ndarray]:
    """The normalized grids of every training image and their varied copies, from disk if kept.

    `mnist` `(60000, 64)`, `mnist_variants` `(60000, POOL_MNIST_VARIANTS, 64)`,
    `digit_variants` `(1000, POOL_DIGIT_VARIANTS, 64)`, all float32.
    """
    path = cache_folder() / "sweep" / f"pool-seed{seed}-{_code_key()}.npz"
    if path.exists():
        with np.load(path) as kept:
            return {name: kept[name] for name in kept.files}
    rng = np.random.default_rng(seed)
    images, _ = data.train_digits()
    glyphs, _ = data.mnist_train()
    _stderr(f"normalizing {len(glyphs) * (1 + POOL_MNIST_VARIANTS)} MNIST grids once")
    made = {
        "mnist": grids_of(glyphs),
        "digit_variants": grids_of(
            _variants(images, rng, POOL_DIGIT_VARIANTS, augment.varied_grid_ink)
        ).reshape((len(images), POOL_DIGIT_VARIANTS, 64)),
        "mnist_variants": grids_of(
            _variants(glyphs, rng, POOL_MNIST_VARIANTS, augment.varied_glyph)
        ).reshape((len(glyphs), POOL_MNIST_VARIANTS, 64)),
    }
    made = {name: grids.astype(np.float32) for name, grids in made.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part.npz")
    np.savez(
        partial,
        mnist=made["mnist"],
        digit_variants=made["digit_variants"],
        mnist_variants=made["mnist_variants"],
    )
    partial.replace(path)
    return made


def fold_training(
    kept: dict[str, np.ndarray], config: TrainingConfig, fold: int
) -> tuple[np.ndarray, np.ndarray]:
    """The fold's training grids and labels for `config`, as `training_set` lays them out."""
    if config.mnist_variants > POOL_MNIST_VARIANTS:
        raise ValueError(f"at most {POOL_MNIST_VARIANTS} MNIST variants are kept")
    if config.load_digits_variants > POOL_DIGIT_VARIANTS:
        raise ValueError(f"at most {POOL_DIGIT_VARIANTS} load_digits variants are kept")
    images, labels = data.train_digits()
    _, glyph_labels = data.mnist_train()
    keep = ~fold_mask(len(labels), fold)
    keep_glyphs = ~fold_mask(len(glyph_labels), fold)
    digits = images[keep].reshape((-1, 64)).astype(np.float32)
    digit_variants = kept["digit_variants"][keep, : config.load_digits_variants]
    mnist_variants = kept["mnist_variants"][keep_glyphs, : config.mnist_variants]
    grids = np.vstack(
        [
            np.tile(digits, (config.load_digits_copies, 1)),
            kept["mnist"][keep_glyphs],
            digit_variants.reshape((-1, 64)),
            mnist_variants.reshape((-1, 64)),
        ]
    )
    truth = np.concatenate(
        [
            np.tile(labels[keep], config.load_digits_copies),
            glyph_labels[keep_glyphs],
            np.repeat(labels[keep], config.load_digits_variants),
            np.repeat(glyph_labels[keep_glyphs], config.mnist_variants),
        ]
    )
    return grids, truth


def held_out(kept: dict[str, np.ndarray], fold: int) -> tuple[np.ndarray, ...]:
    """The fold's held-out load_digits grids and labels, then its MNIST block's."""
    images, labels = data.train_digits()
    _, glyph_labels = data.mnist_train()
    held = fold_mask(len(labels), fold)
    block = fold_mask(len(glyph_labels), fold)
    return (
        images[held].reshape((-1, 64)).astype(np.float32),
        labels[held],
        kept["mnist"][block],
        glyph_labels[block],
    )


def score(estimator: Any, kept: dict[str, np.ndarray], fold: int) -> dict[str, float]:
    """Errors and accuracy of `estimator` on the fold's held-out slice and MNIST block."""
    digits, digit_labels, mnist, mnist_labels = held_out(kept, fold)
    on_digits = estimator.predict(digits) == digit_labels
    on_mnist = estimator.predict(mnist) == mnist_labels
    # The first varied copy of each held-out MNIST digit: how well distorted handwriting
    # (rotation, elastic distortion, pen width) of writers not trained on is read.
    varied = kept["mnist_variants"][fold_mask(len(kept["mnist"]), fold), 0]
    on_varied = estimator.predict(varied) == mnist_labels
    return {
        "digits_errors": int((~on_digits).sum()),
        "digits_accuracy": round(float(on_digits.mean()), 4),
        "mnist_errors": int((~on_mnist).sum()),
        "mnist_accuracy": round(float(on_mnist.mean()), 4),
        "varied_errors": int((~on_varied).sum()),
        "varied_accuracy": round(float(on_varied.mean()), 4),
    }


INPUTS = ("8x8", "16x16", "32x32", "mnist")


def inputs_of(glyphs: np.ndarray, name: str) -> np.ndarray:
    """MNIST glyphs (`(n, 28, 28)` ink 0..1) as one of `INPUTS`, flattened, values on 0..16.

    "8x8", "16x16" and "32x32" count the ink of NIST's 32x32 bitmap (`model.normalize`) in
    blocks, scaled so that a full block is 16 as in the model's grid; "mnist" is the glyph's
    own grey levels.
    """
    (name,) = parse_inputs(name)  # one of INPUTS, or ValueError
    if name == "mnist":
        return (glyphs.reshape((len(glyphs), -1)) * 16.0).astype(np.float32)
    side = int(name.partition("x")[0])
    block = normalize.FRAME // side
    rows = [
        normalize.bitmap_and_aspect(glyph)[0]
        .reshape(side, block, side, block)
        .sum(axis=(1, 3))
        .reshape(-1)
        for glyph in glyphs
    ]
    return np.array(rows, np.float32) * np.float32(16.0 / block**2)


def parse_inputs(text: str) -> list[str]:
    """`8x8,mnist` as a list of `INPUTS`; ValueError naming the first unknown one."""
    names = [name for name in text.split(",") if name]
    for name in names:
        if name not in INPUTS:
            raise ValueError(f"unknown input {name}: one of {', '.join(INPUTS)}")
    return names


def parse_setting(text: str) -> dict[str, Any]:
    """`alpha=1e-4,hidden_layer_sizes=256x128` as TrainingConfig fields and typed values."""
    fields: dict[str, Any] = {}
    defaults = TrainingConfig()
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name not in TrainingConfig.__dataclass_fields__ or not value:
            raise ValueError(f"not a TrainingConfig field=value: {part}")
        fields[name] = _value(type(getattr(defaults, name)), value)
    return fields


def reference(name: str) -> Any:
    """A classifier other than the MLP, for comparison."""
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    if name == "knn":
        return KNeighborsClassifier(n_neighbors=3)
    if name == "svc":
        return SVC(kernel="rbf", C=10.0, gamma="scale")
    raise ValueError(f"unknown reference classifier {name}")


def main(argv: Sequence[str] | None = None) -> None:
    """Fit each `--try` setting (and `--reference` classifier) on one fold; JSON lines out."""
    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__)
    parser.add_argument("--try", dest="tries", action="append", default=[], metavar="SETTING")
    parser.add_argument("--reference", default="", help="comma-separated: knn, svc")
    parser.add_argument("--inputs", default="", help=f"comma-separated: {', '.join(INPUTS)}")
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help=f"schedule {QUICK_SCHEDULE}")
    parser.add_argument("--verbose", action="store_true", help="training progress on stderr")
    args = parser.parse_args(argv)
    try:
        settings = [parse_setting(text) for text in args.tries]
        inputs = parse_inputs(args.inputs)
    except ValueError as err:
        parser.error(str(err))
    if inputs:
        glyphs, labels = data.mnist_train()
        for name in inputs:
            line = _input_line(glyphs, labels, name, args.fold, args.seed, args.quick)
            print(json.dumps(line), flush=True)
    if not settings and not args.reference:
        return
    kept = pool(args.seed)
    for setting in settings:
        config = replace(TrainingConfig(), seed=args.seed, **setting)
        if args.quick:
            config = replace(config, schedule=QUICK_SCHEDULE)
        started = time.perf_counter()
        grids, labels = fold_training(kept, config, args.fold)
        estimator = fit_ensemble(config, grids, labels, _stderr if args.verbose else _quiet)
        seconds = round(time.perf_counter() - started, 1)
        members = estimator.members if isinstance(estimator, Ensemble) else (estimator,)
        for networks in range(1, len(members) + 1) if len(members) > 1 else (1,):
            line = {
                "setting": ",".join(f"{k}={v}" for k, v in setting.items()) or "defaults",
                "networks": networks,
                "fold": args.fold,
                "seed": args.seed,
                "quick": args.quick,
                **score(Ensemble(members[:networks]), kept, args.fold),
                "seconds": seconds,
            }
            print(json.dumps(line), flush=True)
    for name in filter(None, args.reference.split(",")):
        started = time.perf_counter()
        grids, labels = fold_training(
            kept,
            replace(
                TrainingConfig(), mnist_variants=0, load_digits_variants=0, load_digits_copies=1
            ),
            args.fold,
        )
        estimator = reference(name).fit(grids, labels)
        line = {
            "reference": name,
            "fold": args.fold,
            **score(estimator, kept, args.fold),
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(json.dumps(line), flush=True)


def _input_line(
    glyphs: np.ndarray, labels: np.ndarray, name: str, fold: int, seed: int, quick: bool
) -> dict[str, Any]:
    """One network on the fold's MNIST digits as input `name`, scored on its held-out block."""
    started = time.perf_counter()
    block = fold_mask(len(labels), fold)
    x = inputs_of(glyphs, name)
    config = replace(TrainingConfig(), seed=seed, members=1)
    if quick:
        config = replace(config, schedule=QUICK_SCHEDULE)
    estimator = fit_ensemble(config, x[~block], labels[~block], _quiet)
    wrong = estimator.predict(x[block]) != labels[block]
    return {
        "inputs": name,
        "fold": fold,
        "seed": seed,
        "quick": quick,
        "mnist_errors": int(wrong.sum()),
        "mnist_accuracy": round(1.0 - float(wrong.mean()), 4),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _quiet(_: str) -> None:
    pass


if __name__ == "__main__":
    main()
