"""Wiring: build the Application from settings, register handlers, run it."""

from __future__ import annotations

import logging
import sys

from telegram import BotCommand, Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot import handlers, texts
from bot.logs import configure_logging
from bot.services import Services
from bot.settings import Settings, SettingsError
from model.errors import ModelError

logger = logging.getLogger(__name__)

IMAGE_FILE = filters.Document.IMAGE | filters.Document.FileExtension("jpg")
NEW_MESSAGES = filters.UpdateType.MESSAGE


async def post_init(application: Application) -> None:
    """Create the services once (unless already given) and publish the command menu."""
    settings: Settings = application.bot_data["settings"]
    if "services" not in application.bot_data:
        application.bot_data["services"] = Services.create(
            settings.model_path, settings.model_sha256
        )
    await application.bot.set_my_commands([BotCommand(name, text) for name, text in texts.COMMANDS])
    logger.info("bot @%s is ready", application.bot.username)


def build_application(settings: Settings, services: Services | None = None) -> Application:
    """Return the Application with every handler registered."""
    application = (
        Application.builder()
        .token(settings.token)
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .concurrent_updates(True)
        .post_init(post_init)
        .build()
    )
    application.bot_data["settings"] = settings
    if services is not None:
        application.bot_data["services"] = services
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler("help", handlers.help_command))
    application.add_handler(CommandHandler("sample", handlers.sample))
    application.add_handler(CommandHandler("accuracy", handlers.accuracy))
    application.add_handler(MessageHandler(NEW_MESSAGES & filters.PHOTO, handlers.photo))
    application.add_handler(MessageHandler(NEW_MESSAGES & IMAGE_FILE, handlers.image_document))
    application.add_handler(
        MessageHandler(NEW_MESSAGES & filters.COMMAND, handlers.unknown_command)
    )
    application.add_handler(MessageHandler(NEW_MESSAGES & filters.TEXT, handlers.text))
    application.add_handler(MessageHandler(NEW_MESSAGES, handlers.unsupported))
    application.add_error_handler(handlers.on_error)
    return application


def serve() -> int:
    """Run the bot until stopped, in polling or webhook mode as configured."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"digitbot: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        services = Services.create(settings.model_path, settings.model_sha256)
    except ModelError as exc:
        print(f"digitbot: model error: {exc}", file=sys.stderr)
        return 2
    application = build_application(settings, services)
    if settings.mode == "webhook":
        logger.info(
            "serving in webhook mode on %s:%d", settings.webhook_listen, settings.webhook_port
        )
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=settings.webhook_path,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        logger.info("serving in polling mode against %s", settings.api_url)
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0
