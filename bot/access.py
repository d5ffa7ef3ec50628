"""An optional allow-list: with ALLOWED_USER_IDS set, the bot serves only those users.

Anyone else gets one polite refusal (and their id in the log, so the owner can add them), and
their further messages within REFUSAL_QUIET seconds are skipped: the refusal covers them. The
check runs before every other handler, so nothing of the bot's work is done for strangers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import texts
from bot.limits import PRUNE_AT, is_answered

if TYPE_CHECKING:
    from bot.context import Context

logger = logging.getLogger(__name__)

REFUSAL_QUIET = 3600.0


class AllowList:
    """Serve only `user_ids` (everyone, when empty); refuse others once per REFUSAL_QUIET."""

    def __init__(self, user_ids: frozenset[int], clock: Callable[[], float] = time.monotonic):
        self.user_ids = user_ids
        self._clock = clock
        self._refused: dict[int, float] = {}

    def _should_refuse(self, user_id: int) -> bool:
        """Whether to tell this stranger (again): not if told within REFUSAL_QUIET seconds."""
        now = self._clock()
        if len(self._refused) > PRUNE_AT:
            self._refused = {u: t for u, t in self._refused.items() if now - t < REFUSAL_QUIET}
        told = self._refused.get(user_id)
        if told is not None and now - told < REFUSAL_QUIET:
            return False
        self._refused[user_id] = now
        return True

    async def check(self, update: object, context: Context) -> None:
        """Stop every update of a user not on the list, answering the first with a refusal."""
        if not self.user_ids or not isinstance(update, Update):
            return
        user = update.effective_user
        if user is None or user.id in self.user_ids:
            return
        query = update.callback_query
        try:
            if query is not None:
                # A button press must always be answered, or the client keeps spinning.
                await query.answer(texts.NOT_ALLOWED)
            elif (
                update.message is not None
                and is_answered(context.application, update)
                and self._should_refuse(user.id)
            ):
                logger.info("refused user %d: not in ALLOWED_USER_IDS", user.id)
                await update.message.reply_text(texts.NOT_ALLOWED)
        except TelegramError as exc:
            logger.warning("could not send a refusal: %s", exc)
        raise ApplicationHandlerStop
