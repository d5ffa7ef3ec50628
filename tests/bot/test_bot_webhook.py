"""End to end in webhook mode: the fake Bot API posts updates to the bot's own web server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from bot import texts
from bot.app import build_application, webhook_options
from bot.services import Services
from bot.settings import Settings
from tests.bot.bot_harness import TOKEN, WEBHOOK_SECRET, BotHarness
from tests.digit_photos import PhotoMaker
from tests.fakebotapi import FakeBotAPI

PUBLIC_URL = "https://bot.example.invalid/telegram/hook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def hooked(fake_api: FakeBotAPI, services: Services) -> AsyncIterator[tuple[BotHarness, str]]:
    """The bot serving its webhook on 127.0.0.1, and the local URL to post updates to."""
    settings = Settings.embedded(
        token=TOKEN,
        api_url=fake_api.url,
        mode="webhook",
        webhook_url=PUBLIC_URL,
        webhook_listen="127.0.0.1",
        webhook_port=free_port(),
        webhook_secret=WEBHOOK_SECRET,
    )
    app = build_application(settings, services)
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    # The same arguments as serve() passes to run_webhook().
    await app.updater.start_webhook(**webhook_options(settings))
    try:
        yield BotHarness(fake_api, app), f"http://127.0.0.1:{settings.webhook_port}/telegram/hook"
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_webhook_is_registered_with_secret(
    hooked: tuple[BotHarness, str], fake_api: FakeBotAPI
) -> None:
    assert fake_api.webhook["url"] == PUBLIC_URL
    assert fake_api.webhook["secret_token"] == WEBHOOK_SECRET
    assert fake_api.webhook["allowed_updates"] == ["message", "callback_query"]


async def test_update_with_the_secret_is_answered(
    hooked: tuple[BotHarness, str], fake_api: FakeBotAPI, photo: PhotoMaker
) -> None:
    bot, url = hooked
    start = bot.text("/start")
    reading = bot.photo(photo([4, 2]))

    assert await fake_api.post_update_to_webhook(url, start, WEBHOOK_SECRET) == 200
    assert await fake_api.post_update_to_webhook(url, reading, WEBHOOK_SECRET) == 200

    assert (await bot.answer(start)).params["text"] == texts.START
    assert (await bot.answer(reading)).params["caption"].startswith("I read: 42")


@pytest.mark.parametrize("secret", ["wrong-secret_0123456789", None])
async def test_update_without_the_secret_is_refused(
    hooked: tuple[BotHarness, str], fake_api: FakeBotAPI, secret: str | None
) -> None:
    bot, url = hooked
    forged = bot.text("/start")

    assert await fake_api.post_update_to_webhook(url, forged, secret) == 403

    # A 403 means the update was never queued: a genuine one posted after it is answered, and
    # the forged one is not.
    genuine = bot.text("/help")
    assert await fake_api.post_update_to_webhook(url, genuine, WEBHOOK_SECRET) == 200
    await bot.answer(genuine)
    assert bot.answers(forged) == []


async def test_other_paths_are_not_the_webhook(
    hooked: tuple[BotHarness, str], fake_api: FakeBotAPI
) -> None:
    bot, url = hooked
    update = bot.text("/start")
    wrong_path = url.removesuffix("/hook") + "/other"
    assert await fake_api.post_update_to_webhook(wrong_path, update, WEBHOOK_SECRET) == 404
