"""Liveness for container health checks: a file the running bot refreshes while it is healthy.

In polling mode the bot listens on no port a health check could ask, so it proves it is alive by
touching a heartbeat file, and `digitbot healthcheck` judges the file's age. A beat is skipped
when the application or its updater is not running, or when the Bot API does not answer
`getMe` in time; an event loop that is stuck cannot beat at all. Either way the file goes stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application

logger = logging.getLogger(__name__)


class Heartbeat:
    """Touch `path` every `interval` seconds while the bot is healthy (see the module docstring).

    Beats are on a fixed cadence and a check may take at most half an interval, so a healthy
    file is at most 1.5 intervals old, and 3 intervals (`Settings.heartbeat_max_age`) means at
    least two beats in a row were missed.
    """

    def __init__(
        self, application: Application[Any, Any, Any, Any, Any, Any], path: Path, interval: float
    ) -> None:
        self._application = application
        self._path = path
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._problem: str | None = None

    def start(self) -> None:
        """Start beating in a task on the running event loop."""
        # A file left by an earlier run (a restarted container keeps its /tmp) must not vouch
        # for this one before it has checked anything.
        self._path.unlink(missing_ok=True)
        self._task = asyncio.create_task(self._run(), name="digitbot heartbeat")

    async def stop(self) -> None:
        """Stop beating and remove the file: a stopped bot is not alive."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._path.unlink(missing_ok=True)

    async def problem(self) -> str | None:
        """Return why the bot is not healthy right now, or None when it is."""
        application = self._application
        if not application.running:
            return "the application is not running"
        if application.updater is not None and not application.updater.running:
            return "the updater is not running (neither polling nor serving the webhook)"
        try:
            async with asyncio.timeout(self._interval / 2):
                await application.bot.get_me()
        except TimeoutError:
            return f"the Bot API did not answer getMe within {self._interval / 2:g}s"
        except TelegramError as exc:
            return f"the Bot API did not answer getMe: {type(exc).__name__}: {exc}"
        return None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # Counted from the start of a check, so a slow check does not stretch the cadence.
            next_beat = loop.time() + self._interval
            # While PTB starts the application (post_init runs first) or stops it there is no
            # beat, and nothing worth a warning: PTB logs those itself.
            if self._application.running:
                self._report(await self.problem() or self._touch())
            await asyncio.sleep(max(0.0, next_beat - loop.time()))

    def _touch(self) -> str | None:
        """Refresh the file; return a problem if it cannot be written."""
        try:
            self._path.touch()
        except OSError as exc:
            return f"cannot write the heartbeat file {self._path}: {exc.strerror}"
        return None

    def _report(self, problem: str | None) -> None:
        # Only changes are logged: a line per beat would bury everything else.
        if problem is not None and problem != self._problem:
            logger.warning("heartbeat skipped: %s", problem)
        elif problem is None and self._problem is not None:
            logger.info("heartbeat resumed")
        self._problem = problem
