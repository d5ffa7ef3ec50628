"""Shared pytest fixtures for the digitbot test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model.recognize import Recognizer, load_recognizer
from model.store import load_model
from tests.digit_photos import PhotoMaker, photo_bytes
from tests.fakebotapi import FakeBotAPI
from training.mnist import MnistError, mnist_folder

GLYPHS = Path(__file__).with_name("mnist_glyphs.npz")
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Outside CI, tests use MNIST only if it is at hand: they never fetch it."""
    if IN_CI or os.environ.get("MNIST_DIR"):
        return
    try:
        os.environ["MNIST_DIR"] = str(mnist_folder(fetch=False))
    except MnistError:
        os.environ["MNIST_DIR"] = str(Path(session.config.rootpath) / "no MNIST at hand")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """A test that needs MNIST is skipped without it, but fails in CI, which must run it."""
    with _mnist_needed():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """As for set-up: no MNIST is a skip, or a failure in CI (CI=true)."""
    with _mnist_needed():
        return (yield)


@contextmanager
def _mnist_needed() -> Iterator[None]:
    try:
        yield
    except MnistError as exc:
        if IN_CI:
            pytest.fail(f"CI must test with MNIST, but it cannot be had: {exc}")
        pytest.skip(
            f"needs MNIST, which is not at hand: `python -m training.mnist` fetches it ({exc})"
        )


@pytest.fixture
def fake_api() -> Iterator[FakeBotAPI]:
    """A running fake Telegram Bot API server on 127.0.0.1 (random port)."""
    with FakeBotAPI() as api:
        yield api
    # A bug inside the fake must fail the test loudly, not hide as a 500 the bot retries.
    assert not api.server_errors, "FakeBotAPI crashed:\n" + "\n".join(api.server_errors)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder of MNIST's IDX files (the test is skipped without it, outside CI)."""
    return mnist_folder()


@pytest.fixture(scope="session")
def glyphs() -> dict[int, np.ndarray]:
    """One clear MNIST glyph per digit (ink 0..1), kept in the repository (`mnist_glyphs.npz`).

    MNIST training digits (the indices are stored beside them; tests/model/test_mnist.py checks
    them against MNIST), so that photos of digits need no download.
    """
    kept = np.load(GLYPHS)
    return {
        int(label): image / np.float32(255.0)
        for image, label in zip(kept["images"], kept["labels"], strict=True)
    }


@pytest.fixture
def photo(glyphs: dict[int, np.ndarray]) -> PhotoMaker:
    """Make a photo of digits: `photo([2, 0], fmt="PNG", size=(640, 480), ...)` → bytes."""

    def make(digits: Sequence[int], fmt: str = "JPEG", **options: Any) -> bytes:
        return photo_bytes(glyphs, digits, fmt, **options)

    return make


@pytest.fixture(scope="session")
def estimator() -> Any:
    """The shipped model, loaded once."""
    return load_model()


@pytest.fixture(scope="session")
def recognizer() -> Recognizer:
    """A recognizer using the shipped model and its whole-digit check."""
    return load_recognizer()
