"""Wiring: build the Application from settings, register handlers, run it."""

from __future__ import annotations

import asyncio
import logging
import sys
from concurrent.futures.process import BrokenProcessPool
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot, BotCommand, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import handlers, texts
from bot.access import AllowList
from bot.context import CONTEXT_TYPES, BotData, Context
from bot.exits import EXIT_CONFIG, EXIT_SETTINGS
from bot.feedback import handlers as corrections
from bot.feedback.database import DatabaseUnavailable
from bot.heartbeat import Heartbeat
from bot.limits import RateLimits, SendLimiter
from bot.logs import configure_logging, redact
from bot.retry import RetryingRequest
from bot.services import Services
from bot.settings import Settings, SettingsError
from bot.startup import TokenRejected, run_until_reached, token_rejected_message
from model.errors import ModelError

logger = logging.getLogger(__name__)

# Clients send most images as image/*, but some send a photo's file as application/octet-stream.
IMAGE_FILE = (
    filters.Document.IMAGE
    | filters.Document.FileExtension("jpg")
    | filters.Document.FileExtension("jpeg")
    | filters.Document.FileExtension("png")
    | filters.Document.FileExtension("webp")
    | filters.Document.FileExtension("bmp")
    | filters.Document.FileExtension("gif")
)
# Only new messages are read: an edit or a channel post is not a question to the bot.
NEW_MESSAGES = filters.UpdateType.MESSAGE
# Button presses: the corrections under an answer (bot/feedback).
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
# In a group the bot may see every message (as an admin, or with privacy mode off). There it
# answers commands and images only; hinting at everyone's chatter would be spam.
HINTED = NEW_MESSAGES & filters.ChatType.PRIVATE & ~filters.StatusUpdate.ALL


async def post_init(application: Application[Any, Context, Any, Any, BotData, Any]) -> None:
    """Load what is not loaded yet (BotData.start), publish the command menu, start beating."""
    data = application.bot_data
    await asyncio.to_thread(data.start)
    await introduce(application.bot)
    if data.settings.heartbeat_file is not None:
        heartbeat = Heartbeat(
            application, data.settings.heartbeat_file, data.settings.heartbeat_interval
        )
        heartbeat.start()
        data.heartbeat = heartbeat
    logger.info("bot @%s is ready", application.bot.username)


async def introduce(bot: Bot) -> None:
    """Publish the command menu and the descriptions users see before pressing Start.

    They change nothing about how the bot works, so a failure is logged, not fatal.
    """
    try:
        await bot.set_my_commands([BotCommand(name, text) for name, text in texts.COMMANDS])
        await bot.set_my_description(texts.DESCRIPTION)
        await bot.set_my_short_description(texts.SHORT_DESCRIPTION)
    except TelegramError as exc:
        logger.warning("could not publish the command menu and descriptions: %s", exc)


async def post_shutdown(application: Application[Any, Context, Any, Any, BotData, Any]) -> None:
    """Stop the heartbeat, so the health check sees a stopped bot as one; close the database."""
    await application.bot_data.stop()


