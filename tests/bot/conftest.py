"""Fixtures for the bot: the services (loaded once), photos of digits and a running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import build_application
from bot.services import Services
from bot.settings import Settings
from tests.bot.bot_harness import TOKEN, BotHarness, chat_of
from tests.fakebotapi import FakeBotAPI


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test item, so fixtures can tell whether the test passed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB 22's timedelta `retry_after`; the int form warns, and warnings fail tests."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture(scope="session")
def services() -> Services:
    """The real services with the shipped model, created once (it takes about a second)."""
    return Services.create()


@pytest.fixture
def settings(fake_api: FakeBotAPI) -> Settings:
    """Settings pointing the bot at the fake Bot API server."""
    return Settings.embedded(token=TOKEN, api_url=fake_api.url)


@pytest.fixture
def bot_services(services: Services) -> Services:
    """The services the running bot uses; override it to stub them."""
    return services


@pytest.fixture
async def bot(
    request: pytest.FixtureRequest,
    fake_api: FakeBotAPI,
    settings: Settings,
    bot_services: Services,
) -> AsyncIterator[BotHarness]:
    """The real Application, long-polling the fake server; checks one answer per update."""
    app = build_application(settings, bot_services)
    await app.initialize()
    if app.post_init:  # run_polling() and run_webhook() call it; initialize() does not
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    # Every kind of update is fetched, so the handlers' own filters are what is tested.
    await app.updater.start_polling(poll_interval=0, timeout=1)
    harness = BotHarness(fake_api, app)
    try:
        yield harness
        if not getattr(request.node, "report_call", None) or request.node.report_call.failed:
            return  # the test's own failure says enough
        # Updates still queued when the test ends must be answered too.
        await fake_api.await_for(
            lambda _calls: all(harness.answers(update) for update in harness.sent), timeout=10
        )
    finally:
        await app.updater.stop()
        await app.stop()  # waits for handlers still running
        await app.shutdown()
    answered = {chat_of(u): [c.method for c in harness.answers(u)] for u in harness.sent}
    wrong = {chat: methods for chat, methods in answered.items() if len(methods) != 1}
    assert not wrong, f"updates not answered exactly once (chat: answers): {wrong}"
    spoken = {chat_of(u): [c.method for c in harness.answers(u)] for u in harness.ignored}
    assert not any(spoken.values()), f"updates answered that should not be: {spoken}"
