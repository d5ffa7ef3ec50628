"""Telling digits from writing and marks: pages of words, digits among words, stray strokes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from model.errors import ModelError
from model.nondigit import NONDIGIT_PATH, load_check
from model.recognize import Reading, Recognizer, load_recognizer
from tests.digit_photos import draw, encode, words_page


@pytest.mark.parametrize(("size", "wavy"), [(40, False), (60, False), (60, True)])
def test_a_page_of_words_is_writing_not_digits(
    recognizer: Recognizer, size: int, wavy: bool
) -> None:
    reading = recognizer.read(encode(words_page(size=size, wavy=wavy)))
    assert reading.text == ""
    assert reading.verdict == "writing"


@pytest.mark.parametrize(("angle", "wavy"), [(90, False), (270, False), (90, True)])
def test_words_photographed_sideways_are_writing(
    recognizer: Recognizer, angle: int, wavy: bool
) -> None:
    # Turned on its side, each line of words is one tall group of stacked letters: no 1.
    page = words_page(size=40, wavy=wavy).rotate(angle, expand=True)
    reading = recognizer.read(encode(page))
    assert (reading.text, reading.verdict) == ("", "writing")


def test_without_the_check_a_page_of_words_is_read_as_digits(recognizer: Recognizer) -> None:
    # What the check is for: the digit classifier alone reads letters as digits.
    unchecked = Recognizer(recognizer.estimator, recognizer.verifier, check=None)
    assert len(unchecked.read(encode(words_page())).text) >= 5


def test_a_number_written_under_words_is_read(
    recognizer: Recognizer, glyphs: dict[int, np.ndarray]
) -> None:
    grey = draw(glyphs, [4, 0, 7, 2], height=0.2)
    page = Image.fromarray(grey.astype(np.uint8), "L")
    font = ImageFont.load_default(56)
    ImageDraw.Draw(page).text((200, 180), "Room number", font=font, fill=35)
    reading = recognizer.read(encode(page))
    # The words may leak a letter read as a digit (an o as 0); the number is read whole.
    assert reading.lines[-1] == "4072"
    assert reading.verdict == "digits"


@pytest.mark.parametrize("digits", [[3], [7, 1], [5, 0, 6]])
def test_digits_alone_are_still_digits(
    recognizer: Recognizer, glyphs: dict[int, np.ndarray], digits: list[int]
) -> None:
    grey = draw(glyphs, digits)
    reading = recognizer.read(encode(Image.fromarray(grey.astype(np.uint8), "L")))
    assert reading.text == "".join(map(str, digits))


class FakeCheck:
    """A check that answers each piece's (digit, writing, mark) probabilities by its digit."""

    def __init__(self, by_digit: dict[int, tuple[float, float, float]]) -> None:
        self.by_digit = by_digit
        self.asked: list[int] = []

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        return np.array([self.by_digit[d] for d in self.asked[: len(features)]])


def _reading_with(
    check: FakeCheck, recognizer: Recognizer, glyphs: dict[int, np.ndarray], lines: list[list[int]]
) -> Reading:
    """How a photo of these lines of digits is read with the fake check's answers."""
    height = 960 // len(lines)
    grey = np.vstack(
        [draw(glyphs, line, size=(1280, height), height=150 / height, step=1.2) for line in lines]
    )
    checked = Recognizer(recognizer.estimator, recognizer.verifier, check=check)
    check.asked = [d for line in lines for d in line]
    return checked.read(encode(Image.fromarray(grey.astype(np.uint8), "L")))


def _read_with(
    check: FakeCheck, recognizer: Recognizer, glyphs: dict[int, np.ndarray], lines: list[list[int]]
) -> str:
    return _reading_with(check, recognizer, glyphs, lines).text


DIGIT, LETTER, MARK = (0.9, 0.05, 0.05), (0.02, 0.9, 0.08), (0.02, 0.08, 0.9)


def test_outside_a_page_of_writing_every_glyph_is_read(
    recognizer: Recognizer, glyphs: dict[int, np.ndarray]
) -> None:
    # The check takes some digits for marks or letters: alone, they are far likelier digits.
    assert _read_with(FakeCheck({3: MARK}), recognizer, glyphs, [[3]]) == "3"
    assert _read_with(FakeCheck({3: LETTER}), recognizer, glyphs, [[3]]) == "3"


def _sheet_corners() -> bytes:
    """The corners of three sheets stacked a little apart, filling most of the photo."""
    page = Image.new("L", (440, 480), 225)
    drawing = ImageDraw.Draw(page)
    for k in range(3):
        x, y = 60 + 14 * k, 60 + 14 * k
        drawing.line([(x + 330, y), (x, y), (x, y + 360)], fill=40, width=5)
    return encode(page)


@pytest.mark.parametrize(("answer", "read"), [(MARK, False), (LETTER, False), (DIGIT, True)])
def test_an_object_filling_the_frame_is_no_digit(
    recognizer: Recognizer, answer: tuple[float, float, float], read: bool
) -> None:
    # A fan of paper sheets or the corner of a stack fills the photo with the edges of several
    # sheets, and the check finds no digit in them.
    check = FakeCheck(dict.fromkeys(range(10), answer))
    checked = Recognizer(recognizer.estimator, recognizer.verifier, check=check)
    check.asked = list(range(10))
    reading = checked.read(_sheet_corners())
    assert bool(reading.text) == read
    assert reading.verdict == ("digits" if read else "nothing")


