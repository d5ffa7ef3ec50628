"""Fixtures for the recognition core: the shipped model and synthetic photos of digits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from model_photos import PhotoMaker, draw, encode
from PIL import Image

from model.data import MNIST_HELDOUT, mnist_glyphs
from model.recognize import Recognizer
from model.store import load_model


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


@pytest.fixture
def photo(glyphs: dict[int, np.ndarray]) -> PhotoMaker:
    """Make a photo of digits: `photo([2, 0], fmt="PNG", size=(640, 480), ...)` → bytes."""

    def make(digits: Sequence[int], fmt: str = "JPEG", **options: Any) -> bytes:
        grey = draw(glyphs, digits, **options)
        image = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L").convert("RGB")
        return encode(image, fmt, **({"quality": 90} if fmt == "JPEG" else {}))

    return make
