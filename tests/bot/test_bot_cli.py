"""The `digitbot` command's first-run edges: .env decides, bad model files, stdin, --version."""

from __future__ import annotations

import io
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from bot import cli
from bot.cli import main
from bot.feedback.store import FeedbackStore
from model.store import SHIPPED_MODEL_PATH, file_sha256
from tests.bot.bot_harness import ENV_NAMES, TOKEN
from tests.digit_photos import PhotoMaker


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting leaks in from the machine; the working directory holds no .env unless written."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_bare_command_serves_with_the_token_in_dot_env_and_demos_without(tmp_path: Path) -> None:
    assert cli._default_command() == "demo"
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=\n")  # as copied from .env.example
    assert cli._default_command() == "demo"
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\n")
    assert cli._default_command() == "serve"
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=pasted-wrong\n")
    assert cli._default_command() == "serve"  # which then names the bad setting


def test_predict_takes_the_model_from_dot_env(
    tmp_path: Path, photo: PhotoMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "seven.jpg"
    image.write_bytes(photo([7]))
    (tmp_path / ".env").write_text(f"MODEL_PATH={SHIPPED_MODEL_PATH}\nMODEL_SHA256={'0' * 64}\n")

    assert main(["predict", str(image)]) == 2
    assert "refusing" in capsys.readouterr().err


def test_a_missing_model_file_is_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", "--model", "/nonexistent", "x.jpg"]) == 2
    assert capsys.readouterr().err == "digitbot: model file /nonexistent not found\n"


def test_a_file_that_is_no_model_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "model.joblib"
    fake.write_bytes(b"GIF89a, not a pickle")
    assert main(["evaluate", "--model", str(fake), "--sha256", file_sha256(fake)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"digitbot: model file {fake} is not a model `digitbot train` wrote")
    assert err.count("\n") == 1


def test_predict_reads_standard_input(
    photo: PhotoMaker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(photo([4, 2], height=0.3))))
    assert main(["predict", "--json", "-"]) == 0
    out = capsys.readouterr().out
    assert '"file": "-"' in out and '"digits": "42"' in out


@pytest.mark.slow  # a subprocess
def test_predict_from_a_pipe(photo: PhotoMaker, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "predict", "-"],
        input=photo([7]),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().startswith("-: read 7")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"digitbot {metadata.version('digitbot')}\n"


def test_train_without_the_training_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Whatever the extra holds: here a package that is not installed, and one that is.
    requires = ["numpy>=1.26", 'no-such-trainer>=1; extra == "train"', 'pytest; extra == "test"']
    monkeypatch.setattr(metadata, "requires", lambda name: requires)

    assert cli.missing_requirements("train") == ["no-such-trainer"]
    assert cli.missing_requirements("test") == []
    for argv in (["train"], ["train", "--with-feedback"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "pip install 'digitbot[train]'" in err and "no-such-trainer" in err
        assert "Traceback" not in err


def test_the_installed_training_extra_is_complete() -> None:
    assert cli.missing_requirements("train") == []


def test_feedback_commands_find_the_database_through_dot_env(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text(f"DATA_DIR={tmp_path / 'volume'}\n")
    store = FeedbackStore.open(f"sqlite:///{tmp_path / 'volume' / 'digitbot.sqlite'}")
    store.close()

    assert main(["export-feedback"]) == 0
    assert capsys.readouterr().err == ""  # found it, empty: no "no feedback database at"


def test_a_bad_setting_in_dot_env_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=mysql://u:secret@host/db\n")
    assert main(["export-feedback"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("digitbot: configuration error: DATABASE_URL must be")
    assert "secret" not in err
