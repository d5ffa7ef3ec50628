"""The Telegram side of corrections: buttons under answers, taps on them, /stats and /forget."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from alembic.util.exc import CommandError
from PIL import Image
from sqlalchemy.exc import SQLAlchemyError
from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError

from bot import texts
from bot.feedback.database import DatabaseUnavailable, database_url, describe
from bot.feedback.keyboard import MAX_POSITIONS, Tap, answer_keyboard, pad_keyboard, parse_tap
from bot.feedback.store import (
    ANSWER_MAX_AGE,
    AnswerState,
    DigitToCheck,
    FeedbackStore,
    NotYourAnswer,
    StaleAnswer,
    TapRefused,
    new_token,
)
from bot.settings import Settings
from model.recognize import Reading
from model.shipped import SHIPPED_MODEL_SHA256

if TYPE_CHECKING:  # bot.context builds the store with open_store, from here
    from bot.context import Context

logger = logging.getLogger(__name__)

# How an answer names the model that made it: the start of the model file's sha256.
MODEL_VERSION_LENGTH = 16


def open_store(settings: Settings) -> FeedbackStore | None:
    """Open (and migrate) the configured database; None when corrections are switched off."""
    if settings.data_dir is None and settings.database_url is None:
        return None
    url = database_url(settings.database_url, settings.data_dir)
    try:
        store = FeedbackStore.open(url)
    except (SQLAlchemyError, CommandError, OSError) as exc:
        raise DatabaseUnavailable(f"cannot open the database {describe(url)}: {exc}") from exc
    logger.info("corrections are kept in %s", describe(url))
    return store


def model_version(settings: Settings) -> str:
    """The version stored with each answer: the start of the model file's sha256."""
    return (settings.model_sha256 or SHIPPED_MODEL_SHA256).lower()[:MODEL_VERSION_LENGTH]


