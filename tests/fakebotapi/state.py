"""The fake server's state, the recorded calls and the stored files."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .protocol import (
    _FILE_DIRS,
    _FILE_ID_PREFIXES,
    BOT_USERNAME,
    Call,
    MethodHandler,
    StoredFile,
    T,
    _Fault,
    _synthetic_chat,
)

if TYPE_CHECKING:
    from .wire import _HTTPServer


class _State:
    """Everything the server remembers, under one re-entrant lock."""

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

    # ------------------------------------------------------------------ recorded calls

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

    def _bot_user(self, token: str | None) -> dict[str, Any]:
        prefix = (token or "").split(":", 1)[0]
        return {
            "id": int(prefix) if prefix.isdigit() else 100_000_001,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

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
