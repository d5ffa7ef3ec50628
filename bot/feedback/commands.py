"""`digitbot train --with-feedback` and `digitbot export-feedback`: the confirmed digits offline."""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import TextIO

import numpy as np
from sqlalchemy.engine import URL

from bot.feedback.database import DatabaseUnavailable, database_url, describe
from bot.feedback.store import FeedbackStore, LabelledSamples
from bot.settings import DEFAULT_DATA_DIR, Settings

# Fewer confirmed digits than this teach nothing and cannot be cross-validated.
MIN_SAMPLES = 10


def configured_database(settings: Settings, database: str | None) -> URL:
    """--database, else DATABASE_URL, else the SQLite file in DATA_DIR (as the bot has them)."""
    url = database_url(database or settings.database_url, settings.data_dir or DEFAULT_DATA_DIR)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        # Opening it would create an empty one, which hides a wrong DATA_DIR.
        raise DatabaseUnavailable(
            f"there is no feedback database at {url.database}: "
            "give --database, or set DATABASE_URL or DATA_DIR as the bot has them"
        )
    return url


def confirmed_digits(settings: Settings, database: str | None) -> LabelledSamples:
    """Every confirmed digit in the configured database."""
    url = configured_database(settings, database)
    store = FeedbackStore.open(url)
    try:
        return store.labelled_samples()
    finally:
        store.close()


def write_csv(samples: LabelledSamples, out: TextIO) -> None:
    """Write one line per digit in load_digits' layout: 64 values 0..16, then the label."""
    writer = csv.writer(out, lineterminator="\n")
    for grid, label in zip(samples.grids, samples.labels, strict=True):
        writer.writerow([*(int(v) for v in grid), int(label)])


def export_feedback(settings: Settings, database: str | None, out: Path | None) -> int:
    """Write the confirmed digits as CSV to `out` (standard output if None)."""
    samples = confirmed_digits(settings, database)
    if out is None:
        try:
            write_csv(samples, sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader stopped early (`| head`): fine, but Python's exit flush must not fail.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    with out.open("w", encoding="ascii", newline="") as file:
        write_csv(samples, file)
    print(f"wrote {len(samples.labels)} confirmed digits to {out}", file=sys.stderr)
    return 0


def train_with_feedback(
    settings: Settings, database: str | None, out: Path, seed: int, folds: int, ship: bool
) -> int:
    """Retrain with the confirmed digits, report the accuracies, and write the model file."""
    from model.store import load_stored_model, save_model
    from training import feedback_training
    from training.evaluate import evaluate
    from training.train import TrainingConfig

    if ship:
        print(
            "digitbot: a model trained on users' digits is your own: write it with --out and "
            "point MODEL_PATH at it; --ship is for the model made from public data only",
            file=sys.stderr,
        )
        return 2
    url = configured_database(settings, database)
    samples = confirmed_digits(settings, database)
    if len(samples.labels) < MIN_SAMPLES:
        print(
            f"digitbot: {describe(url)} holds {len(samples.labels)} confirmed digits; "
            f"retraining needs at least {MIN_SAMPLES}",
            file=sys.stderr,
        )
        return 2
    current = load_stored_model(settings.model_path, settings.model_sha256)
    current_heldout = evaluate(current.estimator).accuracy
    as_answered = float(np.mean(samples.predicted == samples.labels))
    print(
        f"{len(samples.labels)} confirmed digits in {describe(url)}; "
        f"the bot's answers were right for {as_answered:.1%} of them"
    )
    result = feedback_training.train_with_feedback(
        samples.grids,
        samples.labels,
        TrainingConfig(seed=seed),
        feedback_training.FeedbackConfig(folds=folds),
        progress=lambda m: print(f"… {m}", flush=True),
        # The whole-digit check does not depend on digit labels: the current one is kept.
        verifier=current.verifier,
    )
    print(
        f"held-out accuracy on load_digits[1000:]: {current_heldout:.4f} with the current model, "
        f"{result.heldout_accuracy:.4f} retrained"
    )
    if result.cv_accuracy is not None:
        print(
            f"accuracy on the confirmed digits: {as_answered:.4f} as answered, "
            f"{result.cv_accuracy:.4f} retrained ({folds}-fold cross-validation)"
        )
    digest = save_model(result.stored, out)
    print(f"wrote {out} ({out.stat().st_size:,} bytes), sha256 {digest}")
    print(f"to use it: MODEL_PATH={out.resolve()} MODEL_SHA256={digest}")
    return 0
