"""Shared pytest fixtures for the digitbot test suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakebotapi import FakeBotAPI


@pytest.fixture
def fake_api() -> Iterator[FakeBotAPI]:
    """A running fake Telegram Bot API server on 127.0.0.1 (random port)."""
    with FakeBotAPI() as api:
        yield api
    # A bug inside the fake must fail the test loudly, not hide as a 500 the bot retries.
    assert not api.server_errors, "FakeBotAPI crashed:\n" + "\n".join(api.server_errors)
