"""What every handler gets: the bot's data, typed, in a context of its own (PTB's ContextTypes).

`BotData` is `context.bot_data` (and `application.bot_data`): the settings, the services and the
corrections' store. `build_application` gives it the settings (and the services, when a caller
such as a test has them loaded already); `BotData.start` loads the rest, once, in the one place
where the bot's parts are built: `digitbot serve` calls it before serving, so that a part that
cannot start ends the bot with one line; an Application built in code gets it from post_init.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.feedback.handlers import open_store
from bot.feedback.store import FeedbackStore
from bot.heartbeat import Heartbeat
from bot.services import Services
from bot.settings import Settings
from bot.workers import Workers


class NotStarted(RuntimeError):
    """The bot's data was used before build_application (settings) or BotData.start (services)."""


@dataclass
class BotData:
    """The bot's shared parts. PTB creates it empty; build_application and `start` fill it."""

    _settings: Settings | None = None
    _services: Services | None = None
    # The corrections' database; None when they are switched off (or before `start`).
    feedback: FeedbackStore | None = None
    # The liveness signal, while it beats (post_init to post_shutdown).
    heartbeat: Heartbeat | None = None
    started: bool = False

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise NotStarted("the Application was not made by bot.app.build_application")
        return self._settings

    @property
    def services(self) -> Services:
        if self._services is None:
            raise NotStarted("the services are loaded by BotData.start (post_init at the latest)")
        return self._services

    def configure(self, settings: Settings, services: Services | None = None) -> None:
        """Give the settings, and the services when the caller has them loaded already."""
        self._settings = settings
        self._services = services

    def start(self) -> None:
        """Load the model, open the database and start the worker processes, unless done already.

        Blocking; raises `model.errors.ModelError`, `DatabaseUnavailable` or `BrokenProcessPool`
        for the part that cannot start.
        """
        if self.started:
            return
        settings = self.settings
        if self._services is None:
            self._services = Services.create(settings.model_path, settings.model_sha256)
        self.feedback = open_store(settings)
        if settings.recognition_processes and self._services.workers is None:
            self._services.workers = Workers(
                settings.recognition_processes, self._services.recognizer.weights()
            )
        self.started = True

    async def stop(self) -> None:
        """Stop the heartbeat, close the database and stop the workers (post_shutdown).

        Without its heartbeat, a stopped bot reads as one to `digitbot healthcheck`.
        """
        heartbeat, self.heartbeat = self.heartbeat, None
        if heartbeat is not None:
            await heartbeat.stop()
        if self.feedback is not None:
            await asyncio.to_thread(self.feedback.close)
        if self._services is not None and self._services.workers is not None:
            await self._services.workers.close()


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The `context` of every handler: PTB's, with the bot's data typed, and short ways to it."""

    @property
    def settings(self) -> Settings:
        return self.bot_data.settings

    @property
    def services(self) -> Services:
        return self.bot_data.services

    @property
    def feedback(self) -> FeedbackStore | None:
        """The corrections' store; None when they are switched off."""
        return self.bot_data.feedback


CONTEXT_TYPES = ContextTypes(context=Context, bot_data=BotData)
