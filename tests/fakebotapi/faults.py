"""Injected faults: Telegram-style errors, slow answers and dropped connections."""

from __future__ import annotations

import time

from .protocol import (
    _DROP,
    _ERROR_DESCRIPTIONS,
    MethodHandler,
    _Fault,
)
from .state import _State


class Faults(_State):
    """fail_next, delay_next, drop_next and custom method handlers."""

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
