"""Photos people send, answered end to end through the fake Bot API server."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from tests.bot.bot_harness import BotHarness
from tests.digit_photos import draw, ink_box


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


async def test_numbers_one_under_the_other_are_answered_line_by_line(
    bot: BotHarness, glyphs: dict[int, np.ndarray]
) -> None:
    lines = [draw(glyphs, digits, size=(1280, 480), height=0.7) for digits in ([1, 2], [3, 4])]
    page = Image.fromarray(np.vstack(lines).astype(np.uint8), "L")

    answer = await bot.answer(bot.photo(_jpeg(page)))

    assert answer.params["caption"].startswith("I read:\n12\n34\n")


async def test_an_underlined_number_is_read_without_its_underline(
    bot: BotHarness, glyphs: dict[int, np.ndarray]
) -> None:
    page = Image.fromarray(draw(glyphs, [4, 0, 7]).astype(np.uint8), "L")
    left, _, right, bottom = ink_box(page)
    ImageDraw.Draw(page).line([(left, bottom - 6), (right, bottom - 2)], fill=30, width=24)

    answer = await bot.answer(bot.photo(_jpeg(page)))

    assert answer.params["caption"].startswith("I read: 407\n")