def build_application(
    settings: Settings, services: Services | None = None
) -> Application[Any, Context, Any, Any, BotData, Any]:
    """Return the Application with every handler registered."""
    application = (
        Application.builder()
        .token(settings.token)
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .request(RetryingRequest(settings.api_retry_seconds, f"{settings.api_url}/file/bot"))
        .rate_limiter(SendLimiter(settings.send_rate_per_second))
        .concurrent_updates(True)
        .context_types(CONTEXT_TYPES)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data.configure(settings, services)
    # Before every other handler: strangers (with an allow-list), then users over their limit.
    application.add_handler(TypeHandler(Update, AllowList(settings.allowed_user_ids).check), -2)
    limits = RateLimits(settings.rate_limit_per_minute, settings.command_rate_limit_per_minute)
    application.add_handler(TypeHandler(Update, limits.check), -1)
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler("help", handlers.help_command))
    application.add_handler(CommandHandler("sample", handlers.sample))
    application.add_handler(CommandHandler("accuracy", handlers.accuracy))
    application.add_handler(CommandHandler("stats", corrections.stats))
    application.add_handler(CommandHandler("forget", corrections.forget))
    application.add_handler(CommandHandler("privacy", handlers.privacy))
    # Every button press is answered, a forged one too.
    application.add_handler(CallbackQueryHandler(corrections.tap))
    application.add_handler(MessageHandler(NEW_MESSAGES & filters.PHOTO, handlers.photo))
    application.add_handler(MessageHandler(NEW_MESSAGES & IMAGE_FILE, handlers.image_document))
    application.add_handler(MessageHandler(HINTED & filters.COMMAND, handlers.unknown_command))
    application.add_handler(MessageHandler(HINTED & filters.TEXT, handlers.text))
    application.add_handler(MessageHandler(HINTED, handlers.unsupported))
    application.add_error_handler(handlers.on_error)
    return application


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Where the webhook listens and what Telegram is told: the arguments of run_webhook()."""
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": settings.webhook_path,
        "webhook_url": settings.webhook_url,
        "secret_token": settings.webhook_secret,
        "allowed_updates": ALLOWED_UPDATES,
    }


def serve() -> int:
    """Run the bot until stopped, in polling or webhook mode as configured; return the exit code.

    Every failure a user can cause ends in one line on stderr that names what to fix, never a
    traceback and never the token or the webhook secret (the codes: bot/exits.py).
    """
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        return _fail(f"configuration error: {exc}", EXIT_SETTINGS)
    secrets = (
        settings.token,
        settings.webhook_secret,
        urlsplit(settings.database_url or "").password,
    )
    configure_logging(settings.log_level, secrets=secrets)
    try:
        return _serve(settings, secrets)
    except Exception:
        # A bug: its traceback is wanted, but through the log's filter, never the token.
        logger.critical("digitbot serve crashed", exc_info=True)
        return 1


def _serve(settings: Settings, secrets: tuple[str | None, ...]) -> int:
    """Wait for the Bot API, load what the bot needs, then serve; return the exit code."""
    if settings.heartbeat_file is not None:
        # A heartbeat left by an earlier run must not vouch for this one while it waits.
        settings.heartbeat_file.unlink(missing_ok=True)
    application = build_application(settings)
    # run_polling and run_webhook go on with this loop (and close it at the end).
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        reached = run_until_reached(
            loop,
            application.bot,
            settings.api_url,
            settings.startup_retry_seconds,
            settings.startup_retry_max_seconds,
        )
    except TokenRejected as exc:
        return _fail(str(exc), EXIT_CONFIG, loop)
    except TelegramError as exc:
        return _fail(f"the Bot API refused to start the bot: {redact(str(exc), secrets)}", 1, loop)
    if not reached:
        loop.close()
        return 0
    try:
        _prepare(application)
    except StartError as exc:
        loop.run_until_complete(application.bot.shutdown())
        return _fail(str(exc), EXIT_SETTINGS, loop)
    return _run(application, settings, secrets)


class StartError(Exception):
    """A part the bot needs (model, database, worker processes) cannot be started."""


def _fail(message: str, code: int, loop: asyncio.AbstractEventLoop | None = None) -> int:
    print(f"digitbot: {message}", file=sys.stderr)
    if loop is not None:
        loop.close()
    return code


def _refused(exc: TelegramError, settings: Settings, secrets: tuple[str | None, ...]) -> int:
    """Say in one line why the Bot API failed the start (after getMe); return the exit code."""
    said = redact(str(exc), secrets)
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):  # PTB: BadRequest is one
        # Between getMe and the first getUpdates or setWebhook the network went away again.
        return _fail(f"lost the Bot API while starting: {said}", 1)
    if settings.mode == "webhook":
        return _fail(f"the Bot API refused the webhook ({said}): check WEBHOOK_URL", EXIT_CONFIG)
    return _fail(f"the Bot API refused to start polling: {said}", 1)


def _prepare(application: Application[Any, Context, Any, Any, BotData, Any]) -> None:
    """Load the model, open the database and start the workers (BotData.start), before serving."""
    try:
        application.bot_data.start()
    except ModelError as exc:
        raise StartError(f"model error: {exc}") from exc
    except DatabaseUnavailable as exc:
        raise StartError(f"database error: {exc}") from exc
    except BrokenProcessPool as exc:
        raise StartError(f"could not start the worker processes: {exc}") from exc


def _run(
    application: Application[Any, Context, Any, Any, BotData, Any],
    settings: Settings,
    secrets: tuple[str | None, ...],
) -> int:
    """Serve until stopped; a Bot API refusal while starting ends in one line, not a traceback."""
    try:
        if settings.mode == "webhook":
            logger.info(
                "serving in webhook mode on %s:%d", settings.webhook_listen, settings.webhook_port
            )
            application.run_webhook(**webhook_options(settings))
        else:
            logger.info("serving in polling mode against %s", settings.api_url)
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:
        return _fail(token_rejected_message(settings.token, settings.api_url), EXIT_CONFIG)
    except TelegramError as exc:
        return _refused(exc, settings, secrets)
    except OSError as exc:
        if settings.mode != "webhook":
            raise
        # The webhook's port is taken, or the address cannot be listened on.
        return _fail(
            f"cannot listen on {settings.webhook_listen}:{settings.webhook_port} "
            f"({exc.strerror or exc}): check WEBHOOK_LISTEN and WEBHOOK_PORT",
            EXIT_SETTINGS,
        )
    return 0
