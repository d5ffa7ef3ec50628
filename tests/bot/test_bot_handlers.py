"""The handlers' pure parts and the reply texts, without a Telegram server."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from telegram import PhotoSize

from bot import texts
from bot.handlers import chosen_photo_size, parse_sample_args
from bot.reading import SHOWN_DIGITS, read_photo
from bot.services import DEFAULT_SAMPLES, MAX_SAMPLES, Services
from model.recognize import DigitReading, Reading


def digit(value: int, confidence: float = 0.97, runner_up: int = 1) -> DigitReading:
    return DigitReading(
        digit=value,
        confidence=confidence,
        runner_up=runner_up,
        runner_up_confidence=round(1 - confidence, 2),
        box=(0, 0, 10, 10),
        grid=np.zeros((8, 8), dtype=np.int64),
        ink=np.ones((12, 8), dtype=np.float32),
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], (None, DEFAULT_SAMPLES)),
        (["7"], (7, DEFAULT_SAMPLES)),
        (["0", "1"], (0, 1)),
        (["9", str(MAX_SAMPLES)], (9, MAX_SAMPLES)),
    ],
)
def test_parse_sample_args(args: list[str], expected: tuple[int | None, int]) -> None:
    assert parse_sample_args(args) == expected


@pytest.mark.parametrize(
    "args", [["x"], ["10"], ["-1"], ["3", "0"], ["3", str(MAX_SAMPLES + 1)], ["1", "2", "3"]]
)
def test_parse_sample_args_refuses(args: list[str]) -> None:
    with pytest.raises(ValueError):
        parse_sample_args(args)


def size(side: tuple[int, int], name: str) -> PhotoSize:
    return PhotoSize(name, name + "-unique", width=side[0], height=side[1])


def test_chosen_photo_size_is_the_smallest_that_is_large_enough() -> None:
    sizes = [size((90, 68), "s"), size((320, 240), "m"), size((800, 600), "x")]
    sizes.append(size((1280, 960), "y"))
    assert chosen_photo_size(sizes).file_id == "x"
    assert chosen_photo_size(list(reversed(sizes))).file_id == "x"  # order does not matter
    assert chosen_photo_size(sizes, long_side=320).file_id == "m"
    assert chosen_photo_size([size((600, 800), "portrait")]).file_id == "portrait"


def test_chosen_photo_size_falls_back_to_the_largest() -> None:
    assert chosen_photo_size([size((90, 60), "s"), size((300, 200), "m")]).file_id == "m"


def test_caption_of_a_sure_digit() -> None:
    caption = texts.reading_caption(Reading((digit(7, 0.97),)))
    assert caption == "I read: 7 (97% sure).\nThe picture shows the 8x8 grid I saw."


def test_caption_of_an_unsure_digit_names_the_runner_up() -> None:
    caption = texts.reading_caption(Reading((digit(3, 0.55, runner_up=5),)))
    assert caption.startswith("I'm not sure – it might be a 3 (55%), or a 5 (45%).")


def test_caption_of_a_number() -> None:
    reading = Reading((digit(4), digit(0, 0.6, runner_up=6), digit(7)))
    assert texts.reading_caption(reading) == (
        "I read: 407 – but I'm not sure of every digit.\n"
        "1. 4 (97%)\n"
        "2. 0 (60%), or maybe 6 (40%)\n"
        "3. 7 (97%)\n"
        "The picture shows each digit's 8x8 grid, left to right."
    )


def test_caption_of_numbers_one_under_the_other_keeps_their_lines() -> None:
    def at(value: int, line: int) -> DigitReading:
        return replace(digit(value), line=line)

    reading = Reading((at(1, 0), at(2, 0), at(3, 1), at(4, 1)))
    assert reading.text == "1234"
    assert texts.reading_caption(reading).splitlines()[:3] == ["I read:", "12", "34"]


def test_caption_of_a_sure_number_has_no_doubt() -> None:
    caption = texts.reading_caption(Reading((digit(2), digit(5))))
    assert caption.splitlines()[0] == "I read: 25"


@pytest.mark.parametrize("count", [11, 60, 5000])
def test_caption_of_very_many_digits_fits_telegram(count: int) -> None:
    reading = Reading(tuple(digit(i % 10, 0.5, runner_up=8) for i in range(count)))
    caption = texts.reading_caption(reading)

    assert len(caption) <= 1024  # Telegram's caption limit
    assert f"{SHOWN_DIGITS}. " in caption
    assert f"{SHOWN_DIGITS + 1}. " not in caption
    assert f"… and {count - SHOWN_DIGITS} more." in caption


def test_preview_of_very_many_digits_fits_telegram(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = Reading(tuple(digit(i % 10) for i in range(60)))
    monkeypatch.setattr(services.recognizer, "read", lambda data: many)

    reading, preview = read_photo(services.recognizer, b"any image")

    assert reading is many
    assert preview is not None
    with Image.open(io.BytesIO(preview)) as image:
        width, height = image.size
    # Telegram refuses photos whose width plus height exceeds 10,000 or whose sides differ 20x.
    assert width + height <= 10_000 and max(width, height) <= 20 * min(width, height)


@pytest.mark.parametrize(
    ("size_bytes", "limit", "shown"),
    [
        (15 * 2**20, 10 * 2**20, "That file is 15.0 MB; I accept files up to 10 MB."),
        (10 * 2**20 + 1, 10 * 2**20, "That file is 10.1 MB; I accept files up to 10 MB."),
    ],
)
def test_file_too_large_text(size_bytes: int, limit: int, shown: str) -> None:
    assert texts.file_too_large(size_bytes, limit).startswith(shown)


def test_accuracy_text(services: Services) -> None:
    text = texts.accuracy_text(services.evaluation)
    lines = text.splitlines()
    assert lines[0].endswith(f"{services.evaluation.accuracy:.1%}")
    assert [line.split(":")[0] for line in lines[-10:]] == [str(d) for d in range(10)]


def test_texts_fit_telegram() -> None:
    for text in (
        texts.START,
        texts.HELP,
        texts.NO_DIGIT,
        texts.WRITING,
        texts.UNSUPPORTED,
        texts.ERROR,
    ):
        assert 0 < len(text) <= 4096
    for name, description in texts.COMMANDS:
        assert name.islower() and 1 <= len(description) <= 256
