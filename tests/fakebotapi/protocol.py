"""What the fake server shares: the Bot API's limits, calls, files, errors and small helpers."""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

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
