"""Helpers for driving the real bot Application against the fake Bot API, and for photos.

Every update a test sends comes from a new private chat, so the bot's answers to it can be told
apart by `chat_id` alone, without relying on reply quoting.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from telegram.ext import Application

from tests.fakebotapi import Call, FakeBotAPI

TOKEN = "987654321:AAFake-token_for_digitbot_tests_0123"
WEBHOOK_SECRET = "hook-Secret_0123456789"

# Every variable Settings.from_env reads.
ENV_NAMES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "LOG_LEVEL",
    "MODEL_PATH",
    "MODEL_SHA256",
    "MAX_FILE_MB",
    "HEARTBEAT_FILE",
    "HEARTBEAT_INTERVAL",
    "RATE_LIMIT_PER_MINUTE",
    "COMMAND_RATE_LIMIT_PER_MINUTE",
    "ALLOWED_USER_IDS",
    "SEND_RATE_PER_SECOND",
    "API_RETRY_SECONDS",
    "STARTUP_RETRY_SECONDS",
    "STARTUP_RETRY_MAX_SECONDS",
    "DOWNLOAD_TIMEOUT",
    "DATA_DIR",
    "DATABASE_URL",
    "KEEP_CROPS",
    "RECOGNITION_PROCESSES",
)

# What counts as an answer the user can see; sendChatAction ("uploading…") does not.
ANSWER_METHODS = ("sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument")


def chat_of(update: dict[str, Any]) -> int:
    """The chat an update's message was sent in."""
    message = next(value for key, value in update.items() if key != "update_id")
    return int(message["chat"]["id"])


def png_size(data: bytes) -> tuple[int, int]:
    """Decode PNG bytes fully (failing loudly if they are not a valid PNG) and return the size."""
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        image.load()
        return image.size


def upload(call: Call, param: str) -> bytes:
    """The bytes the bot uploaded for a file parameter, e.g. sendPhoto's `photo`."""
    ref = call.params.get(param)
    return call.attachment(ref) if isinstance(ref, str) else call.files[param]


@dataclass
class BotHarness:
    """The running Application and the fake server, with one fresh chat per update sent."""

    api: FakeBotAPI
    app: Application[Any, Any, Any, Any, Any, Any]
    sent: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[dict[str, Any]] = field(default_factory=list)
    _users: itertools.count[int] = field(default_factory=lambda: itertools.count(10_001))

    def _track(self, update: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(update)
        return update

    def expect_no_answer(self, update: dict[str, Any]) -> dict[str, Any]:
        """Mark an update that must get no answer at all (checked when the bot stops)."""
        self.sent.remove(update)
        self.ignored.append(update)
        return update

    def text(self, text: str, **options: Any) -> dict[str, Any]:
        """Queue a text message (or command) from a new user."""
        return self._track(self.api.send_text(text, user_id=next(self._users), **options))

    def photo(self, data: bytes, **options: Any) -> dict[str, Any]:
        """Queue a photo from a new user; the fake derives Telegram's smaller sizes."""
        return self._track(self.api.send_photo(data, user_id=next(self._users), **options))

    def raw(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Queue an update of `kind` (e.g. "edited_message") with a message from a new user."""
        user_id = next(self._users)
        message = {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Tester"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Tester"},
            **fields,
        }
        return self._track(self.api.enqueue_update({kind: message}))

    def document(self, data: bytes, file_name: str, **options: Any) -> dict[str, Any]:
        """Queue a file from a new user."""
        return self._track(
            self.api.send_document(data, file_name, user_id=next(self._users), **options)
        )

    def sticker(self) -> dict[str, Any]:
        """Queue a sticker from a new user."""
        return self._track(self.api.send_sticker(user_id=next(self._users)))

    def voice(self) -> dict[str, Any]:
        """Queue a voice message from a new user."""
        return self._track(self.api.send_voice(user_id=next(self._users)))

    def calls_in(self, update: dict[str, Any], *methods: str) -> list[Call]:
        """Every call the bot made into the update's chat, of `methods` (default: any)."""
        wanted = {m.lower() for m in methods}
        return [
            call
            for call in self.api.calls
            if call.params.get("chat_id") == chat_of(update)
            and (not wanted or call.method.lower() in wanted)
        ]

    def answers(self, update: dict[str, Any]) -> list[Call]:
        """The answers the user saw to one update: failed attempts (injected faults) don't count."""
        return [call for call in self.calls_in(update, *ANSWER_METHODS) if call.ok]

    async def answer(self, update: dict[str, Any], timeout: float = 10.0) -> Call:  # noqa: ASYNC109
        """Wait for the bot's first answer to `update` and return it."""
        found = await self.api.await_for(lambda _calls: self.answers(update), timeout)
        return found[0]
