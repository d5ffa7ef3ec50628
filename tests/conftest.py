"""Shared pytest fixtures for the digitbot test suite."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest
from digit_photos import PhotoMaker, photo_bytes
from fakebotapi import FakeBotAPI

from model.data import MNIST_HELDOUT, mnist_glyphs


@pytest.fixture
def fake_api() -> Iterator[FakeBotAPI]:
    """A running fake Telegram Bot API server on 127.0.0.1 (random port)."""
    with FakeBotAPI() as api:
        yield api
    # A bug inside the fake must fail the test loudly, not hide as a 500 the bot retries.
    assert not api.server_errors, "FakeBotAPI crashed:\n" + "\n".join(api.server_errors)


@pytest.fixture(scope="session")
def glyphs() -> dict[int, np.ndarray]:
    """One clear held-out MNIST glyph per digit (ink 0..1), chosen once by index."""
    images, labels = mnist_glyphs(MNIST_HELDOUT)
    return {digit: images[np.flatnonzero(labels == digit)[3]] for digit in range(10)}


@pytest.fixture
def photo(glyphs: dict[int, np.ndarray]) -> PhotoMaker:
    """Make a photo of digits: `photo([2, 0], fmt="PNG", size=(640, 480), ...)` → bytes."""

    def make(digits: Sequence[int], fmt: str = "JPEG", **options: Any) -> bytes:
        return photo_bytes(glyphs, digits, fmt, **options)

    return make
