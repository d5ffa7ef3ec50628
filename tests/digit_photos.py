"""Synthetic photos of handwritten digits (held-out MNIST glyphs on paper) for the tests."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from bench.photos import bench_cases
from model.recognize import Recognizer
from tests.fakebotapi.photos import resized_jpeg

PhotoMaker = Callable[..., bytes]


def draw(
    glyphs: dict[int, np.ndarray],
    digits: Sequence[int],
    size: tuple[int, int] = (1280, 960),
    height: float = 0.35,
    ink: float = 30.0,
    paper: float = 225.0,
    step: float = 0.85,
) -> np.ndarray:
    """Return a grey image with the digits written left to right, centred."""
    w, h = size
    side = int(h * height)
    canvas = np.full((h, w), paper, dtype=np.float64)
    advance = int(side * step)
    x = (w - advance * len(digits)) // 2
    y = (h - side) // 2
    for digit in digits:
        glyph = Image.fromarray((glyphs[digit] * 255).astype(np.uint8)).resize(
            (side, side), Image.Resampling.BILINEAR
        )
        alpha = np.asarray(glyph, dtype=np.float64) / 255.0
        region = canvas[y : y + side, x : x + side]
        canvas[y : y + side, x : x + side] = region * (1 - alpha) + ink * alpha
        x += advance
    return canvas


def ink_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The (left, top, right, bottom) pixels, inclusive, of a grey image's dark ink."""
    ink = np.asarray(image) < 128
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])


def encode(image: Image.Image, fmt: str = "JPEG", **params: Any) -> bytes:
    """Return an image's bytes in a file format."""
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def photo_bytes(
    glyphs: dict[int, np.ndarray], digits: Sequence[int], fmt: str = "JPEG", **options: Any
) -> bytes:
    """A photo of handwritten digits on paper, as JPEG (or `fmt`) bytes."""
    grey = draw(glyphs, digits, **options)
    image = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L").convert("RGB")
    return encode(image, fmt, **({"quality": 90} if fmt == "JPEG" else {}))


def bench_reading(
    recognizer: Recognizer, kind: str, condition: str, case: int, seed: int = 0, side: int = 800
) -> tuple[str, str]:
    """Bench photo `case` of `condition` (at `side` px): its label and what is read."""
    (photo,) = bench_cases(kind, case + 1, seed=seed, conditions=[condition], start=case)
    return photo.label, recognizer.read(resized_jpeg(photo.jpeg, side)).text


WORDS = (
    "Dear Anna, thank you for",
    "the lovely flowers you sent",
    "me last week. See you soon!",
)


def words_page(lines: Sequence[str] = WORDS, size: int = 60, wavy: bool = False) -> Image.Image:
    """Lines of words on paper (1280x960), printed, or `wavy` as a hand would write them."""
    font = ImageFont.load_default(size)
    page = Image.new("L", (1280, 960), 225)
    drawing = ImageDraw.Draw(page)
    for k, line in enumerate(lines):
        drawing.text((80, 150 + k * int(2.2 * size)), line, font=font, fill=35)
    if not wavy:
        return page
    rng = np.random.default_rng(size)
    grey = np.asarray(page, dtype=np.float64)
    dy = ndimage.gaussian_filter(rng.uniform(-1, 1, grey.shape), 12) * 200
    dx = ndimage.gaussian_filter(rng.uniform(-1, 1, grey.shape), 12) * 200
    ys, xs = np.indices(grey.shape, dtype=np.float64)
    warped = ndimage.map_coordinates(grey, [ys + dy, xs + dx], order=1, mode="nearest")
    return Image.fromarray(np.clip(warped, 0, 255).astype(np.uint8), "L")
