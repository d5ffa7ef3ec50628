"""Fixtures for the recognition core: the shipped model and synthetic photos of digits."""

from __future__ import annotations

from typing import Any

import pytest

from model.recognize import Recognizer, load_recognizer
from model.store import load_model


@pytest.fixture(scope="session")
def estimator() -> Any:
    """The shipped model, loaded once."""
    return load_model()


@pytest.fixture(scope="session")
def recognizer() -> Recognizer:
    """A recognizer using the shipped model and its whole-digit check."""
    return load_recognizer()
