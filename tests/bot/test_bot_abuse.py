"""Abuse: a user over the rate limit gets one notice, strangers one refusal, chats are paced."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from bot import texts
from bot.access import REFUSAL_QUIET, AllowList
from bot.limits import PRUNE_AT, WINDOW, SendLimiter, UserRateLimit
from bot.settings import Settings, SettingsError
from tests.bot.bot_harness import TOKEN, BotHarness
from tests.digit_photos import PhotoMaker
from tests.fakebotapi import FakeBotAPI

LIMIT = 3
COMMAND_LIMIT = 3
FRIEND = 31_337


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_admits_then_notices_once_then_admits_again() -> None:
    clock = Clock()
    limit = UserRateLimit(3, clock=clock)
    for _ in range(3):
        assert limit.admit(1) is None
        clock.now += 10
    assert limit.admit(1) == pytest.approx(WINDOW - 30)  # the first refused one: the notice
    assert limit.admit(2) is None  # other users are not affected
    clock.now += 20
    assert limit.admit(1) == 0.0  # covered by the notice
    clock.now += 10.1  # the first message of the three is a minute old
    assert limit.admit(1) is None
    assert limit.admit(1) == pytest.approx(9.9)  # a new stretch: a new notice


def test_no_limit_when_zero() -> None:
    limit = UserRateLimit(0)
    assert limit.per_minute == 0


def test_memory_stays_bounded_under_many_users() -> None:
    clock = Clock()
    limit = UserRateLimit(1, clock=clock)
    for user in range(20_000):  # one new user a second: about 60 active at any time
        limit.admit(user)
        clock.now += 1
    assert len(limit._users) <= PRUNE_AT + 1


def test_a_stranger_is_refused_once_per_quiet_period() -> None:
    clock = Clock()
    allow = AllowList(frozenset({1}), clock=clock)
    assert allow._should_refuse(2)
    clock.now += REFUSAL_QUIET - 1
    assert not allow._should_refuse(2)
    clock.now += 1
    assert allow._should_refuse(2)


def flood(api: FakeBotAPI, user_id: int, count: int, data: bytes) -> list[dict[str, Any]]:
    return [api.send_photo(data, user_id=user_id) for _ in range(count)]


def in_chat(api: FakeBotAPI, chat_id: int, method: str) -> list[Any]:
    return [c for c in api.calls_for(method) if c.params.get("chat_id") == chat_id and c.ok]


class TestRateLimit:
    @pytest.fixture
    def settings(self, fake_api: FakeBotAPI) -> Settings:
        # No pacing of chats here: what is tested is the per-user limit, not Telegram's.
        return Settings.embedded(
            token=TOKEN,
            api_url=fake_api.url,
            rate_limit_per_minute=LIMIT,
            command_rate_limit_per_minute=COMMAND_LIMIT,
            send_rate_per_second=0,
        )

    @pytest.mark.slow  # a flood of photos end to end
    async def test_a_flood_gets_limit_answers_and_one_notice(
        self, bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker
    ) -> None:
        flooder = 66_666
        flood(fake_api, flooder, 12, photo([4]))
        others = [bot.photo(photo([d])) for d in (1, 7)]
        for update in others:
            await bot.answer(update)  # not held up by the flood
        await fake_api.await_for(lambda _c: len(in_chat(fake_api, flooder, "sendPhoto")) == LIMIT)
        await fake_api.await_for(lambda _c: in_chat(fake_api, flooder, "sendMessage"))
        # A later photo within the minute is covered by the notice too; a command has its own
        # budget, so the flooder can still ask for /help.
        fake_api.send_photo(photo([4]), user_id=flooder)
        fake_api.send_text("/help", user_id=flooder)
        await fake_api.await_for(lambda _c: len(in_chat(fake_api, flooder, "sendMessage")) == 2)
        await bot.answer(bot.text("/start"))

        notice, help_ = in_chat(fake_api, flooder, "sendMessage")
        assert notice.params["text"] in {texts.rate_limited(LIMIT, s) for s in range(50, 61)}
        assert "photos and files" in notice.params["text"]
        assert help_.params["text"] == texts.HELP
        assert len(in_chat(fake_api, flooder, "sendPhoto")) == LIMIT
        # The skipped photos were never fetched: a flood costs no downloads.
        assert len(fake_api.calls_for("getFile")) == LIMIT + len(others)

    async def test_ignored_group_chatter_does_not_count(
        self, bot: BotHarness, fake_api: FakeBotAPI
    ) -> None:
        group = -1_009_999
        for _ in range(LIMIT + 2):
            fake_api.send_text("just chatting", chat_id=group, user_id=FRIEND)
        for command in ("/start", "/help", "/start"):
            fake_api.send_text(command, chat_id=group, user_id=FRIEND)
        await fake_api.await_for(
            lambda _c: len(in_chat(fake_api, group, "sendMessage")) == COMMAND_LIMIT
        )
        await bot.answer(bot.text("/help"))  # everything before it was handled by now
        answered = sorted(c.params["text"] for c in in_chat(fake_api, group, "sendMessage"))
        assert answered == sorted([texts.START, texts.HELP, texts.START])

    async def test_commands_have_their_own_budget_and_one_notice(
        self, bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker
    ) -> None:
        explorer = 77_777
        for command in ("/start", "/help", "/sample 1 1", "/accuracy", "/help", "/stats"):
            fake_api.send_text(command, user_id=explorer)
            await asyncio.sleep(0.05)  # in this order
        fake_api.send_photo(photo([7]), user_id=explorer)  # photos are counted apart
        await fake_api.await_for(lambda _c: len(in_chat(fake_api, explorer, "sendMessage")) == 3)
        await fake_api.await_for(lambda _c: len(in_chat(fake_api, explorer, "sendPhoto")) == 2)
        await bot.answer(bot.text("/start"))  # everything before it was handled by now

        # /start, /help and /sample were answered; /accuracy got the one notice, which covers
        # the /help and /stats after it; the photo was read all the same.
        start, help_, notice = (
            c.params["text"] for c in in_chat(fake_api, explorer, "sendMessage")
        )
        assert (start, help_) == (texts.START, texts.HELP)
        assert notice in {texts.rate_limited(COMMAND_LIMIT, s, images=False) for s in range(50, 61)}
        assert "commands, texts and button taps" in notice
        sample, reading = (c.params["caption"] for c in in_chat(fake_api, explorer, "sendPhoto"))
        assert sample == "This is a 1" and reading.startswith("I read: 7")

    async def test_taps_over_the_limit_are_answered_with_one_notice(
        self, bot: BotHarness, fake_api: FakeBotAPI
    ) -> None:
        tapper = 88_888
        taps = [
            fake_api.send_callback_query("fb:nothing:ok", user_id=tapper)
            for _ in range(COMMAND_LIMIT + 3)
        ]
        await fake_api.await_for(
            lambda _c: len(fake_api.calls_for("answerCallbackQuery")) == len(taps)
        )
        # Updates are handled concurrently, so the answers may arrive in any order: a tap
        # turned away is answered sooner than one that asks the corrections' store.
        answers = [c.params.get("text") for c in fake_api.calls_for("answerCallbackQuery")]
        assert answers.count(texts.TAP_UNKNOWN) == COMMAND_LIMIT
        notices = [a for a in answers if a is not None and a != texts.TAP_UNKNOWN]
        assert len(notices) == 1 and notices[0].startswith("Too many taps")
        assert len(notices[0]) <= 200  # Telegram's limit for a button's answer
        assert answers.count(None) == 2  # answered, silently: the notice covers them


class TestAllowList:
    @pytest.fixture
    def settings(self, fake_api: FakeBotAPI) -> Settings:
        return Settings.embedded(
            token=TOKEN, api_url=fake_api.url, allowed_user_ids=frozenset({FRIEND})
        )

    async def test_only_allowed_users_are_served(
        self,
        bot: BotHarness,
        fake_api: FakeBotAPI,
        photo: PhotoMaker,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.INFO, logger="bot.access")
        stranger = 55_555
        fake_api.send_photo(photo([3]), user_id=FRIEND)
        fake_api.send_photo(photo([3]), user_id=stranger)
        fake_api.send_text("/start", user_id=stranger)  # covered by the first refusal
        button = fake_api.send_callback_query("feedback:whatever", user_id=stranger)
        fake_api.send_text("/help", user_id=FRIEND)

        await fake_api.await_for(lambda _c: in_chat(fake_api, FRIEND, "sendPhoto"))
        await fake_api.await_for(lambda _c: in_chat(fake_api, FRIEND, "sendMessage"))
        await fake_api.await_for(lambda _c: fake_api.calls_for("answerCallbackQuery"))

        [refusal] = in_chat(fake_api, stranger, "sendMessage")
        assert refusal.params["text"] == texts.NOT_ALLOWED
        assert not in_chat(fake_api, stranger, "sendPhoto")
        [answered] = fake_api.calls_for("answerCallbackQuery")
        assert answered.params["callback_query_id"] == button["callback_query"]["id"]
        assert answered.params["text"] == texts.NOT_ALLOWED
        assert len(fake_api.calls_for("getFile")) == 1  # nothing fetched for the stranger
        assert f"refused user {stranger}" in caplog.text


async def test_private_chats_are_paced_and_others_are_not_held_up() -> None:
    limiter = SendLimiter(per_second=30)
    sent: dict[int, list[float]] = {1: [], 2: []}

    async def send(chat: int) -> bool:
        sent[chat].append(time.monotonic())
        return True

    async def request(chat: int, endpoint: str = "sendMessage") -> Any:
        return await limiter.process_request(send, (chat,), {}, endpoint, {"chat_id": chat}, None)

    started = time.monotonic()
    await asyncio.gather(*(request(1) for _ in range(4)), *(request(2) for _ in range(3)))
    assert max(sent[2]) - started < 0.5  # within its burst
    assert max(sent[1]) - started >= 0.8  # the fourth waited about a second
    actions = time.monotonic()
    await asyncio.gather(*(request(1, "sendChatAction") for _ in range(3)))
    assert time.monotonic() - actions < 0.5  # chat actions are no messages: not paced


async def test_no_pacing_when_turned_off() -> None:
    limiter = SendLimiter(per_second=0)

    async def send() -> bool:
        return True

    started = time.monotonic()
    for _ in range(50):
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert time.monotonic() - started < 0.5


def from_env(**values: str) -> Settings:
    return Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, **values}, env_file=None)


def test_abuse_settings_defaults() -> None:
    got = from_env()
    assert got.rate_limit_per_minute == 20
    assert got.allowed_user_ids == frozenset()
    assert got.send_rate_per_second == 30
    assert got.api_retry_seconds == 60
    assert got.download_timeout == 30


def test_abuse_settings_are_parsed() -> None:
    got = from_env(
        RATE_LIMIT_PER_MINUTE="0",
        ALLOWED_USER_IDS=" 12345, 678 ,",
        SEND_RATE_PER_SECOND="0",
        API_RETRY_SECONDS="5",
        DOWNLOAD_TIMEOUT="10",
    )
    assert got.rate_limit_per_minute == 0
    assert got.allowed_user_ids == frozenset({12345, 678})
    assert (got.send_rate_per_second, got.api_retry_seconds, got.download_timeout) == (0, 5, 10)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RATE_LIMIT_PER_MINUTE", "-1", "RATE_LIMIT_PER_MINUTE must be between 0 and"),
        ("RATE_LIMIT_PER_MINUTE", "lots", "RATE_LIMIT_PER_MINUTE must be a whole number"),
        ("ALLOWED_USER_IDS", "12345,@someone", "ALLOWED_USER_IDS must be Telegram user ids"),
        ("ALLOWED_USER_IDS", "-5", "ALLOWED_USER_IDS must be Telegram user ids"),
        ("SEND_RATE_PER_SECOND", "5000", "SEND_RATE_PER_SECOND must be between 0 and 1000"),
        ("API_RETRY_SECONDS", "1.5", "API_RETRY_SECONDS must be a whole number"),
        ("DOWNLOAD_TIMEOUT", "0", "DOWNLOAD_TIMEOUT must be between 1 and"),
    ],
)
def test_bad_abuse_settings_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        from_env(**{name: value})
