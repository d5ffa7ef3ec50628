"""Faults between the bot and the Bot API: every update is answered exactly once, none lost.

Telegram asking the bot to wait (429), failing (500, 502), dropping connections, answering too
slowly, or being down for a while: after each scenario every photo and command sent has exactly
one answer (the `bot` fixture checks that on teardown; attempts that failed do not count).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from telegram.error import BadRequest, NetworkError, TimedOut

from bot import texts
from bot.retry import DOWNLOAD as RETRY_DOWNLOAD
from bot.retry import is_retried, is_transient
from tests.bot.bot_harness import BotHarness
from tests.digit_photos import PhotoMaker
from tests.fakebotapi import DOWNLOAD, FakeBotAPI

pytestmark = pytest.mark.slow  # waits out timeouts and retries


# PTB's default read timeout (5 s) plus the fixture's long-poll timeout (1 s) for getUpdates.
SLOWER_THAN_READ_TIMEOUT = 5.5
SLOWER_THAN_POLL_TIMEOUT = 6.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fake_api() -> Iterator[FakeBotAPI]:
    """The fake Bot API on a fixed port, so it can be stopped and started again at one address."""
    with FakeBotAPI(port=free_port()) as api:
        yield api
    assert not api.server_errors, "FakeBotAPI crashed:\n" + "\n".join(api.server_errors)


def attempts(api: FakeBotAPI, method: str) -> list[int | None]:
    """The statuses the server answered `method` with, in order (0: connection dropped)."""
    return [call.status for call in api.calls_for(method)]


async def test_429_is_waited_out_and_retried(
    bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker
) -> None:
    fake_api.fail_next("sendPhoto", 429, retry_after=1)
    fake_api.fail_next("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    reading, start = bot.photo(photo([3])), bot.text("/start")

    assert (await bot.answer(reading)).params["caption"].startswith("I read: 3 (")
    assert (await bot.answer(start)).params["text"] == texts.START
    assert time.monotonic() - started >= 1.0  # Telegram's retry_after was respected
    assert attempts(fake_api, "sendPhoto") == [429, 200]
    assert attempts(fake_api, "sendMessage") == [429, 200]


async def test_server_errors_are_retried(
    bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker
) -> None:
    fake_api.fail_next("getFile", 502)
    fake_api.fail_next(DOWNLOAD, 500)
    fake_api.fail_next("sendPhoto", 500)
    fake_api.fail_next("sendMessage", 502, count=2)
    fake_api.fail_next("sendMediaGroup", 500)
    updates = [bot.photo(photo([4])), bot.text("/help"), bot.text("/sample 2")]
    for update in updates:
        await bot.answer(update)

    assert attempts(fake_api, "getFile") == [502, 200]
    assert attempts(fake_api, "sendPhoto") == [500, 200]
    assert attempts(fake_api, "sendMessage") == [502, 502, 200]
    assert attempts(fake_api, "sendMediaGroup") == [500, 200]
    assert len(fake_api.downloads) == 1


async def test_a_refused_request_is_not_retried(
    bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker
) -> None:
    fake_api.fail_next("getFile", 400, description="Bad Request: wrong file_id")
    answer = await bot.answer(bot.photo(photo([5])))

    assert answer.params["text"] == texts.DOWNLOAD_FAILED
    assert attempts(fake_api, "getFile") == [400]


async def test_dropped_connections_are_retried(
    bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker
) -> None:
    await fake_api.await_for(lambda _calls: fake_api.waiting_polls == 1)
    fake_api.drop_next("getUpdates")
    fake_api.drop_next("getFile")
    fake_api.drop_next(DOWNLOAD)
    fake_api.drop_next("sendPhoto")
    fake_api.drop_next("sendMessage")
    # The long poll under way ends once the updates arrive; the next one is dropped.
    first = [bot.photo(photo([6])), bot.text("/start")]
    for update in first:
        await bot.answer(update)
    later = bot.photo(photo([9]))
    assert (await bot.answer(later)).params["caption"].startswith("I read: 9 (")

    assert 0 in attempts(fake_api, "getUpdates")
    assert attempts(fake_api, "getFile")[:2] == [0, 200]
    assert attempts(fake_api, "sendPhoto")[:2] == [0, 200]
    assert attempts(fake_api, "sendMessage") == [0, 200]
    assert len(fake_api.downloads) == 2  # once per photo; the dropped attempt is not counted


async def test_timeouts_are_retried(
    bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker
) -> None:
    # Of two photos, one's getFile and the other's download are slow: they time out side by side.
    fake_api.delay_next("getFile", 0)
    fake_api.delay_next("getFile", SLOWER_THAN_READ_TIMEOUT)
    fake_api.delay_next(DOWNLOAD, SLOWER_THAN_READ_TIMEOUT)
    early = [bot.photo(photo([1])), bot.photo(photo([2]))]
    await fake_api.await_calls("getFile", count=2)
    # Meanwhile a long poll is answered too late; the photo sent then is fetched by the next.
    fake_api.delay_next("getUpdates", SLOWER_THAN_POLL_TIMEOUT)
    since = fake_api.mark()
    await fake_api.await_calls("getUpdates", since=since, timeout=5)
    late = bot.photo(photo([8]))
    for update in [*early, late]:
        await bot.answer(update, timeout=20)

    assert len(fake_api.calls_for("getFile")) == 4  # one timed out, and was made again
    assert len(fake_api.downloads) >= 3  # the slow one was given up (it may end up counted)


async def test_bot_api_down_for_a_while(
    bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker
) -> None:
    await bot.answer(bot.text("/start"))
    # Three photos are in the bot's hands (fetching their files) when the server goes away.
    fake_api.delay_next("getFile", 0.5, count=3)
    in_flight = [bot.photo(photo([d])) for d in (2, 5, 7)]
    await fake_api.await_calls("getFile", count=3)
    fake_api.stop()
    # These wait on the server meanwhile, as they would at Telegram.
    queued = [bot.photo(photo([3])), bot.text("/help"), bot.sticker()]
    await asyncio.sleep(3.0)
    fake_api.start()

    for update in [*in_flight, *queued]:
        await bot.answer(update, timeout=20)
    readings = [bot.answers(u)[0].params.get("caption", "") for u in in_flight]
    assert [r[:10] for r in readings] == ["I read: 2 ", "I read: 5 ", "I read: 7 "]


@pytest.mark.parametrize(
    ("endpoint", "cause", "transient"),
    [
        ("sendPhoto", httpx.ConnectError("refused"), True),
        ("sendPhoto", httpx.RemoteProtocolError("server disconnected"), True),
        ("sendPhoto", httpx.PoolTimeout("pool"), True),
        ("sendPhoto", httpx.ReadTimeout("slow"), False),  # may have been delivered
        ("sendPhoto", httpx.ReadError("reset"), False),
        ("getFile", httpx.ReadTimeout("slow"), True),
        (RETRY_DOWNLOAD, httpx.ReadError("reset"), True),
        ("sendPhoto", None, False),  # raised for an answer the server gave
    ],
)
def test_which_failures_are_transient(
    endpoint: str, cause: Exception | None, transient: bool
) -> None:
    error: NetworkError = (
        TimedOut() if isinstance(cause, httpx.TimeoutException) else NetworkError("x")
    )
    error.__cause__ = cause
    assert is_transient(endpoint, error) is transient
    bad_request = BadRequest("Bad Request: chat not found")
    assert not is_transient(endpoint, bad_request)


@pytest.mark.parametrize(
    ("endpoint", "retried"),
    [
        ("sendPhoto", True),
        ("sendMessage", True),
        ("editMessageText", True),
        ("answerCallbackQuery", True),
        ("getFile", True),
        (RETRY_DOWNLOAD, True),
        ("sendChatAction", False),  # a courtesy: never worth a delay
        ("getUpdates", False),  # PTB's updater retries it
        ("getMe", False),  # the heartbeat must see it fail
    ],
)
def test_which_requests_are_retried(endpoint: str, retried: bool) -> None:
    assert is_retried(endpoint) is retried
