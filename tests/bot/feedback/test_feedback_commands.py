"""`digitbot export-feedback` and `digitbot train --with-feedback`, on both backends."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy.engine import URL

import training.feedback_training
from bot.cli import main
from bot.feedback.store import DigitToCheck, FeedbackStore, new_token
from model.store import load_stored_model
from training.data import train_digits
from training.train import TrainingConfig, TrainingSet

TINY = TrainingConfig(hidden_layer_sizes=(32,), alpha=1e-3, schedule=((1e-2, 30),))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "DATA_DIR", "MODEL_PATH", "MODEL_SHA256"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def fill(store: FeedbackStore, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Record n single-digit answers, every third one corrected; return the grids and labels."""
    images, labels = train_digits()
    for i in range(n):
        token = new_token()
        wrong = (int(labels[i]) + 1) % 10
        predicted = wrong if i % 3 == 0 else int(labels[i])
        store.remember_answer(7, i, 7, token, "v", [DigitToCheck(predicted, images[i])])
        store.correct(7, i, 7, token, 0, int(labels[i]))
    return images[:n].reshape((n, 64)), labels[:n]


def url_text(database: URL) -> str:
    return database.render_as_string(hide_password=False)


def test_export_writes_load_digits_csv(store: FeedbackStore, database: URL, tmp_path: Path) -> None:
    grids, labels = fill(store, 12)
    out = tmp_path / "feedback.csv"
    assert main(["export-feedback", "--database", url_text(database), "--out", str(out)]) == 0
    table = np.loadtxt(out, delimiter=",", dtype=np.int64)
    assert table.shape == (12, 65)
    assert np.array_equal(table[:, :64], grids) and np.array_equal(table[:, 64], labels)


def test_export_to_standard_output_from_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "volume"))
    store = FeedbackStore.open(f"sqlite:///{tmp_path / 'volume' / 'digitbot.sqlite'}")
    fill(store, 2)
    store.close()
    assert main(["export-feedback"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(len(line.split(",")) == 65 for line in lines)


def test_a_missing_sqlite_file_is_named_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export-feedback"]) == 2
    assert "no feedback database at data/digitbot.sqlite" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_a_bad_database_url_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-feedback", "--database", "mysql://u:secret@host/db"]) == 2
    err = capsys.readouterr().err
    assert "DATABASE_URL must be" in err and "secret" not in err


@pytest.fixture
def tiny_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """`train --with-feedback` with a tiny model on a small base, so it takes a second."""
    real = training.feedback_training.train_with_feedback
    images, labels = train_digits()
    base = TrainingSet(images[500:].reshape((500, 64)).astype(np.float64), labels[500:], {})

    def tiny(grids: np.ndarray, labels: np.ndarray, training: Any, feedback: Any, **kw: Any) -> Any:
        assert training == TrainingConfig(seed=3)
        return real(grids, labels, TINY, feedback, base=base, **kw)

    monkeypatch.setattr(training.feedback_training, "train_with_feedback", tiny)


@pytest.mark.slow  # trains a model
@pytest.mark.usefixtures("tiny_training")
def test_train_with_feedback_reports_and_writes_a_usable_model(
    store: FeedbackStore, database: URL, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(store, 30)
    out = tmp_path / "mine.npz"
    argv = ["train", "--with-feedback", "--database", url_text(database), "--out", str(out)]
    assert main([*argv, "--seed", "3", "--folds", "3"]) == 0
    printed = capsys.readouterr().out
    assert "30 confirmed digits" in printed and "right for 66.7% of them" in printed
    assert re.search(
        r"held-out accuracy on load_digits\[1000:\]: 0\.\d{4} with the current", printed
    )
    assert re.search(
        r"accuracy on the confirmed digits: 0\.6667 as answered, [01]\.\d{4} ", printed
    )
    assert "(3-fold cross-validation)" in printed
    [digest] = re.findall(r"MODEL_SHA256=([0-9a-f]{64})", printed)
    assert f"MODEL_PATH={out.resolve()}" in printed
    stored = load_stored_model(out, digest)
    assert stored.metadata["feedback_samples"] == 30
    assert stored.verifier is not None  # the shipped model's, kept


def test_train_with_feedback_needs_enough_digits_and_no_ship(
    store: FeedbackStore, database: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(store, 3)
    argv = ["train", "--with-feedback", "--database", url_text(database)]
    assert main(argv) == 2
    assert "holds 3 confirmed digits; retraining needs at least 10" in capsys.readouterr().err
    assert main([*argv, "--ship"]) == 2
    assert "--ship is for the model made from public data only" in capsys.readouterr().err
