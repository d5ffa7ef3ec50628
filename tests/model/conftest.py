"""Fixtures for the recognition core: the shipped model and synthetic photos of digits."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from PIL import Image

from model.data import MNIST_HELDOUT, mnist_glyphs
from model.recognize import Recognizer
from model.store import load_model

PhotoMaker = Callable[..., bytes]


@pytest.fixture(scope="session")
def estimator() -> Any:
    """The shipped model, loaded once."""
    return load_model()


@pytest.fixture(scope="session")
def recognizer(estimator: Any) -> Recognizer:
    """A recognizer using the shipped model."""
    return Recognizer(estimator)


@pytest.fixture(scope="session")
def glyphs() -> dict[int, np.ndarray]:
    """One clear held-out MNIST glyph per digit (ink 0..1), chosen once by index."""
    images, labels = mnist_glyphs(MNIST_HELDOUT)
    return {digit: images[np.flatnonzero(labels == digit)[3]] for digit in range(10)}


def draw(
    glyphs: dict[int, np.ndarray],
    digits: Sequence[int],
    size: tuple[int, int] = (1280, 960),
    height: float = 0.35,
    ink: float = 30.0,
    paper: float = 225.0,
) -> np.ndarray:
    """Return a grey image with the digits written left to right, centred."""
    w, h = size
    side = int(h * height)
    canvas = np.full((h, w), paper, dtype=np.float64)
    step = int(side * 0.85)
    x = (w - step * len(digits)) // 2
    y = (h - side) // 2
    for digit in digits:
        glyph = Image.fromarray((glyphs[digit] * 255).astype(np.uint8)).resize(
            (side, side), Image.Resampling.BILINEAR
        )
        alpha = np.asarray(glyph, dtype=np.float64) / 255.0
        region = canvas[y : y + side, x : x + side]
        canvas[y : y + side, x : x + side] = region * (1 - alpha) + ink * alpha
        x += step
    return canvas


def encode(image: Image.Image, fmt: str = "JPEG", **params: Any) -> bytes:
    """Return an image's bytes in a file format."""
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


@pytest.fixture
def photo(glyphs: dict[int, np.ndarray]) -> PhotoMaker:
    """Make a photo of digits: `photo([2, 0], fmt="PNG", size=(640, 480), ...)` → bytes."""

    def make(digits: Sequence[int], fmt: str = "JPEG", **options: Any) -> bytes:
        grey = draw(glyphs, digits, **options)
        image = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L").convert("RGB")
        return encode(image, fmt, **({"quality": 90} if fmt == "JPEG" else {}))

    return make
