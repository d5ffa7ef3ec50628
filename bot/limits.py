"""Rate limits: how fast the bot sends (Telegram's flood limits) and how much one user may ask.

Sending: PTB's AIORateLimiter keeps the bot under about 30 requests a second overall and 20 a
minute in each group, and waits out a 429's `retry_after` before trying again. It does not pace
private chats, where Telegram allows about one message a second (with short bursts); a 429 there
would pause *every* chat, so SendLimiter adds that pace per private chat.

Asking: RateLimits answers at most so many messages of each user in any 60 seconds, with two
budgets: photos and files (the expensive work: a download and a reading) and, looser, everything
else (commands, texts, button taps), so a new user exploring /help, /sample and /accuracy is not
cut off. Beyond a budget the user gets one notice saying when to send again, and what they send
of that kind until then is skipped: the notice covers it (see docs/behaviour.md). It runs before
the handlers and counts only what some handler would answer, so group chatter costs nothing.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiolimiter import AsyncLimiter
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationHandlerStop

from bot import texts

if TYPE_CHECKING:
    from bot.context import Context

logger = logging.getLogger(__name__)

# Telegram: about one message a second in a private chat, short bursts allowed.
PRIVATE_CHAT_BURST = 3
PRIVATE_CHAT_PERIOD = 3.0
GROUP_PER_MINUTE = 20
# Retries of a request Telegram answered with 429, each after the `retry_after` it asked for.
MAX_RETRIES = 3
WINDOW = 60.0
# Past this many remembered users, idle ones are forgotten (bounded memory under many users).
PRUNE_AT = 4096


def is_answered(application: Application[Any, Any, Any, Any, Any, Any], update: Update) -> bool:
    """Whether a handler of the application (in group 0 or later) would handle the update."""
    return any(
        handler.check_update(update)
        for group, handlers in application.handlers.items()
        if group >= 0
        for handler in handlers
    )


class SendLimiter(AIORateLimiter):
    """AIORateLimiter, plus about one request a second in each private chat.

    `per_second` 0 turns all pacing off (against a Bot API without flood limits, as in load
    tests); 429s are still waited out and retried.
    """

    def __init__(self, per_second: int, max_retries: int = MAX_RETRIES) -> None:
        super().__init__(
            overall_max_rate=per_second,
            group_max_rate=GROUP_PER_MINUTE if per_second else 0,
            max_retries=max_retries,
        )
        self._paced = per_second > 0
        self._chats: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._chats) > PRUNE_AT:
            # As AIORateLimiter does for groups: drop limiters with all their capacity unused.
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del self._chats[key]
        if chat_id not in self._chats:
            self._chats[chat_id] = AsyncLimiter(PRIVATE_CHAT_BURST, PRIVATE_CHAT_PERIOD)
        return self._chats[chat_id]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Pace private chats (chat actions excepted: they are no messages), then as PTB does."""
        chat_id = data.get("chat_id")
        pace: contextlib.AbstractAsyncContextManager[Any] = contextlib.nullcontext()
        if self._paced and endpoint != "sendChatAction":
            with contextlib.suppress(TypeError, ValueError):
                if int(chat_id) > 0:  # type: ignore[arg-type]
                    pace = self._chat_limiter(int(chat_id))  # type: ignore[arg-type]
        async with pace:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )


@dataclass
class _Budget:
    answered: deque[float] = field(default_factory=deque)  # when, in the last WINDOW seconds
    quiet_until: float = 0.0  # the last notice covers messages until then


class UserRateLimit:
    """One budget: at most `per_minute` per user in any 60 s (0: no limit); see the module."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._users: dict[int, _Budget] = {}
        self._prune_at = PRUNE_AT

    def admit(self, user_id: int) -> float | None:
        """Count one message; None if it may be answered, else the seconds until a slot frees.

        Only the first refused message of a stretch gets a number (for the notice); the others
        until then get 0.0: the notice covers them.
        """
        now = self._clock()
        budget = self._users.setdefault(user_id, _Budget())
        while budget.answered and budget.answered[0] <= now - WINDOW:
            budget.answered.popleft()
        if len(budget.answered) < self.per_minute:
            budget.answered.append(now)
            self._prune(now)
            return None
        if now < budget.quiet_until:
            return 0.0
        wait = budget.answered[0] + WINDOW - now
        budget.quiet_until = now + wait
        return wait

    def _prune(self, now: float) -> None:
        if len(self._users) <= self._prune_at:
            return
        for user_id, budget in list(self._users.items()):
            if (not budget.answered or budget.answered[-1] <= now - WINDOW) and (
                budget.quiet_until <= now
            ):
                del self._users[user_id]
        self._prune_at = max(PRUNE_AT, 2 * len(self._users))


class RateLimits:
    """Photos and files against one per-user budget, everything else against another."""

    def __init__(
        self,
        images_per_minute: int,
        others_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.images = UserRateLimit(images_per_minute, clock)
        self.others = UserRateLimit(others_per_minute, clock)

    async def check(self, update: object, context: Context) -> None:
        """Let the update through, or stop it (with the notice, for the first one skipped)."""
        if not isinstance(update, Update) or update.effective_user is None:
            return
        query, message = update.callback_query, update.message
        if query is None and (message is None or not is_answered(context.application, update)):
            return
        is_image = message is not None and bool(message.photo or message.document)
        limit = self.images if is_image else self.others
        if limit.per_minute <= 0:
            return
        user_id = update.effective_user.id
        wait = limit.admit(user_id)
        if wait is None:
            return
        seconds = max(1, math.ceil(wait))
        if wait > 0:
            logger.info(
                "user %d sends more than %d %s a minute",
                user_id,
                limit.per_minute,
                "photos and files" if is_image else "other messages",
            )
        try:
            if query is not None:
                # Every tap is answered, or the client keeps spinning; the notice only once.
                await query.answer(
                    texts.rate_limited_tap(limit.per_minute, seconds) if wait else None
                )
            elif message is not None and wait > 0:
                await message.reply_text(texts.rate_limited(limit.per_minute, seconds, is_image))
        except TelegramError as exc:
            logger.warning("could not send the rate-limit notice: %s", exc)
        raise ApplicationHandlerStop
