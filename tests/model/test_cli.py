"""The `digitbot` command line's contracts: predict's JSON lines and evaluate's JSON."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import model.shipped
import model.store
import training.train
from bot.cli import main
from model.store import StoredModel, file_sha256, load_stored_model
from tests.digit_photos import PhotoMaker
from training.train import TrainingConfig


def test_predict_json_one_line_per_file_and_errors_go_on(
    tmp_path: Path, photo: PhotoMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    number, blank, broken = tmp_path / "n.jpg", tmp_path / "b.png", tmp_path / "x.jpg"
    number.write_bytes(photo([4, 2], height=0.3))
    blank.write_bytes(photo([], fmt="PNG"))
    broken.write_bytes(b"not an image")
    missing = tmp_path / "missing.png"

    code = main(["predict", "--json", str(number), str(broken), str(missing), str(blank)])

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert [line["file"] for line in lines] == [str(number), str(broken), str(missing), str(blank)]
    assert lines[0]["digits"] == "42" and lines[0]["lines"] == ["42"]
    assert len(lines[0]["confidences"]) == len(lines[0]["boxes"]) == 2
    assert all(0 <= c <= 1 for c in lines[0]["confidences"])
    assert all(len(box) == 4 for box in lines[0]["boxes"])
    assert "error" in lines[1] and "error" in lines[2]
    assert lines[3] == {**lines[3], "digits": "", "lines": [], "confidences": [], "boxes": []}


def test_predict_human_output_draws_the_grid(
    tmp_path: Path, photo: PhotoMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "seven.jpg"
    image.write_bytes(photo([7]))
    assert main(["predict", str(image)]) == 0
    out = capsys.readouterr().out
    assert "read 7" in out
    assert out.count("|") >= 16  # 8 rows of the grid, framed


def test_evaluate_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 797
    assert 0.9 < result["accuracy"] <= 1
    assert set(result["per_class"]) == {str(d) for d in range(10)}
    assert len(result["confusion"]) == 10 and all(len(row) == 10 for row in result["confusion"])


def test_bad_model_hash_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    from model.store import SHIPPED_MODEL_PATH

    code = main(["evaluate", "--model", str(SHIPPED_MODEL_PATH), "--sha256", "0" * 64])
    assert code == 2
    assert "refusing" in capsys.readouterr().err


@pytest.mark.slow  # a subprocess
def test_predict_stops_quietly_when_its_reader_goes_away(tmp_path: Path, photo: PhotoMaker) -> None:
    # `digitbot predict *.jpg | head -1`: the pipe closes while predictions are still printed.
    image = tmp_path / "n.jpg"
    image.write_bytes(photo([4, 2], height=0.3))
    command = [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]
    with subprocess.Popen(
        [*command, "predict", *[str(image)] * 60],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline().decode().endswith(": read 42\n")
        process.stdout.close()
        errors = process.stderr.read().decode()
        assert process.wait(timeout=120) == 1
    assert errors == ""


def _tiny_model(config: TrainingConfig, progress: object = None) -> StoredModel:
    """What `training.train.train` returns, without the quarter of an hour it takes."""
    rng = np.random.default_rng(config.seed)
    x = rng.uniform(0, 16, (40, 64))
    estimator = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=config.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(x, np.arange(40) % 10)
    return StoredModel(estimator=estimator, metadata={"config": {"seed": config.seed}})


def test_train_writes_a_model_file_that_serves_with_the_printed_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(training.train, "train", _tiny_model)
    out = tmp_path / "mine.npz"
    assert main(["train", "--out", str(out), "--seed", "3"]) == 0
    digest = re.findall(r"MODEL_SHA256=([0-9a-f]{64})", capsys.readouterr().out)
    assert digest == [file_sha256(out)]
    assert load_stored_model(out, digest[0]).metadata == {"config": {"seed": 3}}


def test_train_ship_writes_the_shipped_file_and_pins_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped, pinned = tmp_path / "digitbot.npz", tmp_path / "shipped.py"
    shutil.copy(model.shipped.__file__, pinned)
    monkeypatch.setattr(training.train, "train", _tiny_model)
    monkeypatch.setattr(model.store, "SHIPPED_MODEL_PATH", shipped)
    monkeypatch.setattr(model.shipped, "pin", functools.partial(model.shipped.pin, path=pinned))
    assert main(["train", "--ship"]) == 0
    digest = file_sha256(shipped)
    assert f"recorded the hash in {pinned}" in capsys.readouterr().out
    assert f'SHIPPED_MODEL_SHA256 = "{digest}"' in pinned.read_text()
    assert f'NONDIGIT_SHA256 = "{model.shipped.NONDIGIT_SHA256}"' in pinned.read_text()
