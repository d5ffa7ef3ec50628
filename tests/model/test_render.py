"""Pictures for people: laid out as the writing is, readable at 400 px wide, every glyph drawn."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from model.recognize import DigitReading
from model.render import (
    CELL,
    CONFUSION_AXES,
    FONT_PATH,
    GAP,
    _font,
    confusion_png,
    preview_columns,
    preview_png,
    preview_rows,
    sample_png,
)

PHONE_WIDTH = 400


def digit(value: int, line: int = 0, confidence: float = 0.97) -> DigitReading:
    grid = np.zeros((8, 8), np.int64)
    grid[1:7, 3:5] = 16
    return DigitReading(
        digit=value,
        confidence=confidence,
        runner_up=1,
        runner_up_confidence=round(1 - confidence, 2),
        box=(0, 0, 10, 10),
        grid=grid,
        ink=np.ones((12, 8), np.float32),
        line=line,
    )


def number(*lines: int) -> list[DigitReading]:
    """Digits on lines of the given lengths."""
    return [digit(i % 10, line) for line, count in enumerate(lines) for i in range(count)]


def size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return image.size


@pytest.mark.parametrize(
    ("lines", "rows"),
    [
        ((1,), [[0]]),
        ((6,), [list(range(6))]),
        ((7,), [[0, 1, 2, 3], [4, 5, 6]]),  # wrapped into rows of about equal length
        ((10,), [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]),
        ((4, 4), [[0, 1, 2, 3], [4, 5, 6, 7]]),  # one row per line of writing
        ((2, 1, 3), [[0, 1], [2], [3, 4, 5]]),
        ((7, 2), [[0, 1, 2, 3], [4, 5, 6], [7, 8]]),
    ],
)
def test_rows_follow_the_writing(lines: tuple[int, ...], rows: list[list[int]]) -> None:
    assert preview_rows(number(*lines)) == rows


@pytest.mark.parametrize(
    "lines", [(1,), (4,), (6,), (10,), (4, 4), (7, 2), (5, 5), (1,) * 9, (2,) * 5, (1,) * 10]
)
def test_a_preview_reads_at_a_phones_width(lines: tuple[int, ...]) -> None:
    width, height = size(preview_png(number(*lines)))
    columns = preview_columns(number(*lines))
    assert width <= 6 * (8 * CELL + 2 * GAP)  # at most six digits across
    assert height >= len(columns[0]) * 2 * 8 * CELL  # each row: crops above grids
    scale = min(1.0, PHONE_WIDTH / width)
    assert CELL * scale >= 7  # a grid cell stays at least 7 px at 400 px wide
    assert height <= 2.2 * width  # no strip too tall for a phone (one digit: 224 x 488)


def test_a_number_written_down_the_page_goes_into_columns() -> None:
    columns = preview_columns(number(*(1,) * 9))
    assert len(columns) > 1
    # Read top to bottom, then left to right: every line once, in order.
    assert [row for column in columns for row in column] == [[i] for i in range(9)]
    assert preview_columns(number(4, 4)) == [[[0, 1, 2, 3], [4, 5, 6, 7]]]  # one column


def test_ten_digits_are_no_longer_one_strip() -> None:
    width, height = size(preview_png(number(10)))
    assert width < 1.2 * height  # was 2096 x 472


def test_a_new_line_of_writing_is_marked_and_a_wrap_is_not() -> None:
    def rule_rows(png: bytes) -> int:
        with Image.open(io.BytesIO(png)) as image:
            pixels = np.asarray(image.convert("L"))
        # A rule runs across the whole picture between its margins.
        return int((pixels[:, GAP:-GAP] < 255).all(axis=1).sum())

    assert rule_rows(preview_png(number(4, 4))) > 0
    assert rule_rows(preview_png(number(8))) == 0


def test_font_is_shipped_with_its_licence() -> None:
    assert FONT_PATH.is_file()
    assert "Bitstream" in (FONT_PATH.parent / "LICENSE-DejaVu.txt").read_text()


MISSING = "\U0010fffd"  # private use: no font has it, so it is drawn as the missing-glyph box


def glyph(char: str) -> bytes:
    return bytes(_font(30).getmask(char))


@pytest.mark.parametrize(
    "text", [CONFUSION_AXES, "797 test images: 97.0% read right", "label: 8", "7  100%?"]
)
def test_every_glyph_in_the_pictures_is_in_the_font(text: str) -> None:
    missing = [char for char in set(text) if not char.isspace() and glyph(char) == glyph(MISSING)]
    assert not missing, f"drawn as boxes: {missing}"


def test_the_arrow_is_drawn() -> None:
    assert "→" in CONFUSION_AXES
    assert glyph("→") != glyph(MISSING)


def test_pictures_are_pngs_of_phone_size() -> None:
    confusion = np.diag(np.full(10, 80))
    width, height = size(confusion_png(confusion, "797 test images: 97.0% read right"))
    assert 400 <= width <= 1000 and 400 <= height <= 1000
    assert size(sample_png(np.zeros((8, 8)), 8))[0] >= 256


def test_an_unsure_label_still_fits_its_tile() -> None:
    assert _font(38).getlength("8  100%?") <= 8 * CELL
    width, _ = size(preview_png([replace(digit(8), confidence=1.0)]))
    assert width == 8 * CELL + 2 * GAP
