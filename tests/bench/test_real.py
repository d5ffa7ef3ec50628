"""The real-photo benchmark, on a folder of photos the test makes itself."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from bench.real import digit_score, edit_distance, main, telegram_photo
from tests.digit_photos import PhotoMaker


def test_edit_distance_counts_insertions_deletions_and_substitutions() -> None:
    assert edit_distance("2025", "2025") == 0
    assert edit_distance("2025", "205") == 1
    assert edit_distance("2025", "20255") == 1
    assert edit_distance("2025", "2925") == 1
    assert edit_distance("", "12") == 2
    assert digit_score("2025", "205") == pytest.approx(0.75)
    assert digit_score("12", "345678") == 0.0
    assert digit_score("", "") == 1.0


def test_a_telegram_photo_is_upright_and_no_longer_than_asked() -> None:
    image = Image.new("RGB", (1600, 400), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned by 90 degrees
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    sized = Image.open(io.BytesIO(telegram_photo(out.getvalue(), 800)))
    assert sized.format == "JPEG"
    assert sized.size == (200, 800)


def test_the_benchmark_reports_by_kind_source_digit_and_every_misread(
    tmp_path: Path, photo: PhotoMaker, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "images").mkdir()
    entries = []
    for name, digits, kind, label in (
        ("seven.jpg", [7], "single", "7"),
        ("number.png", [2, 0, 2, 5], "number", "2025"),
        ("paper.jpg", [], "blank", ""),
        ("wrong.jpg", [3], "single", "8"),  # labelled wrong on purpose: a misread
    ):
        data = photo(digits, fmt="PNG" if name.endswith("png") else "JPEG")
        (tmp_path / "images" / name).write_bytes(data)
        source = "mine" if kind != "blank" else "other"
        entries.append({"file": f"images/{name}", "digits": label, "kind": kind, "source": source})
    (tmp_path / "manifest.json").write_text(json.dumps(entries))

    main([str(tmp_path), "--json", "--sides", "original,800"])
    result = json.loads(capsys.readouterr().out)
    for side in ("original", "800"):
        figures = result["sides"][side]
        assert figures["kinds"] == {
            "single": {"accuracy": 0.5, "n": 2},
            "number": {"accuracy": 1.0, "n": 1},
            "blank": {"accuracy": 1.0, "n": 1},
        }
        assert figures["number_digit_score"] == 1.0
        assert figures["sources"]["mine"] == {"accuracy": 2 / 3, "n": 3}
        assert figures["digits"] == {"7": {"accuracy": 1.0, "n": 1}, "8": {"accuracy": 0.0, "n": 1}}
        (misread,) = figures["misreads"]
        assert misread["file"] == "images/wrong.jpg"
        assert (misread["expected"], misread["read"], misread["verdict"]) == ("8", "3", "digits")

    main([str(tmp_path), "--sides", "800"])
    text = capsys.readouterr().out
    assert "as a Telegram photo, 800 px" in text
    assert "images/wrong.jpg" in text and "'8'" in text and "'3'" in text
