"""A fake Telegram Bot API server for end-to-end tests of digitbot.

The server speaks enough of https://core.telegram.org/bots/api over real HTTP that an unmodified
python-telegram-bot ``Bot``/``Application`` can be pointed at it::

    with FakeBotAPI() as api:
        app = (
            Application.builder()
            .token("123:abc")
            .base_url(f"{api.url}/bot")
            .base_file_url(f"{api.url}/file/bot")
            .build()
        )

It runs a stdlib ``ThreadingHTTPServer`` in background threads, so it never depends on the
event loop of the test that uses it, and a pending ``getUpdates`` long-poll cannot stall the
test's loop (or :meth:`FakeBotAPI.stop`).

Tests talk to it through a thread-safe API: update builders (:meth:`FakeBotAPI.send_text`,
:meth:`FakeBotAPI.send_photo`, ...) enqueue updates for the bot to fetch, every Bot API request
is recorded as a :class:`Call`, and the ``wait_for*``/``await_*`` helpers block until the bot
has made the expected calls. :meth:`FakeBotAPI.fail_next`, :meth:`FakeBotAPI.delay_next` and
:meth:`FakeBotAPI.drop_next` inject Telegram-style errors, slow responses and dropped connections,
for Bot API methods and (as the method :data:`DOWNLOAD`) for file downloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import itertools
import json
import logging
import mimetypes
import re
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx

__all__ = [
    "DEFAULT_CHAT_ID",
    "DEFAULT_USER_ID",
    "DOWNLOAD",
    "BotAPIError",
    "Call",
    "FakeBotAPI",
    "StoredFile",
]

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")
MethodHandler = Callable[["Call"], Any]

DEFAULT_USER_ID = 4242
DEFAULT_CHAT_ID = DEFAULT_USER_ID  # a private chat's id equals the user's id in Telegram
# The "method" name under which fail_next/delay_next/drop_next affect file downloads.
DOWNLOAD = "download"
# A fault with this status closes the connection without any answer.
_DROP = 0
BOT_USERNAME = "digitbot_test_bot"

# Telegram refuses getFile for anything bigger than this (Bot API limit for downloads).
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_LONG_POLL_SECONDS = 50.0

# Form/multipart values arrive as strings and PTB JSON-encodes every non-string parameter, so
# values are JSON-decoded -- except for parameters that are strings in the Bot API, where a text
# like "42" or "true" must not turn into a number or a boolean.
_STRING_PARAMS = frozenset(
    [
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "certificate",
        "description",
        "document",
        "emoji",
        "file_id",
        "first_name",
        "inline_message_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "parse_mode",
        "phone_number",
        "photo",
        "question",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "url",
        "vcard",
        "video",
        "video_note",
        "voice",
    ]
)
_JSON_START_CHARS = frozenset('{["-0123456789tfn')

_CHAT_ACTIONS = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_BOT_PATH_RE = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?$")
_FILE_PATH_RE = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$")
_HEADER_PARAM_RE = re.compile(r';\s*([A-Za-z0-9_*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
# httpx quotes multipart names HTML5-style: '"' -> %22, control chars -> %XX, '\' -> '\\'.
_HTML5_ESCAPE_RE = re.compile(r"\\(.)|%(22|[01][0-9A-Fa-f])")

_ERROR_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)

# Telegram stores a photo in several sizes; these are the longest sides of its thumbnails.
_PHOTO_SIDES = (90, 320, 800)
_FILE_ID_PREFIXES = {
    "photo": "AgACAgIAAxk",
    "document": "BQACAgIAAxk",
    "voice": "AwACAgIAAxk",
    "sticker": "CAACAgIAAxk",
    "file": "BAACAgIAAxk",
}
_FILE_DIRS = {
    "photo": ("photos", ".jpg"),
    "document": ("documents", ""),
    "voice": ("voice", ".oga"),
    "sticker": ("stickers", ".webp"),
    "file": ("files", ""),
}


class BotAPIError(Exception):
    """A Bot API error answer; raise it from a custom method handler to make the call fail."""

    def __init__(
        self, error_code: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(f"{error_code}: {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = dict(parameters) if parameters else None

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class Call:
    """One Bot API request as the server received it.

    ``params`` holds the decoded parameters (JSON-decoded where the Bot API expects a non-string
    value), ``files`` the raw bytes of every uploaded multipart file keyed by part name (the
    parameter name such as ``photo``, or the ``attach://`` name for media groups).
    """

    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    token: str
    time: float
    file_names: dict[str, str] = field(default_factory=dict)
    file_mime_types: dict[str, str] = field(default_factory=dict)
    http_method: str = "POST"
    # The HTTP status the server answered with (0: connection dropped); None while in progress.
    status: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded: failed calls (injected faults, errors) are recorded too."""
        return self.status == 200

    def attachment(self, ref: str) -> bytes:
        """Bytes of an upload referenced by ``attach://name`` (or by the bare part name)."""
        name = ref.removeprefix("attach://")
        if name not in self.files:
            raise KeyError(f"{self.method}: no uploaded part {name!r}; parts: {list(self.files)}")
        return self.files[name]

    def describe(self, limit: int = 200) -> str:
        params = json.dumps(self.params, ensure_ascii=False, default=str)
        if len(params) > limit:
            params = params[:limit] + "..."
        files = {name: len(data) for name, data in self.files.items()}
        return f"{self.method} {params}" + (f" files={files}" if files else "")


@dataclass(frozen=True)
class StoredFile:
    """A file the server can hand out via getFile and serve under /file/bot<token>/."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_size: int


@dataclass
class _Fault:
    status: int
    description: str
    retry_after: int | None
    remaining: int


@dataclass
class _ParsedRequest:
    params: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    file_names: dict[str, str] = field(default_factory=dict)
    file_mime_types: dict[str, str] = field(default_factory=dict)


class FakeBotAPI:
    """A Telegram Bot API look-alike on 127.0.0.1, running in background threads."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = "DigitBot Test",
    ) -> None:
        self._host = host
        self._port = port
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        # One re-entrant lock guards all state; predicates given to wait_for run under it and
        # may call back into helpers such as calls_for().
        self._cond = threading.Condition(threading.RLock())
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

        self._calls: list[Call] = []
        self._tokens: list[str] = []
        self._downloads: list[str] = []
        self._updates: list[dict[str, Any]] = []
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._commands: dict[str, list[dict[str, Any]]] = {}
        # (field, language_code) -> text: "description" or "short_description".
        self._descriptions: dict[tuple[str, str], str] = {}
        self._webhook: dict[str, Any] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, list[float]] = {}
        self._poll_generation = 0
        self._waiting_polls = 0
        self.server_errors: list[str] = []

        self._update_ids = itertools.count(100_000)
        self._message_ids = itertools.count(1)
        self._file_counter = itertools.count(1)
        self._callback_ids = itertools.count(7_000_000)

        self._handlers: dict[str, tuple[str, MethodHandler]] = {}
        for name, handler in (
            ("getMe", self._get_me),
            ("logOut", self._return_true),
            ("close", self._return_true),
            ("getUpdates", self._get_updates),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("setMyCommands", self._set_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("setMyDescription", self._set_my_description),
            ("getMyDescription", self._get_my_description),
            ("setMyShortDescription", self._set_my_short_description),
            ("getMyShortDescription", self._get_my_short_description),
            ("sendMessage", self._send_message),
            ("sendPhoto", self._send_photo),
            ("sendDocument", self._send_document),
            ("sendMediaGroup", self._send_media_group),
            ("sendChatAction", self._send_chat_action),
            ("getFile", self._get_file),
            ("answerCallbackQuery", self._answer_callback_query),
            ("editMessageText", self._edit_message_text),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("deleteMessage", self._delete_message),
        ):
            self.set_handler(name, handler)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotAPI:
        if self._server is not None:
            raise RuntimeError("FakeBotAPI is already running")
        with self._cond:
            self._stopping = False
        server = _HTTPServer((self._host, self._port), _Handler, self)
        self._server = server
        self._thread = threading.Thread(
            # A short poll interval keeps shutdown() (and therefore stop()) fast.
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeBotAPI:{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()  # releases pending long-polls and delays
        server.shutdown()
        # Idle keep-alive connections block their handler thread in readline(); shutting the
        # sockets down unblocks them so server_close() can join every handler thread.
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:PORT``; PTB's base_url is ``f"{url}/bot"``."""
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def token(self) -> str | None:
        """The token of the most recent request (any token is accepted)."""
        with self._cond:
            return self._tokens[-1] if self._tokens else None

    @property
    def tokens(self) -> list[str]:
        """Every distinct token seen, in order of first use."""
        with self._cond:
            return list(self._tokens)

    # ------------------------------------------------------------------ recorded calls

    @property
    def calls(self) -> list[Call]:
        """Snapshot of all recorded calls, in arrival order."""
        with self._cond:
            return list(self._calls)

    def calls_for(self, method: str, since: int = 0) -> list[Call]:
        """Recorded calls of ``method`` (case-insensitive), optionally only from index ``since``."""
        wanted = method.lower()
        with self._cond:
            return [c for c in self._calls[since:] if c.method.lower() == wanted]

    def mark(self) -> int:
        """Index to pass as ``since=`` to only look at calls made after this point."""
        with self._cond:
            return len(self._calls)

    def clear_calls(self) -> None:
        with self._cond:
            self._calls.clear()

    @property
    def downloads(self) -> list[str]:
        """file_path of every successful file download, in order."""
        with self._cond:
            return list(self._downloads)

    def wait_for(self, predicate: Callable[[list[Call]], T | None], timeout: float = 10.0) -> T:
        """Block until ``predicate(calls)`` is truthy and return its value.

        Raises AssertionError listing the recorded calls on timeout. Do not call this from a
        coroutine running the bot: it blocks the event loop. Use :meth:`await_for` there.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate(list(self._calls))
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_message("condition", timeout))
                self._cond.wait(remaining)

    def wait_for_calls(
        self, method: str, count: int = 1, timeout: float = 10.0, since: int = 0
    ) -> list[Call]:
        """Block until at least ``count`` calls of ``method`` arrived; return all of them."""

        def enough(_calls: list[Call]) -> list[Call] | None:
            found = self.calls_for(method, since)
            return found if len(found) >= count else None

        try:
            return self.wait_for(enough, timeout)
        except AssertionError:
            raise AssertionError(
                self._timeout_message(f"{count} x {method} (since call #{since})", timeout)
            ) from None

    async def await_for(
        self,
        predicate: Callable[[list[Call]], T | None],
        timeout: float = 10.0,  # noqa: ASYNC109 -- same signature as the sync wait_for
    ) -> T:
        """Async twin of :meth:`wait_for`; polls so the event loop keeps running the bot."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._cond:
                result = predicate(list(self._calls))
            if result:
                return result
            if loop.time() >= deadline:
                raise AssertionError(self._timeout_message("condition", timeout))
            await asyncio.sleep(0.01)

    async def await_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 -- same signature as wait_for_calls
        since: int = 0,
    ) -> list[Call]:
        """Async twin of :meth:`wait_for_calls`."""

        def enough(_calls: list[Call]) -> list[Call] | None:
            found = self.calls_for(method, since)
            return found if len(found) >= count else None

        try:
            return await self.await_for(enough, timeout)
        except AssertionError:
            raise AssertionError(
                self._timeout_message(f"{count} x {method} (since call #{since})", timeout)
            ) from None

    def _timeout_message(self, what: str, timeout: float) -> str:
        with self._cond:
            lines = [f"  #{i} {c.describe()}" for i, c in enumerate(self._calls)]
        listing = "\n".join(lines) if lines else "  (no calls recorded)"
        return f"FakeBotAPI: timed out after {timeout}s waiting for {what}. Calls:\n{listing}"

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        status: int = 500,
        retry_after: int | None = None,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with a Telegram-style error.

        429 always carries ``parameters.retry_after`` (default 1 s) as Telegram does, which PTB
        turns into ``telegram.error.RetryAfter``. The failing calls are still recorded. With
        ``method=DOWNLOAD`` the next file downloads fail instead.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _ERROR_DESCRIPTIONS.get(status, "Internal Server Error")
        fault = _Fault(status, description, retry_after, count)
        with self._cond:
            self._faults.setdefault(method.lower(), []).append(fault)

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        """Hold the next ``count`` answers to ``method`` (or DOWNLOAD) for ``seconds``."""
        with self._cond:
            self._delays.setdefault(method.lower(), []).extend([seconds] * count)

    def drop_next(self, method: str, count: int = 1) -> None:
        """Close the connection of the next ``count`` calls of ``method`` (or DOWNLOAD) unanswered.

        The calls are recorded (with status 0) but not carried out, like a connection lost
        before the request reached the server.
        """
        with self._cond:
            self._faults.setdefault(method.lower(), []).append(_Fault(_DROP, "", None, count))

    def set_handler(self, method: str, handler: MethodHandler) -> None:
        """Add or replace a Bot API method; ``handler(call)`` returns the ``result`` value or
        raises :class:`BotAPIError`. It runs in a server thread."""
        with self._cond:
            self._handlers[method.lower()] = (method, handler)

    # ------------------------------------------------------------------ files

    def add_file(
        self,
        data: bytes,
        file_id: str | None = None,
        file_path: str | None = None,
        file_size: int | None = None,
    ) -> str:
        """Register downloadable bytes and return their file_id.

        ``file_size`` may exceed ``len(data)`` to simulate files too big for getFile.
        """
        return self._store_file(data, "file", file_id, file_path, file_size).file_id

    def get_stored_file(self, file_id: str) -> StoredFile:
        with self._cond:
            return self._files[file_id]

    def _store_file(
        self,
        data: bytes,
        kind: str,
        file_id: str | None = None,
        file_path: str | None = None,
        file_size: int | None = None,
        suffix: str | None = None,
    ) -> StoredFile:
        with self._cond:
            n = next(self._file_counter)
            directory, default_suffix = _FILE_DIRS.get(kind, _FILE_DIRS["file"])
            stored = StoredFile(
                file_id=file_id or f"{_FILE_ID_PREFIXES.get(kind, 'BAAC')}FAKE{n:06d}",
                file_unique_id=f"AQAD{n:06d}",
                file_path=file_path
                or f"{directory}/file_{n}{default_suffix if suffix is None else suffix}",
                data=bytes(data),
                file_size=len(data) if file_size is None else file_size,
            )
            self._files[stored.file_id] = stored
            self._files_by_path[stored.file_path] = stored
            return stored

    def _photo_sizes(self, variants: Iterable[tuple[bytes, int, int]]) -> list[dict[str, Any]]:
        sizes = []
        for data, width, height in variants:
            stored = self._store_file(data, "photo")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": stored.file_size,
                    "width": width,
                    "height": height,
                }
            )
        return sizes

    # ------------------------------------------------------------------ updates (test side)

    @property
    def waiting_polls(self) -> int:
        """Number of getUpdates requests currently blocked in a long-poll."""
        with self._cond:
            return self._waiting_polls

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates ``offset``."""
        with self._cond:
            return copy.deepcopy(self._updates)

    def enqueue_update(self, update: Mapping[str, Any]) -> dict[str, Any]:
        """Queue a raw update; assigns ``update_id`` when missing. Returns the queued update."""
        queued = copy.deepcopy(dict(update))
        with self._cond:
            if "update_id" in queued:
                # Keep ids monotonic like Telegram, or offsets would confirm the wrong updates.
                uid = int(queued["update_id"])
                self._update_ids = itertools.count(max(uid + 1, next(self._update_ids)))
            else:
                queued["update_id"] = next(self._update_ids)
            self._updates.append(queued)
            self._updates.sort(key=lambda u: int(u["update_id"]))
            self._cond.notify_all()
        return copy.deepcopy(queued)

    def send_text(
        self,
        text: str,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Tester",
        username: str | None = "tester",
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a text message from a user; commands get a ``bot_command`` entity."""
        message = self._user_message(chat_id, user_id, first_name, username)
        message["text"] = text
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return self._enqueue_message(message, extra)

    def send_photo(
        self,
        photo: bytes | list[tuple[bytes, int, int]],
        caption: str | None = None,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Tester",
        username: str | None = "tester",
        media_group_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a photo message.

        ``photo`` is either explicit sizes ``[(bytes, width, height), ...]`` (smallest first, as
        Telegram orders them) or one encoded image, from which Telegram-like thumbnails are
        derived (real downscaled JPEGs when Pillow is importable, otherwise the same bytes).
        """
        variants = _photo_variants(photo) if isinstance(photo, bytes | bytearray) else photo
        message = self._user_message(chat_id, user_id, first_name, username)
        message["photo"] = self._photo_sizes(variants)
        if caption is not None:
            message["caption"] = caption
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        return self._enqueue_message(message, extra)

    def send_document(
        self,
        data: bytes,
        file_name: str = "file.bin",
        mime_type: str | None = None,
        file_size: int | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Tester",
        username: str | None = "tester",
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a document; ``file_size`` may be inflated to simulate huge uploads."""
        if mime_type is None:
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self._store_file(data, "document", file_size=file_size, suffix=_suffix(file_name))
        message = self._user_message(chat_id, user_id, first_name, username)
        message["document"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": stored.file_size,
        }
        if caption is not None:
            message["caption"] = caption
        return self._enqueue_message(message, extra)

    def send_sticker(
        self,
        data: bytes = b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        emoji: str = "\N{THUMBS UP SIGN}",
        width: int = 512,
        height: int = 512,
        is_animated: bool = False,
        is_video: bool = False,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Tester",
        username: str | None = "tester",
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        stored = self._store_file(data, "sticker")
        message = self._user_message(chat_id, user_id, first_name, username)
        message["sticker"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": width,
            "height": height,
            "is_animated": is_animated,
            "is_video": is_video,
            "emoji": emoji,
            "file_size": stored.file_size,
        }
        return self._enqueue_message(message, extra)

    def send_voice(
        self,
        data: bytes = b"OggS\x00fake-voice",
        duration: int = 1,
        mime_type: str = "audio/ogg",
        file_size: int | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Tester",
        username: str | None = "tester",
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        stored = self._store_file(data, "voice", file_size=file_size)
        message = self._user_message(chat_id, user_id, first_name, username)
        message["voice"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": mime_type,
            "file_size": stored.file_size,
        }
        if caption is not None:
            message["caption"] = caption
        return self._enqueue_message(message, extra)

    def send_callback_query(
        self,
        data: str,
        message_id: int | None = None,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = "Tester",
        username: str | None = "tester",
        message_text: str = "Choose:",
    ) -> dict[str, Any]:
        """Queue a button press on a bot message.

        When the bot sent ``message_id`` in that chat the stored message is attached (so
        editMessageText works on it); otherwise a bot message with that id is fabricated.
        """
        user = _user(user_id, first_name, username)
        chat = self._remember_chat(chat_id if chat_id is not None else user_id, user)
        with self._cond:
            stored = self._messages.get((chat["id"], message_id)) if message_id else None
            if stored is None:
                stored = {
                    "message_id": message_id or next(self._message_ids),
                    "from": self._bot_user(self.token),
                    "chat": chat,
                    "date": int(time.time()),
                    "text": message_text,
                }
                self._messages[(chat["id"], stored["message_id"])] = stored
            callback = {
                "id": str(next(self._callback_ids)),
                "from": user,
                "chat_instance": str(abs(hash(chat["id"])) % 10**18),
                "data": data,
                "message": copy.deepcopy(stored),
            }
        return self.enqueue_update({"callback_query": callback})

    def _user_message(
        self, chat_id: int | None, user_id: int, first_name: str, username: str | None
    ) -> dict[str, Any]:
        user = _user(user_id, first_name, username)
        chat = self._remember_chat(chat_id if chat_id is not None else user_id, user)
        with self._cond:
            message_id = next(self._message_ids)
        return {"message_id": message_id, "from": user, "chat": chat, "date": int(time.time())}

    def _enqueue_message(
        self, message: dict[str, Any], extra: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        if extra:
            message.update(extra)
        with self._cond:
            self._messages[(message["chat"]["id"], message["message_id"])] = message
        return self.enqueue_update({"message": message})

    def _remember_chat(self, chat_id: int | str, user: Mapping[str, Any]) -> dict[str, Any]:
        with self._cond:
            if chat_id not in self._chats:
                if chat_id == user["id"]:
                    chat: dict[str, Any] = {"id": chat_id, "type": "private"}
                    chat.update(
                        {k: user[k] for k in ("first_name", "last_name", "username") if k in user}
                    )
                    self._chats[chat_id] = chat
                else:
                    self._chats[chat_id] = _synthetic_chat(chat_id)
            return dict(self._chats[chat_id])

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)  # JSON clients may send ids as strings; Telegram accepts both
        with self._cond:
            if chat_id in self._chats:
                return dict(self._chats[chat_id])
        return _synthetic_chat(chat_id)

    # ------------------------------------------------------------------ webhook helpers

    @property
    def webhook(self) -> dict[str, Any]:
        """What the bot passed to setWebhook (empty when no webhook is set)."""
        with self._cond:
            return dict(self._webhook)

    async def post_update_to_webhook(
        self, url: str, update: Mapping[str, Any], secret: str | None = None
    ) -> int:
        """POST an update to the bot's webhook like Telegram does; returns the HTTP status.

        Async on purpose: PTB's webhook server runs on the test's own event loop, so a blocking
        POST from that loop would deadlock. Use :meth:`post_update_to_webhook_sync` from threads.
        """
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.post(url, content=_update_body(update), headers=headers)
        self._delivered(update, response.status_code)
        return response.status_code

    def post_update_to_webhook_sync(
        self, url: str, update: Mapping[str, Any], secret: str | None = None, timeout: float = 10.0
    ) -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(
            url, data=_update_body(update), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as err:
            with err:
                status = int(err.code)
        self._delivered(update, status)
        return status

    def _delivered(self, update: Mapping[str, Any], status: int) -> None:
        # Telegram forgets an update once the webhook accepted it; keep the queue (and
        # getWebhookInfo's pending_update_count) consistent with that.
        if 200 <= status < 300:
            with self._cond:
                uid = update.get("update_id")
                self._updates = [u for u in self._updates if u["update_id"] != uid]

    # ------------------------------------------------------------------ request handling

    def _handle_api_request(
        self, token: str, method: str, http_method: str, parsed: _ParsedRequest
    ) -> tuple[int, dict[str, Any]]:
        with self._cond:
            canonical, handler = self._handlers.get(method.lower(), (method, None))
            call = Call(
                method=canonical,
                params=parsed.params,
                files=parsed.files,
                token=token,
                time=time.time(),
                file_names=parsed.file_names,
                file_mime_types=parsed.file_mime_types,
                http_method=http_method,
            )
            if token not in self._tokens:
                self._tokens.append(token)
            else:
                # Keep the most recent token last so `.token` reflects the latest caller.
                self._tokens.remove(token)
                self._tokens.append(token)
            index = len(self._calls)
            self._calls.append(call)
            self._cond.notify_all()
            fault = self._take_fault(method.lower())
            delays = self._delays.get(method.lower())
            delay = delays.pop(0) if delays else 0.0

        if delay:
            self._sleep(delay)
        status, payload = self._answer(call, handler, fault)
        with self._cond:
            # Replaced by position; clear_calls() in the meantime leaves the list alone.
            if index < len(self._calls) and self._calls[index] is call:
                self._calls[index] = replace(call, status=status)
            self._cond.notify_all()
        return status, payload

    def _answer(
        self, call: Call, handler: MethodHandler | None, fault: _Fault | None
    ) -> tuple[int, dict[str, Any]]:
        if handler is None:
            return 404, BotAPIError(404, "Not Found: method not found").payload()
        if fault is not None:
            if fault.status == _DROP:
                return _DROP, {}
            params = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
            return fault.status, BotAPIError(fault.status, fault.description, params).payload()
        try:
            result = handler(call)
        except BotAPIError as err:
            return err.error_code, err.payload()
        return 200, {"ok": True, "result": result}

    def _take_fault(self, method: str) -> _Fault | None:
        faults = self._faults.get(method)
        if not faults:
            return None
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.pop(0)
        return fault

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(remaining)

    def _serve_file(self, token: str, path: str) -> tuple[int, StoredFile | BotAPIError]:
        """The download's status and file (or error); faults and delays of DOWNLOAD apply."""
        with self._cond:
            if token not in self._tokens:
                self._tokens.append(token)
            fault = self._take_fault(DOWNLOAD)
            delays = self._delays.get(DOWNLOAD)
            delay = delays.pop(0) if delays else 0.0
        if delay:
            self._sleep(delay)
        if fault is not None:
            return fault.status, BotAPIError(fault.status, fault.description)
        with self._cond:
            stored = self._files_by_path.get(path)
            if stored is None:
                return 404, BotAPIError(404, "Not Found")
            self._downloads.append(path)
            return 200, stored

    def _record_server_error(self, description: str) -> None:
        with self._cond:
            self.server_errors.append(description)
        _LOGGER.error("FakeBotAPI: %s", description)

    # ------------------------------------------------------------------ Bot API methods

    def _bot_user(self, token: str | None) -> dict[str, Any]:
        prefix = (token or "").split(":", 1)[0]
        return {
            "id": int(prefix) if prefix.isdigit() else 100_000_001,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _get_me(self, call: Call) -> dict[str, Any]:
        return {
            **self._bot_user(call.token),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _return_true(self, call: Call) -> bool:
        return True

    def _get_updates(self, call: Call) -> list[dict[str, Any]]:
        offset = _int(call.params.get("offset"), 0)
        limit = min(max(_int(call.params.get("limit"), 100), 1), 100)
        timeout = min(max(_float(call.params.get("timeout"), 0.0), 0.0), MAX_LONG_POLL_SECONDS)
        allowed = call.params.get("allowed_updates") or None
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._webhook.get("url"):
                raise BotAPIError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            # Like Telegram, a newer getUpdates terminates an older pending one.
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            while True:
                if generation != self._poll_generation:
                    raise BotAPIError(409, _ERROR_DESCRIPTIONS[409])
                wanted = [u for u in self._updates if allowed is None or _update_type(u) in allowed]
                remaining = deadline - time.monotonic()
                if wanted or remaining <= 0 or self._stopping:
                    return copy.deepcopy(wanted[:limit])
                self._waiting_polls += 1
                self._cond.notify_all()  # lets tests wait for "the bot is now long-polling"
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiting_polls -= 1

    def _set_webhook(self, call: Call) -> bool:
        url = call.params.get("url") or ""
        secret = call.params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.match(str(secret)):
            raise BotAPIError(400, "Bad Request: secret token contains unallowed characters")
        with self._cond:
            if call.params.get("drop_pending_updates"):
                self._updates.clear()
            if not url:
                self._webhook = {}
            else:
                self._webhook = {
                    "url": url,
                    "secret_token": secret,
                    "max_connections": _int(call.params.get("max_connections"), 40),
                    "allowed_updates": call.params.get("allowed_updates"),
                    "ip_address": call.params.get("ip_address"),
                    "has_custom_certificate": "certificate" in call.files,
                }
            self._cond.notify_all()
        return True

    def _delete_webhook(self, call: Call) -> bool:
        with self._cond:
            self._webhook = {}
            if call.params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _get_webhook_info(self, call: Call) -> dict[str, Any]:
        with self._cond:
            info: dict[str, Any] = {
                "url": self._webhook.get("url", ""),
                "has_custom_certificate": bool(self._webhook.get("has_custom_certificate")),
                "pending_update_count": len(self._updates),
            }
            if self._webhook:
                info["max_connections"] = self._webhook["max_connections"]
                if self._webhook.get("allowed_updates"):
                    info["allowed_updates"] = self._webhook["allowed_updates"]
                if self._webhook.get("ip_address"):
                    info["ip_address"] = self._webhook["ip_address"]
        return info

    def _set_my_commands(self, call: Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise BotAPIError(400, "Bad Request: commands must be a JSON array of BotCommand")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            description = str(command.get("description", "")) if isinstance(command, dict) else ""
            if not _COMMAND_RE.match(name):
                raise BotAPIError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise BotAPIError(400, "Bad Request: command description is empty or too long")
        with self._cond:
            self._commands[_commands_key(call.params)] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def _get_my_commands(self, call: Call) -> list[dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self._commands.get(_commands_key(call.params), []))

    def _delete_my_commands(self, call: Call) -> bool:
        with self._cond:
            self._commands.pop(_commands_key(call.params), None)
        return True

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command list the bot registered for ``scope``/``language_code``."""
        key = _commands_key({"scope": scope, "language_code": language_code})
        with self._cond:
            return copy.deepcopy(self._commands.get(key, []))

    def _describe(self, call: Call, field: str, limit: int) -> bool:
        text = call.params.get(field) or ""
        if not isinstance(text, str) or len(text) > limit:
            raise BotAPIError(400, f"Bad Request: {field} is too long (at most {limit} characters)")
        key = (field, str(call.params.get("language_code") or ""))
        with self._cond:
            if text:
                self._descriptions[key] = text
            else:
                self._descriptions.pop(key, None)  # an empty text removes it, as in Telegram
        return True

    def _set_my_description(self, call: Call) -> bool:
        return self._describe(call, "description", 512)

    def _set_my_short_description(self, call: Call) -> bool:
        return self._describe(call, "short_description", 120)

    def _get_my_description(self, call: Call) -> dict[str, str]:
        return {"description": self.description(str(call.params.get("language_code") or ""))}

    def _get_my_short_description(self, call: Call) -> dict[str, str]:
        language = str(call.params.get("language_code") or "")
        return {"short_description": self.description(language, short=True)}

    def description(self, language_code: str = "", short: bool = False) -> str:
        """The bot's description (or short description) as last set, "" if none."""
        field = "short_description" if short else "description"
        with self._cond:
            return self._descriptions.get((field, language_code), "")

    def _new_bot_message(self, call: Call, content: Mapping[str, Any]) -> dict[str, Any]:
        chat_id = call.params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise BotAPIError(400, "Bad Request: chat_id is empty")
        chat = self._chat(chat_id)
        with self._cond:
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "from": self._bot_user(call.token),
                "chat": chat,
                "date": int(time.time()),
                **content,
            }
            reply_to = _reply_to_id(call.params)
            if reply_to is not None and (chat["id"], reply_to) in self._messages:
                message["reply_to_message"] = copy.deepcopy(self._messages[(chat["id"], reply_to)])
            markup = call.params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                message["reply_markup"] = markup  # Telegram echoes only inline keyboards
            self._messages[(chat["id"], message["message_id"])] = message
            return copy.deepcopy(message)

    def _send_message(self, call: Call) -> dict[str, Any]:
        text = call.params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BotAPIError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise BotAPIError(400, "Bad Request: message is too long")
        content: dict[str, Any] = {"text": text}
        if isinstance(call.params.get("entities"), list):
            content["entities"] = call.params["entities"]
        return self._new_bot_message(call, content)

    def _caption(self, value: Any) -> dict[str, Any]:
        if value is None or value == "":
            return {}
        caption = str(value)
        if len(caption) > MAX_CAPTION_LENGTH:
            raise BotAPIError(400, "Bad Request: message caption is too long")
        return {"caption": caption}

    def _resolve_media(self, call: Call, ref: Any, param: str) -> tuple[bytes, str | None, str]:
        """Bytes, uploaded file name and mime type behind a file parameter."""
        if isinstance(ref, str) and ref.startswith("attach://"):
            name = ref.removeprefix("attach://")
            if name not in call.files:
                raise BotAPIError(400, f"Bad Request: file for {ref} was not uploaded")
            return (
                call.files[name],
                call.file_names.get(name),
                call.file_mime_types.get(name, ""),
            )
        if ref is None and param in call.files:
            return (
                call.files[param],
                call.file_names.get(param),
                call.file_mime_types.get(param, ""),
            )
        if isinstance(ref, str) and ref:
            with self._cond:
                stored = self._files.get(ref)
            if stored is not None:
                return stored.data, None, ""
            if ref.startswith(("http://", "https://")):
                return b"", _suffix_name(ref), ""  # Telegram would download it; we cannot.
        raise BotAPIError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _photo_content(self, data: bytes) -> list[dict[str, Any]]:
        return self._photo_sizes(_photo_variants(data))

    def _document_content(self, data: bytes, file_name: str | None, mime: str) -> dict[str, Any]:
        stored = self._store_file(data, "document", suffix=_suffix(file_name or ""))
        document: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if file_name:
            document["file_name"] = file_name
        mime = mime or (mimetypes.guess_type(file_name or "")[0] or "")
        if mime:
            document["mime_type"] = mime
        return document

    def _send_photo(self, call: Call) -> dict[str, Any]:
        data, _, _ = self._resolve_media(call, call.params.get("photo"), "photo")
        content = {"photo": self._photo_content(data), **self._caption(call.params.get("caption"))}
        return self._new_bot_message(call, content)

    def _send_document(self, call: Call) -> dict[str, Any]:
        data, name, mime = self._resolve_media(call, call.params.get("document"), "document")
        content = {
            "document": self._document_content(data, name, mime),
            **self._caption(call.params.get("caption")),
        }
        return self._new_bot_message(call, content)

    def _send_media_group(self, call: Call) -> list[dict[str, Any]]:
        media = call.params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise BotAPIError(400, "Bad Request: media group must contain 2-10 items")
        group_id = str(next(self._file_counter) * 7919 + 10**17)
        contents = []
        # Resolve everything first so a bad item fails the whole request, as Telegram does.
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in {
                "photo",
                "document",
                "video",
                "audio",
            }:
                raise BotAPIError(400, "Bad Request: wrong type of media in the media group")
            data, name, mime = self._resolve_media(call, item.get("media"), "media")
            contents.append((item, data, name, mime))
        messages = []
        for item, data, name, mime in contents:
            if item["type"] == "photo":
                content: dict[str, Any] = {"photo": self._photo_content(data)}
            else:
                # Videos and audio are rare for digitbot; a document-shaped object is enough.
                content = {item["type"]: self._document_content(data, name, mime)}
            content.update(self._caption(item.get("caption")))
            content["media_group_id"] = group_id
            messages.append(self._new_bot_message(call, content))
        return messages

    def _send_chat_action(self, call: Call) -> bool:
        if call.params.get("chat_id") in (None, ""):
            raise BotAPIError(400, "Bad Request: chat_id is empty")
        if call.params.get("action") not in _CHAT_ACTIONS:
            raise BotAPIError(400, "Bad Request: wrong parameter action in request")
        return True

    def _get_file(self, call: Call) -> dict[str, Any]:
        file_id = call.params.get("file_id")
        with self._cond:
            stored = self._files.get(str(file_id)) if file_id is not None else None
        if stored is None:
            raise BotAPIError(400, "Bad Request: invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise BotAPIError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    def _answer_callback_query(self, call: Call) -> bool:
        if not call.params.get("callback_query_id"):
            raise BotAPIError(400, "Bad Request: query is too old and response timeout expired")
        if len(str(call.params.get("text") or "")) > 200:
            raise BotAPIError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _edit(self, call: Call, changes: Mapping[str, Any]) -> dict[str, Any] | bool:
        if call.params.get("inline_message_id"):
            return True
        key = (self._chat(call.params.get("chat_id"))["id"], _int(call.params.get("message_id"), 0))
        with self._cond:
            message = self._messages.get(key)
            if message is None:
                raise BotAPIError(400, "Bad Request: message to edit not found")
            updated = {**message, **changes}
            if "reply_markup" not in call.params or not call.params["reply_markup"]:
                updated.pop("reply_markup", None)
            if updated == message:
                raise BotAPIError(400, _NOT_MODIFIED)
            updated["edit_date"] = int(time.time())
            self._messages[key] = updated
            return copy.deepcopy(updated)

    def _edit_message_text(self, call: Call) -> dict[str, Any] | bool:
        text = call.params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BotAPIError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise BotAPIError(400, "Bad Request: message is too long")
        changes: dict[str, Any] = {"text": text}
        markup = call.params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            changes["reply_markup"] = markup
        return self._edit(call, changes)

    def _edit_message_reply_markup(self, call: Call) -> dict[str, Any] | bool:
        markup = call.params.get("reply_markup")
        changes = {"reply_markup": markup} if isinstance(markup, dict) and markup else {}
        return self._edit(call, changes)

    def _delete_message(self, call: Call) -> bool:
        key = (self._chat(call.params.get("chat_id"))["id"], _int(call.params.get("message_id"), 0))
        with self._cond:
            if self._messages.pop(key, None) is None:
                raise BotAPIError(400, "Bad Request: message to delete not found")
        return True


# ---------------------------------------------------------------------- HTTP plumbing


class _HTTPServer(ThreadingHTTPServer):
    # Non-daemon handler threads let server_close() join them, so nothing outlives stop().
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 resets connections when a bot opens many at once.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        api: FakeBotAPI,
    ) -> None:
        self.api = api
        self._connections: set[socket.socket] = set()
        self._answering: set[socket.socket] = set()
        self._connections_changed = threading.Condition()
        super().__init__(address, handler)

    def track(self, connection: socket.socket, active: bool) -> None:
        with self._connections_changed:
            if active:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    @contextlib.contextmanager
    def answering(self, connection: socket.socket) -> Iterator[None]:
        """Mark a connection as busy with a request until its answer is written."""
        with self._connections_changed:
            self._answering.add(connection)
        try:
            yield
        finally:
            with self._connections_changed:
                self._answering.discard(connection)
                self._connections_changed.notify_all()

    def close_connections(self, drain: float = 1.0) -> None:
        """Shut every connection down once the answers in flight are written.

        stop() releases pending long-polls; cutting their sockets while the answer is being
        written would hand the client half a response. Waits at most `drain` seconds.
        """
        with self._connections_changed:
            self._connections_changed.wait_for(lambda: not self._answering, timeout=drain)
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the peer
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (cancelled long-polls, stop()) raise OSErrors and are normal;
        # anything else is a bug in the fake and is surfaced through api.server_errors.
        if isinstance(sys.exc_info()[1], OSError):
            return
        self.api._record_server_error(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like api.telegram.org
    # Headers and body go out in separate writes; with Nagle on, delayed ACKs add ~40 ms each.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, active=True)

    def finish(self) -> None:
        self.server.track(self.connection, active=False)
        with contextlib.suppress(OSError):  # the client may already be gone
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        _LOGGER.debug("FakeBotAPI %s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, http_method: str) -> None:
        with self.server.answering(self.connection):
            self._answer(http_method)

    def _answer(self, http_method: str) -> None:
        api = self.server.api
        split = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(split.path)
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self._send_json(400, BotAPIError(400, "Bad Request: unreadable body").payload())
            return
        file_match = _FILE_PATH_RE.match(path)
        if file_match and http_method == "GET":
            status, served = api._serve_file(file_match["token"], file_match["path"])
            if status == _DROP:
                self.close_connection = True
            elif isinstance(served, StoredFile):
                self._send_bytes(200, served.data, "application/octet-stream")
            else:
                self._send_json(status, served.payload())
            return
        api_match = _BOT_PATH_RE.match(path)
        if api_match is None:
            self._send_json(404, BotAPIError(404, "Not Found").payload())
            return
        try:
            parsed = _parse_request(self.headers.get("Content-Type", ""), body, split.query)
        except ValueError as err:
            self._send_json(400, BotAPIError(400, f"Bad Request: {err}").payload())
            return
        try:
            status, payload = api._handle_api_request(
                api_match["token"], api_match["method"], http_method, parsed
            )
        except Exception:
            api._record_server_error(traceback.format_exc())
            status, payload = 500, BotAPIError(500, "Internal Server Error: fake bug").payload()
        if status == _DROP:
            self.close_connection = True  # no answer at all: the client sees the connection close
            return
        self._send_json(status, payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # skip trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, payload: Mapping[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._send_bytes(status, body, "application/json")

    def _send_bytes(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


# ---------------------------------------------------------------------- body parsing


def _parse_request(content_type: str, body: bytes, query: str) -> _ParsedRequest:
    """Parse query string plus a JSON, urlencoded or multipart body (body wins on clashes)."""
    parsed = _ParsedRequest()
    for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        parsed.params[key] = _decode_value(key, value)
    mime, ctype_params = _split_header(content_type)
    if not body:
        return parsed
    if mime == "application/json":
        try:
            data = json.loads(body)
        except ValueError as err:
            raise ValueError("can't parse JSON body") from err
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        parsed.params.update(data)
    elif mime == "multipart/form-data":
        boundary = ctype_params.get("boundary")
        if not boundary:
            raise ValueError("multipart body without boundary")
        for headers, content in _parse_multipart(body, boundary.encode("latin-1")):
            _, disposition = _split_header(headers.get("content-disposition", ""))
            name = disposition.get("name")
            if name is None:
                continue
            filename = disposition.get("filename")
            if filename is None:
                try:
                    parsed.params[name] = _decode_value(name, content.decode("utf-8"))
                    continue
                except UnicodeDecodeError:
                    pass  # binary without a filename is still a file upload
            parsed.files[name] = content
            if filename is not None:
                parsed.file_names[name] = filename
            parsed.file_mime_types[name] = _split_header(headers.get("content-type", ""))[0]
    else:
        # application/x-www-form-urlencoded, and Telegram's fallback for unknown types.
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError("can't parse form body") from err
        for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
            parsed.params[key] = _decode_value(key, value)
    return parsed


def _parse_multipart(body: bytes, boundary: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart/form-data body into (lower-cased headers, raw content) parts.

    Hand-written rather than via the ``email`` package so binary content stays byte-exact.
    """
    delimiter = b"--" + boundary
    start = body.find(delimiter)
    if start < 0:
        raise ValueError("multipart boundary not found")
    parts = []
    pos = start + len(delimiter)
    while not body.startswith(b"--", pos):
        line_end = body.find(b"\r\n", pos)  # skips transport padding after the delimiter
        if line_end < 0:
            raise ValueError("truncated multipart body")
        headers_end = body.find(b"\r\n\r\n", line_end)
        if headers_end < 0:
            raise ValueError("truncated multipart headers")
        headers: dict[str, str] = {}
        raw_headers = body[line_end + 2 : headers_end] if headers_end > line_end else b""
        for line in raw_headers.decode("utf-8", errors="replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        content_start = headers_end + 4
        content_end = body.find(b"\r\n" + delimiter, content_start)
        if content_end < 0:
            raise ValueError("unterminated multipart part")
        parts.append((headers, body[content_start:content_end]))
        pos = content_end + 2 + len(delimiter)
    return parts


def _split_header(value: str) -> tuple[str, dict[str, str]]:
    """``'form-data; name="a"'`` -> ``("form-data", {"name": "a"})`` (RFC 5987 aware)."""
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    for match in _HEADER_PARAM_RE.finditer(";" + rest):
        key, raw = match.group(1).lower(), match.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = _HTML5_ESCAPE_RE.sub(_unescape_param, raw[1:-1])
        if key.endswith("*"):
            charset, _, encoded = raw.partition("''")
            extended[key[:-1]] = urllib.parse.unquote(encoded, encoding=charset or "utf-8")
        else:
            params[key] = raw
    params.update(extended)
    return main.strip().lower(), params


def _unescape_param(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return match.group(1)
    return chr(int(match.group(2), 16))


def _decode_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS or not value or value[0] not in _JSON_START_CHARS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


# ---------------------------------------------------------------------- small helpers


def _update_body(update: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(update), ensure_ascii=False).encode()


def _update_type(update: Mapping[str, Any]) -> str | None:
    return next((key for key in update if key != "update_id"), None)


def _user(user_id: int, first_name: str, username: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "language_code": "en",
    }
    if username:
        user["username"] = username
    return user


def _synthetic_chat(chat_id: Any) -> dict[str, Any]:
    if isinstance(chat_id, str) and chat_id.startswith("@"):
        # Channel usernames resolve to a stable negative id, like Telegram's -100... ids.
        fake_id = -1_000_000_000_000 - sum(ord(ch) * 31**i for i, ch in enumerate(chat_id)) % 10**9
        return {"id": fake_id, "type": "channel", "title": chat_id[1:], "username": chat_id[1:]}
    numeric = _int(chat_id, 0)
    if numeric > 0:
        return {"id": numeric, "type": "private", "first_name": "Tester"}
    if str(numeric).startswith("-100"):
        return {"id": numeric, "type": "supergroup", "title": "Test Supergroup"}
    return {"id": numeric, "type": "group", "title": "Test Group"}


def _commands_key(params: Mapping[str, Any]) -> str:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)


def _reply_to_id(params: Mapping[str, Any]) -> int | None:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict) and "message_id" in reply:
        return _int(reply["message_id"], 0)
    if params.get("reply_to_message_id") is not None:
        return _int(params["reply_to_message_id"], 0)
    return None


def _int(value: Any, default: int) -> int:
    try:
        return int(float(value)) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _float(value: Any, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _utf16_len(text: str) -> int:
    # Telegram measures entity offsets/lengths in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def _suffix(file_name: str) -> str:
    _, dot, ext = file_name.rpartition(".")
    return f".{ext}" if dot and ext and "/" not in ext else ""


def _suffix_name(url: str) -> str | None:
    name = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]
    return name or None


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, BMP or JPEG from its header, without decoding it."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(int(width)), abs(int(height))
    if data.startswith(b"\xff\xd8"):
        pos = 2
        while pos + 9 < len(data):
            if data[pos] != 0xFF:
                pos += 1
                continue
            marker = data[pos + 1]
            if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD8:
                pos += 1 if marker == 0xFF else 2
                continue
            (segment_length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return int(width), int(height)
            pos += 2 + int(segment_length)
    return None


def _photo_variants(data: bytes) -> list[tuple[bytes, int, int]]:
    """Telegram-style size ladder for one image: thumbnails below 90/320/800 px, then it."""
    data = bytes(data)
    size = _image_size(data) or _pillow_size(data)
    if size is None:
        return [(data, 0, 0)]
    width, height = size
    longest = max(width, height)
    variants = []
    for side in _PHOTO_SIDES:
        if side < longest:
            scaled = (max(1, round(width * side / longest)), max(1, round(height * side / longest)))
            variants.append((_downscale(data, scaled) or data, *scaled))
    variants.append((data, width, height))
    return variants


def _pillow_size(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            return int(image.width), int(image.height)
    except Exception:
        return None


def _downscale(data: bytes, size: tuple[int, int]) -> bytes | None:
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            out = io.BytesIO()
            image.convert("RGB").resize(size).save(out, format="JPEG", quality=85)
            return out.getvalue()
    except Exception:
        return None  # not decodable: fall back to the original bytes
