"""Does retraining with users' corrections help? A re-runnable experiment with simulated users.

Handwriting the shipped model never saw (MNIST's test digits [0:5000], the benchmark's writers,
normalized to 8x8 like photos) is split by digit: the first CORRECTIONS of each label play
users' checked answers, the rest is the evaluation set. The checked answers go into a fresh
feedback database through the bot's own store (confirmed where the model was right, corrected
where it was wrong), then `digitbot train --with-feedback` retrains from it (a throwaway model,
never shipped: the benchmark's handwriting is only ever trained on here, to play users).
Printed: accuracy on the evaluation set and on load_digits[1000:] before and after, and the
command's own report.

    python scripts/feedback_experiment.py [--corrections 50] [--folds 5] [--rotate 0] [--out DIR]

`--rotate 30` turns every glyph by 30 degrees first: users with a habit the normalization does
not undo (a tilted page or hand), on whom the shipped model is weaker. It trains the model
folds + 1 times (a few minutes each).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from scipy import ndimage

from bot.cli import main as digitbot
from bot.feedback.database import database_url
from bot.feedback.store import DigitToCheck, FeedbackStore, new_token
from model.store import file_sha256, load_model
from training.data import mnist_benchmark
from training.evaluate import evaluate
from training.train import grids_of

USERS = 10


def simulated_feedback(store: FeedbackStore, grids: np.ndarray, labels: np.ndarray) -> float:
    """Answer each grid with the shipped model and record the user's check; return accuracy."""
    predicted = load_model().predict(grids.astype(np.float64))
    for message, (grid, label, guess) in enumerate(zip(grids, labels, predicted, strict=True)):
        user = 1000 + message % USERS
        token = new_token()
        store.remember_answer(
            user, message, user, token, "shipped", [DigitToCheck(int(guess), grid.reshape(8, 8))]
        )
        if guess == label:
            store.confirm(user, message, user, token)
        else:
            store.correct(user, message, user, token, 0, int(label))
    return float(np.mean(predicted == labels))


def main() -> None:
    """Run the experiment and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corrections", type=int, default=50, help="checked answers per digit")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--rotate", type=float, default=0.0, help="degrees, counterclockwise")
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="feedback-")))
    args = parser.parse_args()
    glyphs, labels = mnist_benchmark()
    fewest = int(np.bincount(labels).min())
    if not 0 < args.corrections < fewest:
        parser.error(f"--corrections must be 1..{fewest - 1}")
    if args.rotate:
        glyphs = np.clip(
            ndimage.rotate(
                np.pad(glyphs, ((0, 0), (6, 6), (6, 6))),
                args.rotate,
                axes=(2, 1),
                reshape=False,
                order=1,
            ),
            0.0,
            1.0,
        )
    grids = grids_of(glyphs).astype(np.int64)
    rank = np.zeros(len(labels), dtype=int)
    for digit in range(10):
        rank[labels == digit] = np.arange(np.sum(labels == digit))
    given = rank < args.corrections

    url = database_url(None, args.out)
    store = FeedbackStore.open(url)
    as_answered = simulated_feedback(store, grids[given], labels[given])
    store.close()
    print(f"{given.sum()} checked answers from {USERS} simulated users in {url.database}")
    print(f"the shipped model was right for {as_answered:.1%} of them\n")

    model_file = args.out / "with-feedback.npz"
    status = digitbot(
        [
            "train",
            "--with-feedback",
            "--database",
            url.render_as_string(),
            "--out",
            str(model_file),
            "--folds",
            str(args.folds),
        ]
    )
    if status:
        raise SystemExit(status)

    before, after = load_model(), load_model(model_file, file_sha256(model_file))
    test = ~given
    print(f"\nevaluation set: {test.sum()} MNIST test digits, none of them among the checked")
    for name, estimator in (("shipped model", before), ("retrained with feedback", after)):
        accuracy = float(np.mean(estimator.predict(grids[test].astype(np.float64)) == labels[test]))
        heldout = evaluate(estimator).accuracy
        print(f"{name:>24}: evaluation set {accuracy:.4f}, load_digits[1000:] {heldout:.4f}")


if __name__ == "__main__":
    main()
