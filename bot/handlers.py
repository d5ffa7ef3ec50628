"""Telegram handlers: parse the update, call the recognition core off the event loop, reply."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from telegram import InputMediaPhoto, Message, PhotoSize, Update
from telegram.constants import ChatAction
from telegram.error import NetworkError, TelegramError

from bot import texts
from bot.context import Context
from bot.feedback import handlers as corrections
from bot.services import DEFAULT_SAMPLES, MAX_SAMPLES
from bot.workers import WorkerDied
from model.decode import WORK_SIDE
from model.errors import ImageTooLarge, NotAnImage

logger = logging.getLogger(__name__)

# Telegram offers each photo at several sizes (about 90, 320, 800 and 1280 px on the long
# side). The analysis runs at WORK_SIDE, so the smallest size at least that large loses nothing.
PHOTO_LONG_SIDE = WORK_SIDE
# An answer slower than this gets "sending a photo…" shown meanwhile; Telegram shows it for
# 5 s (or until the bot's next message), so a chat gets it once in that time at most.
CHAT_ACTION_AFTER = 1.0
CHAT_ACTION_LASTS = 4.5
SHOWING_UNTIL = "uploading action shown until"


def chosen_photo_size(sizes: Sequence[PhotoSize], long_side: int = PHOTO_LONG_SIDE) -> PhotoSize:
    """Return the smallest photo size whose long side reaches `long_side`, else the largest."""
    ordered = sorted(sizes, key=lambda size: max(size.width, size.height))
    for size in ordered:
        if max(size.width, size.height) >= long_side:
            return size
    return ordered[-1]


def parse_sample_args(args: Sequence[str]) -> tuple[int | None, int]:
    """Parse `/sample [digit] [count]`; raises ValueError with bad arguments."""
    if len(args) > 2:
        raise ValueError("too many arguments")
    digit = int(args[0]) if args else None
    count = int(args[1]) if len(args) == 2 else DEFAULT_SAMPLES
    if digit is not None and not 0 <= digit <= 9:
        raise ValueError("digit out of range")
    if not 1 <= count <= MAX_SAMPLES:
        raise ValueError("count out of range")
    return digit, count


async def start(update: Update, context: Context) -> None:
    """Greet the user and say what to send."""
    if update.effective_message:
        await update.effective_message.reply_text(texts.START)


async def help_command(update: Update, context: Context) -> None:
    """Explain how to use the bot."""
    if update.effective_message:
        await update.effective_message.reply_text(texts.HELP)


async def privacy(update: Update, context: Context) -> None:
    """Say what the bot keeps about the user, as it is configured."""
    if update.effective_message:
        settings = context.settings
        keeps = context.feedback is not None
        await update.effective_message.reply_text(
            texts.privacy_text(keeps, keeps and settings.keep_crops)
        )


async def sample(update: Update, context: Context) -> None:
    """Send labelled dataset images: a random handful, or only the digit asked for."""
    message = update.effective_message
    if message is None:
        return
    try:
        digit, count = parse_sample_args(context.args or [])
    except ValueError:
        await message.reply_text(texts.SAMPLE_USAGE.format(max_count=MAX_SAMPLES))
        return
    await _show_uploading(message)
    samples = await asyncio.to_thread(context.services.samples, digit, count)
    if len(samples) == 1:
        label, png = samples[0]
        await message.reply_photo(png, caption=texts.sample_caption(label))
        return
    await message.reply_media_group(
        [InputMediaPhoto(png, caption=texts.sample_caption(label)) for label, png in samples]
    )


async def accuracy(update: Update, context: Context) -> None:
    """Report the cached held-out accuracy with a confusion-matrix picture."""
    if update.effective_message is None:
        return
    services = context.services
    await update.effective_message.reply_photo(
        services.accuracy_png, caption=texts.accuracy_text(services.evaluation)
    )


async def photo(update: Update, context: Context) -> None:
    """Read the digits in a photo."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    await _answer_image(message, context, chosen_photo_size(message.photo).file_id)


