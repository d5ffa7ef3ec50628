"""Helpers for the corrections tests: a bot started and stopped as `digitbot serve` does it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL
from telegram.ext import Application

from bot.app import build_application
from bot.feedback.database import database_url
from bot.feedback.schema import answers
from bot.feedback.store import FeedbackStore
from bot.services import Services
from bot.settings import Settings


def postgresql_url() -> URL:
    """The test server's URL (DATABASE_URL_TEST); skips the test without one, or fails in CI."""
    raw = os.environ.get("DATABASE_URL_TEST")
    if not raw:
        reason = (
            'PostgreSQL tests need a server: export DATABASE_URL_TEST="$(scripts/test-postgres)"'
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must test PostgreSQL, but DATABASE_URL_TEST is not set. {reason}")
        pytest.skip(reason)
    return database_url(raw, None)


async def message_of(store: FeedbackStore, token: str, timeout: float = 10.0) -> int:  # noqa: ASYNC109
    """The message id of the answer whose buttons carry `token` (the fake keeps no results).

    The bot stores an answer once Telegram confirmed sending it, a moment after the test sees it.
    """

    def lookup() -> int | None:
        with store.engine.connect() as connection:
            return connection.execute(
                select(answers.c.message_id).where(answers.c.token == token)
            ).scalar_one_or_none()

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (found := await asyncio.to_thread(lookup)) is None:
        assert loop.time() < deadline, f"the answer with token {token} was never stored"
        await asyncio.sleep(0.02)
    return int(found)


@asynccontextmanager
async def running_bot(
    settings: Settings, services: Services
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A bot Application polling the fake server, opened and closed as `digitbot serve` does."""
    app = build_application(settings, services)
    await app.initialize()
    assert app.post_init is not None and app.post_shutdown is not None
    await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)
