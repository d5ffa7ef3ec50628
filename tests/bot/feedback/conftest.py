"""Fixtures for corrections: the feedback store on SQLite and on PostgreSQL, and a bot using it.

The PostgreSQL half needs a server: `export DATABASE_URL_TEST="$(scripts/test-postgres)"`. Without
one the PostgreSQL tests are skipped locally, but fail in CI (CI=true), which must run them.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from bot.feedback.database import database_url
from bot.feedback.store import FeedbackStore
from bot.services import Services
from bot.settings import Settings
from tests.bot.bot_harness import TOKEN, BotHarness
from tests.bot.feedback.feedback_harness import postgresql_url, running_bot
from tests.fakebotapi import FakeBotAPI

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[URL]:
    """The URL of an empty feedback database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield database_url(None, tmp_path / "data")
        return
    server = postgresql_url()
    schema = f"test_{secrets.token_hex(6)}"
    admin = create_engine(server)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        # Every connection of the store works in the new schema only.
        yield server.update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def store(database: URL) -> Iterator[FeedbackStore]:
    """A migrated feedback store on each backend."""
    opened = FeedbackStore.open(database)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def feedback_settings(fake_api: FakeBotAPI, database: URL) -> Settings:
    """Settings pointing the bot at the fake Bot API and at the test database."""
    url = make_url(database)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        return Settings.embedded(
            token=TOKEN, api_url=fake_api.url, data_dir=Path(url.database).parent
        )
    return Settings.embedded(
        token=TOKEN,
        api_url=fake_api.url,
        database_url=url.render_as_string(hide_password=False),
    )


@pytest.fixture
async def feedback_bot(
    fake_api: FakeBotAPI, feedback_settings: Settings, services: Services
) -> AsyncIterator[BotHarness]:
    """The real bot, keeping corrections in the test database (closed again at the end)."""
    async with running_bot(feedback_settings, services) as app:
        yield BotHarness(fake_api, app)