def _shaded_sheet_corners() -> bytes:
    """A dark sheet's corner and, beside it, the thin edges of two more, lightly shaded between.

    The shading is lighter than weak ink but not than light ink (`model.ink`), and joins the
    three edges into one stroke; the thin edges hold too little strong ink to be kept apart.
    """
    page = Image.new("L", (440, 480), 225)
    drawing = ImageDraw.Draw(page)

    def corner(offset: int, width: int, fill: int) -> None:
        x = y = 60 + offset
        drawing.line([(x + 300, y), (x, y), (x, y + 330)], fill=fill, width=width)

    corner(16, 9, 160)
    corner(28, 8, 160)
    corner(0, 24, 40)
    corner(22, 3, 40)
    corner(33, 3, 40)
    return encode(page)


@pytest.mark.parametrize(("answer", "read"), [(MARK, False), (DIGIT, True)])
def test_sheets_joined_by_light_shading_are_still_several_edges(
    recognizer: Recognizer, answer: tuple[float, float, float], read: bool
) -> None:
    # Light ink joins a stroke's pieces; the edges it joins still count as the sheets they
    # are (before the strokes were counted as weak ink shows them, this was read as a 5).
    check = FakeCheck(dict.fromkeys(range(10), answer))
    checked = Recognizer(recognizer.estimator, recognizer.verifier, check=check)
    check.asked = list(range(10))
    reading = checked.read(_shaded_sheet_corners())
    assert bool(reading.text) == read
    assert reading.verdict == ("digits" if read else "nothing")


def test_a_digit_filling_the_frame_is_read_even_when_doubted(
    recognizer: Recognizer, glyphs: dict[int, np.ndarray]
) -> None:
    # A digit that large is a tight crop, one stroke: the check's doubt does not drop it.
    grey = draw(glyphs, [0], size=(440, 480), height=0.9, step=1.0)
    check = FakeCheck({0: MARK})
    checked = Recognizer(recognizer.estimator, recognizer.verifier, check=check)
    check.asked = [0]
    assert checked.read(encode(Image.fromarray(grey.astype(np.uint8), "L"))).text == "0"


def test_a_number_keeps_a_digit_the_check_doubts(
    recognizer: Recognizer, glyphs: dict[int, np.ndarray]
) -> None:
    doubted = (0.3, 0.6, 0.1)
    check = FakeCheck({2: DIGIT, 5: DIGIT, 8: doubted, 6: DIGIT})
    assert _read_with(check, recognizer, glyphs, [[2, 5, 8, 6]]) == "2586"


def test_a_digit_the_check_takes_for_a_mark_is_read_beside_other_digits(
    recognizer: Recognizer, glyphs: dict[int, np.ndarray]
) -> None:
    # The check takes some 7s for the corner of a sheet; beside other digits they are digits.
    check = FakeCheck({3: DIGIT, 7: MARK})
    assert _read_with(check, recognizer, glyphs, [[3, 7, 7]]) == "377"


def test_on_a_page_of_writing_only_lines_of_digits_are_read(
    recognizer: Recognizer, glyphs: dict[int, np.ndarray]
) -> None:
    # The first two lines are "letters" (4, 7 and 9 stand in for them; 0 for an o, 1 for an l).
    check = FakeCheck({4: LETTER, 7: LETTER, 9: LETTER, 0: DIGIT, 1: DIGIT, 2: DIGIT, 3: DIGIT})
    lines = [[4, 0, 7, 1], [9, 4, 0, 7], [2, 3]]
    assert _read_with(check, recognizer, glyphs, lines) == "23"
    # A line of 1s is no number among words: a 1 is also an l or an I.
    check = FakeCheck({4: LETTER, 7: LETTER, 9: LETTER, 0: DIGIT, 1: DIGIT})
    reading = _reading_with(check, recognizer, glyphs, [[4, 0, 7, 1], [9, 4, 0, 7], [1, 1]])
    assert (reading.text, reading.verdict) == ("", "writing")


def test_the_check_file_is_refused_when_altered(tmp_path: Path) -> None:
    altered = tmp_path / "nondigit.npz"
    altered.write_bytes(NONDIGIT_PATH.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="sha256"):
        load_check(altered)


def test_the_recognizer_loads_the_shipped_check() -> None:
    assert load_recognizer().check is not None


def _beside_a_long_edge(grey: np.ndarray) -> bytes:
    """The photo with a thin straight line from near its top to near its bottom on the right:
    the edge of a scrap of paper, or of a laptop beside it."""
    page = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L")
    ImageDraw.Draw(page).line([(1180, 100), (1183, 860)], fill=60, width=4)
    return encode(page)


@pytest.mark.parametrize("digits", [[4, 0, 7, 2], [3, 8, 5], [5, 0, 6]])
def test_digits_beside_an_edge_many_times_their_height_are_read(
    recognizer: Recognizer, glyphs: dict[int, np.ndarray], digits: list[int]
) -> None:
    # The edge no longer sets the writing's size, which made the digits specks, nor is it a 1.
    grey = draw(glyphs, digits, height=0.12, step=1.0)
    assert recognizer.read(_beside_a_long_edge(grey)).text == "".join(map(str, digits))


def test_words_beside_an_edge_are_no_digit(recognizer: Recognizer) -> None:
    grey = np.asarray(words_page(size=60), dtype=np.float64)
    reading = recognizer.read(_beside_a_long_edge(grey))
    assert (reading.text, reading.verdict) == ("", "writing")
