"""Pictures for people: the 8x8 grids the model saw, dataset samples and the confusion matrix.

All functions return PNG bytes, sized to be read on a phone, where Telegram shows a picture
about 400 px wide. Text is drawn in DejaVu Sans, shipped in `fonts/` (with its licence), which
has every glyph the pictures use, whatever fonts the machine has.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from model.recognize import DigitReading

FONT_PATH = Path(__file__).with_name("fonts") / "DejaVuSans.ttf"
CELL = 24  # pixels per grid cell in a preview: 8 cells = 192 px
GAP = 16
# A preview row holds at most this many digits: a longer line of writing is wrapped, so that the
# picture stays readable on a phone.
ROW_DIGITS = 6
LABEL_HEIGHT = 56
LABEL_SIZE = 38
# One digit's place in a preview: its crop, its grid and its label, and the gaps after them.
TILE_WIDTH = 8 * CELL + GAP
TILE_HEIGHT = 2 * 8 * CELL + GAP + LABEL_HEIGHT + GAP
# A preview at most this much taller than wide; past it, lines go into side-by-side columns.
MAX_TALL = 1.5
INK = (20, 20, 20)
PAPER = (255, 255, 255)
LINE = (200, 205, 215)
GRID_LINE = 205
LINE_BREAK = 150  # the rule between two lines of writing
CONFUSION_AXES = "rows: the digit written    columns: the digit read →"


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    # Loading parses the font file: once per size, not once per picture.
    return ImageFont.truetype(str(FONT_PATH), size)


GREYS = bytes(level for level in range(256) for _ in range(3))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    if image.mode == "L":
        # The same pixels as a palette of greys: PNG encoders skip the per-row filtering for
        # paletted images, which took two thirds of the preview's encoding time.
        image = image.copy()
        image.putpalette(GREYS)
    # Fast compression: the pictures are small and answering quickly matters more.
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def grid_pixels(grid: np.ndarray, cell: int = CELL) -> np.ndarray:
    """An 8x8 grid of 0..16 as grey squares (16 = black) with thin cell lines, as grey pixels."""
    levels = (255 - np.clip(grid, 0, 16) * 255 // 16).astype(np.uint8)
    pixels = levels.repeat(cell, axis=0).repeat(cell, axis=1)
    pixels[::cell] = GRID_LINE
    pixels[:, ::cell] = GRID_LINE
    pixels[-1] = GRID_LINE
    pixels[:, -1] = GRID_LINE
    return np.asarray(pixels)


def _crop_pixels(ink: np.ndarray, size: int) -> np.ndarray:
    """A digit's ink crop dark on white, fitted into a size x size square of grey pixels."""
    h, w = ink.shape
    scale = (size - 8) / max(h, w, 1)
    levels = (255 - np.clip(ink, 0, 1) * 255).astype(np.uint8)
    scaled = np.asarray(
        Image.fromarray(levels, "L").resize(
            (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR
        )
    )
    square = np.full((size, size), 255, np.uint8)
    top, left = (size - scaled.shape[0]) // 2, (size - scaled.shape[1]) // 2
    square[top : top + scaled.shape[0], left : left + scaled.shape[1]] = scaled
    return square


@functools.lru_cache(maxsize=512)
def _label_pixels(label: str, colour: int, width: int, height: int) -> np.ndarray:
    """A label drawn centred in a white box, as grey pixels (the same few labels recur)."""
    image = Image.new("L", (width, height), 255)
    ImageDraw.Draw(image).text(
        (width / 2, height / 2), label, font=_font(LABEL_SIZE), fill=colour, anchor="mm"
    )
    pixels = np.asarray(image)
    pixels.flags.writeable = False
    return pixels


def preview_rows(digits: Sequence[DigitReading], row_digits: int = ROW_DIGITS) -> list[list[int]]:
    """The preview's rows as indexes into `digits`: one row per line of writing, in order, a
    line longer than `row_digits` wrapped into rows of about equal length."""
    lines: dict[int, list[int]] = {}
    for index, digit in enumerate(digits):
        lines.setdefault(digit.line, []).append(index)
    rows = []
    for line in lines.values():
        count = math.ceil(len(line) / row_digits)
        size = math.ceil(len(line) / count)
        rows += [line[start : start + size] for start in range(0, len(line), size)]
    return rows


def preview_columns(
    digits: Sequence[DigitReading], row_digits: int = ROW_DIGITS
) -> list[list[list[int]]]:
    """The preview's rows (see preview_rows) in side-by-side columns, read top to bottom and
    then left to right: one column, unless many short lines (a number written down the page)
    would make a strip too tall to read on a phone. At most `row_digits` digits across."""
    rows = preview_rows(digits, row_digits)
    across = max(len(row) for row in rows)
    columns = [rows]
    for count in range(2, row_digits // across + 1):
        if len(columns[0]) * TILE_HEIGHT <= MAX_TALL * len(columns) * across * TILE_WIDTH:
            break
        per = math.ceil(len(rows) / count)
        columns = [rows[start : start + per] for start in range(0, len(rows), per)]
    return columns


def preview_png(digits: Sequence[DigitReading]) -> bytes:
    """The digits laid out as they were written: one row per line of writing (a long line
    wrapped), each digit its crop above the 8x8 grid the model saw, and the answer below.

    Composed as one array of grey pixels, which is faster than pasting images: the preview is
    on the reply's hot path.
    """
    side = 8 * CELL
    columns = preview_columns(digits)
    across = max(len(row) for column in columns for row in column)
    column_width = across * TILE_WIDTH + GAP
    width = GAP + len(columns) * column_width - GAP
    height = GAP + len(columns[0]) * TILE_HEIGHT
    canvas = np.full((height, width), 255, np.uint8)
    for c, rows in enumerate(columns):
        left = GAP + c * column_width
        if c:
            # Another column of lines: a rule down the picture.
            x = left - GAP
            canvas[GAP:-GAP, x - 1 : x + 1] = LINE_BREAK
        for r, row in enumerate(rows):
            top = GAP + r * TILE_HEIGHT
            if r and digits[row[0]].line != digits[rows[r - 1][0]].line:
                # A new line of writing, not the wrapped rest of one: a rule across the column.
                y = top - GAP // 2
                canvas[y - 1 : y + 1, left : left + across * TILE_WIDTH - GAP] = LINE_BREAK
            grid_top, label_top = top + side + GAP, top + 2 * side + GAP
            for position, index in enumerate(row):
                digit = digits[index]
                x = left + position * TILE_WIDTH
                canvas[top : top + side, x : x + side] = _crop_pixels(digit.ink, side)
                canvas[grid_top : grid_top + side, x : x + side] = grid_pixels(digit.grid)
                label = f"{digit.digit}  {digit.confidence:.0%}" + ("?" if digit.unsure else "")
                colour = 20 if not digit.unsure else 110
                canvas[label_top : label_top + LABEL_HEIGHT, x : x + side] = _label_pixels(
                    label, colour, side, LABEL_HEIGHT
                )
    return _png(Image.fromarray(canvas, "L"))


def sample_png(grid: np.ndarray, label: int) -> bytes:
    """A dataset sample drawn large and crisp (256 x 256 grid) with its label underneath."""
    cell = 32
    grid_img = Image.fromarray(grid_pixels(grid, cell), "L")
    image = Image.new("RGB", (8 * cell + 2 * GAP, 8 * cell + 2 * GAP + 48), PAPER)
    image.paste(grid_img, (GAP, GAP))
    draw = ImageDraw.Draw(image)
    draw.text(
        (image.width / 2, 8 * cell + GAP + 28),
        f"label: {label}",
        font=_font(30),
        fill=INK,
        anchor="mm",
    )
    return _png(image)


def confusion_png(confusion: np.ndarray, title: str) -> bytes:
    """A confusion matrix (rows: true digit, columns: predicted) as a table of counts."""
    cell, margin = 56, 72
    n = confusion.shape[0]
    image = Image.new("RGB", (margin + n * cell + GAP, margin + n * cell + GAP + 24), PAPER)
    draw = ImageDraw.Draw(image)
    font, small = _font(22), _font(18)
    draw.text((margin, 20), title, font=_font(20), fill=INK, anchor="lm")
    row_max = max(int(confusion.max()), 1)
    for r in range(n):
        draw.text(
            (margin - 20, margin + r * cell + cell / 2), str(r), font=font, fill=INK, anchor="mm"
        )
        draw.text(
            (margin + r * cell + cell / 2, margin - 20), str(r), font=font, fill=INK, anchor="mm"
        )
        for c in range(n):
            value = int(confusion[r, c])
            box = (
                margin + c * cell,
                margin + r * cell,
                margin + (c + 1) * cell - 1,
                margin + (r + 1) * cell - 1,
            )
            if value and r == c:
                shade = 255 - int(120 * value / row_max)
                fill: tuple[int, int, int] = (shade, shade, 255)
            elif value:
                fill = (255, 200, 190)
            else:
                fill = PAPER
            draw.rectangle(box, fill=fill, outline=LINE)
            if value:
                draw.text(
                    ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2),
                    str(value),
                    font=small,
                    fill=INK,
                    anchor="mm",
                )
    draw.text(
        (margin + n * cell / 2, image.height - 16),
        CONFUSION_AXES,
        font=small,
        fill=INK,
        anchor="mm",
    )
    return _png(image)
