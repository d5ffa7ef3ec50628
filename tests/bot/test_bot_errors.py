"""The error handler: a bug in handling one update is logged, the user told, the bot goes on."""

from __future__ import annotations

import dataclasses
import logging
from types import SimpleNamespace

import pytest
from telegram.error import NetworkError

from bot import texts
from bot.handlers import on_error
from bot.reading import PhotoReading
from bot.services import Services
from tests.bot.bot_harness import BotHarness
from tests.digit_photos import PhotoMaker


class BrokenOnce(Services):
    """The real services, except that the first read hits a bug."""

    failures = 0

    async def photo_reading(self, data: bytes) -> PhotoReading:
        if self.failures == 0:
            self.failures += 1
            raise RuntimeError("bug in the recognizer")
        return await super().photo_reading(data)


@pytest.fixture
def bot_services(services: Services) -> Services:
    fields = {f.name: getattr(services, f.name) for f in dataclasses.fields(services)}
    return BrokenOnce(**fields)


async def test_a_failing_handler_is_logged_answered_and_survived(
    bot: BotHarness, photo: PhotoMaker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.handlers")
    broken = bot.photo(photo([3]))

    assert (await bot.answer(broken)).params["text"] == texts.ERROR
    [record] = [r for r in caplog.records if r.name == "bot.handlers"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert "bug in the recognizer" in caplog.text and "Traceback" in caplog.text

    fine = bot.photo(photo([3]))
    assert (await bot.answer(fine)).params["caption"].startswith("I read: 3 (")


async def test_polling_network_errors_are_one_warning_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    context = SimpleNamespace(error=NetworkError("connection refused"))
    with caplog.at_level("WARNING"):
        await on_error(None, context)  # type: ignore[arg-type]
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "cannot reach the Bot API" in caplog.text
    assert caplog.records[0].exc_info is None