async def image_document(update: Update, context: Context) -> None:
    """Read the digits in an image sent as a file, refusing files over the limit unread."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    limit = context.settings.max_file_bytes
    size = message.document.file_size or 0
    if size > limit:
        await message.reply_text(texts.file_too_large(size, limit))
        return
    await _answer_image(message, context, message.document.file_id)


async def _show_uploading(message: Message) -> None:
    """Show "sending a photo…" while the answer is being made; it is only a courtesy."""
    try:
        await message.reply_chat_action(ChatAction.UPLOAD_PHOTO)
    except TelegramError as exc:
        # Failing here must not cost the user the answer itself.
        logger.warning("could not send a chat action: %s", exc)


async def _show_uploading_after(message: Message, context: Context, delay: float) -> None:
    await asyncio.sleep(delay)
    # A user who sent several photos at once sees the action from the first one still.
    now = asyncio.get_running_loop().time()
    chat = context.chat_data if context.chat_data is not None else {}
    if chat.get(SHOWING_UNTIL, 0.0) > now:
        return
    chat[SHOWING_UNTIL] = now + CHAT_ACTION_LASTS
    # Once it is on its way, let it finish: a request cut off halfway costs its connection.
    await asyncio.shield(_show_uploading(message))


async def _answer_image(message: Message, context: Context, file_id: str) -> None:
    # Telegram asks bots to show a chat action only when the answer takes noticeable time: most
    # answers arrive well within CHAT_ACTION_AFTER, and a busy bot saves a request per photo.
    uploading = asyncio.create_task(_show_uploading_after(message, context, CHAT_ACTION_AFTER))
    try:
        await _read_and_answer(message, context, file_id)
    finally:
        uploading.cancel()


async def _read_and_answer(message: Message, context: Context, file_id: str) -> None:
    try:
        # Transient failures are retried (bot/retry.py); this bounds the whole fetch. The bytes
        # stay in memory: nothing a user sends is written to disk.
        async with asyncio.timeout(context.settings.download_timeout):
            telegram_file = await context.bot.get_file(file_id)
            data = bytes(await telegram_file.download_as_bytearray())
    except (TelegramError, TimeoutError) as exc:
        logger.warning("could not download a file: %r", exc)
        await message.reply_text(texts.DOWNLOAD_FAILED)
        return
    try:
        reading, preview = await context.services.photo_reading(data)
    except WorkerDied:
        await message.reply_text(texts.ERROR)
        return
    except NotAnImage:
        await message.reply_text(texts.NOT_AN_IMAGE)
        return
    except ImageTooLarge:
        await message.reply_text(texts.IMAGE_TOO_LARGE)
        return
    if preview is None:
        await message.reply_text(texts.WRITING if reading.writing else texts.NO_DIGIT)
        return
    offer = corrections.offer(context, message, reading)
    sent = await message.reply_photo(
        preview, caption=texts.reading_caption(reading) + offer.hint, reply_markup=offer.keyboard
    )
    await offer.remember(sent)


async def unsupported(update: Update, context: Context) -> None:
    """Tell the user which kinds of message the bot reads."""
    if update.effective_message:
        await update.effective_message.reply_text(texts.UNSUPPORTED)


async def text(update: Update, context: Context) -> None:
    """Point a user who typed text at photos."""
    if update.effective_message:
        await update.effective_message.reply_text(texts.TEXT_HINT)


async def unknown_command(update: Update, context: Context) -> None:
    """Answer a command the bot does not have."""
    if update.effective_message:
        await update.effective_message.reply_text(texts.UNKNOWN_COMMAND)


async def on_error(update: object, context: Context) -> None:
    """Log the failure with its traceback and tell the user, without details."""
    if update is None and isinstance(context.error, NetworkError):
        # The polling loop could not reach the Bot API; it retries by itself. One line per
        # attempt, not a hundred-line traceback, while the network is down.
        logger.warning("cannot reach the Bot API, retrying: %s", context.error)
        return
    logger.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        try:
            await update.effective_message.reply_text(texts.ERROR)
        except TelegramError:
            logger.warning("could not tell the user about the error")
