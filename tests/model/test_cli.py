"""The `digitbot` command line's contracts: predict's JSON lines and evaluate's JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.digit_photos import PhotoMaker


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