def crop_png(ink: np.ndarray) -> bytes:
    """A digit's ink crop (0..1, ink high) as a PNG, dark on white."""
    levels = (255 - np.clip(ink, 0.0, 1.0) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(levels, "L").save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Offer:
    """The correction buttons to send with an answer, and the answer to remember once sent."""

    store: FeedbackStore | None = None
    token: str = ""
    user_id: int = 0
    version: str = ""
    digits: tuple[DigitToCheck, ...] = ()

    @property
    def keyboard(self) -> InlineKeyboardMarkup | None:
        """The buttons, or None when this answer gets none."""
        if self.store is None:
            return None
        predicted = tuple(d.predicted for d in self.digits)
        return answer_keyboard(AnswerState(self.token, predicted, (None,) * len(predicted)))

    @property
    def hint(self) -> str:
        """The line to add to the caption, explaining the buttons."""
        return "\n" + texts.correction_hint(len(self.digits)) if self.store else ""

    async def remember(self, sent: Message) -> None:
        """Store the answer just sent, so its buttons work, also after a restart."""
        if self.store is None:
            return
        try:
            await asyncio.to_thread(
                self.store.remember_answer,
                sent.chat_id,
                sent.message_id,
                self.user_id,
                self.token,
                self.version,
                self.digits,
            )
        except SQLAlchemyError:
            logger.exception("could not store an answer; taking its buttons away")
            try:
                await sent.edit_reply_markup(reply_markup=None)
            except TelegramError as exc:
                logger.warning("could not take the buttons away: %s", exc)


def offer(context: Context, message: Message, reading: Reading) -> Offer:
    """The corrections offered with the answer to `message`: none if they are switched off."""
    store = context.feedback
    if store is None or message.from_user is None or not 1 <= len(reading.digits) <= MAX_POSITIONS:
        return Offer()
    settings = context.settings
    return Offer(
        store=store,
        token=new_token(),
        user_id=message.from_user.id,
        version=model_version(settings),
        digits=tuple(
            DigitToCheck(
                predicted=d.digit,
                grid=d.grid,
                crop=crop_png(d.ink) if settings.keep_crops else None,
            )
            for d in reading.digits
        ),
    )


async def tap(update: Update, context: Context) -> None:
    """Record a tap on a correction button and show what was recorded."""
    query = update.callback_query
    if query is None:
        return
    store = context.feedback
    parsed = parse_tap(query.data)
    message = query.message
    if store is None or parsed is None or message is None:
        await _acknowledge(query, texts.TAP_UNKNOWN)
        return
    if isinstance(message, Message) and message.date < datetime.now(UTC) - ANSWER_MAX_AGE:
        # Checked here too: answers this old may already be deleted, which would read "unknown".
        await _acknowledge(query, texts.TAP_STALE)
        return
    try:
        toast, keyboard = await _apply(
            store, parsed, (message.chat.id, message.message_id, query.from_user.id, parsed.token)
        )
    except StaleAnswer:
        toast, keyboard = texts.TAP_STALE, None
    except NotYourAnswer:
        toast, keyboard = texts.TAP_NOT_YOURS, None
    except TapRefused:
        toast, keyboard = texts.TAP_UNKNOWN, None
    except SQLAlchemyError:
        logger.exception("could not record a tap")
        toast, keyboard = texts.TAP_FAILED, None
    await _acknowledge(query, toast)
    if keyboard is not None:
        await _show(query, keyboard)


async def _apply(
    store: FeedbackStore, tap: Tap, ids: tuple[int, int, int, str]
) -> tuple[str | None, InlineKeyboardMarkup]:
    """Carry out a tap on the answer `ids` (chat, message, user, token); return the
    acknowledgement and the keyboard to show."""
    if tap.action == "ok":
        recorded = await asyncio.to_thread(store.confirm, *ids)
        return (
            texts.recorded_toast(recorded.state, None, recorded.replaced),
            answer_keyboard(recorded.state),
        )
    if tap.action == "digit":
        recorded = await asyncio.to_thread(store.correct, *ids, tap.position, tap.digit)
        return (
            texts.recorded_toast(recorded.state, tap.position, recorded.replaced),
            answer_keyboard(recorded.state),
        )
    state = await asyncio.to_thread(store.answer_state, *ids)
    if tap.action == "back":
        return None, answer_keyboard(state)
    if len(state.predicted) < 2 or tap.position >= len(state.predicted):
        raise TapRefused(f"no digit {tap.position} to choose in this answer")
    return (
        texts.pick_toast(tap.position, state.predicted[tap.position]),
        pad_keyboard(state, tap.position),
    )


async def _acknowledge(query: CallbackQuery, text: str | None) -> None:
    """Answer the button press, which stops the client's spinner and shows `text` briefly."""
    try:
        await query.answer(text)
    except TelegramError as exc:
        # Telegram refuses answers to presses older than a few seconds; the press still counts.
        logger.warning("could not answer a button press: %s", exc)


async def _show(query: CallbackQuery, keyboard: InlineKeyboardMarkup) -> None:
    """Put `keyboard` under the answer, unless it is there already (or the answer is gone)."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup == keyboard:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=keyboard)
    except BadRequest as exc:
        # Two quick taps can race to the same keyboard; the second edit changes nothing.
        if "not modified" not in exc.message.lower():
            logger.warning("could not show what was recorded: %s", exc)


async def stats(update: Update, context: Context) -> None:
    """Say how often the bot was right, for this user and for everyone."""
    await _about_user(
        update, context, lambda store, user_id: texts.stats_text(store.stats(user_id))
    )


async def forget(update: Update, context: Context) -> None:
    """Delete everything stored about the user and say how much that was."""
    await _about_user(
        update, context, lambda store, user_id: texts.forget_text(store.forget(user_id))
    )


async def _about_user(
    update: Update,
    context: Context,
    reply_for: Callable[[FeedbackStore, int], str],
) -> None:
    """Answer a command about the user's stored data, computed off the event loop."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    store = context.feedback
    if store is None:
        await message.reply_text(texts.FEEDBACK_OFF)
        return
    await message.reply_text(await asyncio.to_thread(reply_for, store, user.id))
