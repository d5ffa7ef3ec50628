"""Bot API requests that survive a flaky network: transient failures are retried with backoff.

Only what is safe to repeat is repeated. Reads (`getFile`, file downloads) are retried after any
network failure or timeout. Answers (`sendPhoto`, `editMessageText`, …) are retried only when
the request cannot have been carried out: the connection failed or was lost before an answer
(typically a keep-alive connection the server had closed), or the server answered with a 5xx
error. A timeout while waiting for the answer to a send is not retried, since Telegram may have
delivered the message already. Everything else (`getUpdates`, which PTB's updater retries by
itself; `getMe`, whose failure the heartbeat must see; chat actions, a courtesy) passes through.
A 429 is left to the rate limiter (bot/limits.py), which waits as long as Telegram asks.

At most `CONNECTIONS` requests are in flight at once; the others wait their turn here, in order.
httpcore's pool walks every connection it holds, checking whether each idle one is still open,
whenever a request starts or ends: with PTB's default of 256 connections that bookkeeping took
more CPU than reading the photos (bench/load.py). 32 connections keep 100 requests a second
moving against Telegram's ~0.1-0.3 s round trips.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData

logger = logging.getLogger(__name__)

FIRST_BACKOFF = 0.25
MAX_BACKOFF = 5.0
CONNECTIONS = 32
DOWNLOAD = "file download"
IDEMPOTENT = frozenset({"getFile", DOWNLOAD})
ANSWER_PREFIXES = ("send", "edit", "copy", "forward")
ANSWERS = frozenset({"answerCallbackQuery", "deleteMessage"})
NOT_RETRIED = frozenset({"sendChatAction"})
# Failures that happen before the server can have acted on a request.
NOT_DELIVERED = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
)


def is_retried(endpoint: str) -> bool:
    """Whether failures of a Bot API method (or DOWNLOAD) are retried at all."""
    if endpoint in NOT_RETRIED:
        return False
    return endpoint in IDEMPOTENT or endpoint in ANSWERS or endpoint.startswith(ANSWER_PREFIXES)


def is_transient(endpoint: str, error: NetworkError) -> bool:
    """Whether a request to `endpoint` that raised `error` may simply be made again."""
    cause = error.__cause__
    if not isinstance(cause, httpx.HTTPError):
        return False  # PTB raised it for an answer it read: that is for the caller to handle
    if endpoint in IDEMPOTENT:
        return True
    return isinstance(cause, NOT_DELIVERED)


class RetryingRequest(HTTPXRequest):
    """PTB's HTTP client, retrying transient failures for up to `retry_for` seconds."""

    def __init__(
        self, retry_for: float, file_url: str, connections: int = CONNECTIONS, **kwargs: Any
    ) -> None:
        # Waiting for a connection is bounded by the semaphore below, not by the pool.
        super().__init__(connection_pool_size=connections, pool_timeout=None, **kwargs)
        self._retry_for = retry_for
        self._file_url = file_url
        self._turns = asyncio.Semaphore(connections)

    async def _attempt(
        self, url: str, method: str, request_data: RequestData | None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        async with self._turns:
            return await super().do_request(url, method, request_data, *args, **kwargs)

    def endpoint(self, url: str) -> str:
        """The Bot API method a URL calls, or DOWNLOAD; never the URL, which holds the token."""
        return DOWNLOAD if url.startswith(self._file_url) else url.rsplit("/", 1)[-1]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        """Make the request, again after a pause while it fails for a transient reason."""
        endpoint = self.endpoint(url)
        if not is_retried(endpoint) or self._retry_for <= 0:
            return await self._attempt(url, method, request_data, *args, **kwargs)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry_for
        delay = FIRST_BACKOFF
        while True:
            try:
                status, payload = await self._attempt(url, method, request_data, *args, **kwargs)
            except NetworkError as error:  # TimedOut included
                if not is_transient(endpoint, error) or loop.time() + delay > deadline:
                    raise
                reason = f"{type(error.__cause__).__name__}"
                if isinstance(error, TimedOut):
                    reason += " (timed out)"
            else:
                if status < 500 or loop.time() + delay > deadline:
                    return status, payload
                reason = f"HTTP {status}"
            logger.warning("%s failed: %s; trying again in %.2g s", endpoint, reason, delay)
            await asyncio.sleep(delay)
            delay = min(2 * delay, MAX_BACKOFF)
