"""Reaching the Bot API at start-up: wait while it cannot be reached, stop if it refuses the token.

A bot started while the network (or Telegram) is down waits, trying again with a growing pause,
and starts serving as soon as the Bot API answers; a token Telegram rejects will never work, so
that ends the start at once, with one line that names the setting to fix and never the token.

TelegramError (PTB)
├── InvalidToken     401 or 404 to getMe: the token (or TELEGRAM_API_URL) is wrong → TokenRejected
└── NetworkError     no connection, a timeout or a 5xx → wait and try again
RetryAfter           a 429 → the same
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, RetryAfter

from bot.logs import redact
from bot.settings import DEFAULT_API_URL

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TokenRejected(Exception):
    """The Bot API refused the bot's token; the message says what to check, without the token."""


def bot_id(token: str) -> str:
    """The public part of a token (the bot's numeric id), safe to show."""
    return token.partition(":")[0]


def token_rejected_message(token: str, api_url: str) -> str:
    """The one line said when the Bot API refuses the token."""
    if api_url == DEFAULT_API_URL:
        return (
            f"Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN (bot id {bot_id(token)}); "
            "@BotFather shows the bot's current token"
        )
    return (
        f"the Bot API at {api_url} rejected the bot token: check TELEGRAM_BOT_TOKEN "
        f"(bot id {bot_id(token)}) and that TELEGRAM_API_URL is the server's root URL"
    )


async def reach_bot_api(bot: Bot, api_url: str, first_wait: float, max_wait: float) -> None:
    """Initialize `bot` (its first getMe), trying again while the Bot API cannot be reached.

    The pause starts at `first_wait` seconds and doubles up to `max_wait`. Raises TokenRejected
    when the Bot API refuses the token; any other Telegram error propagates.
    """
    wait, attempt = min(first_wait, max_wait), 1
    while True:
        try:
            await bot.initialize()
        except InvalidToken:
            # PTB's own message quotes the whole token.
            raise TokenRejected(token_rejected_message(bot.token, api_url)) from None
        except (NetworkError, RetryAfter) as exc:  # TimedOut included
            cause = exc.__cause__
            reason = f"{type(cause).__name__}: {cause}" if cause else f"{type(exc).__name__}: {exc}"
        else:
            if attempt > 1:
                logger.info("the Bot API answers now (attempt %d)", attempt)
            return
        logger.warning(
            "cannot reach the Bot API at %s (attempt %d: %s); trying again in %.3g s",
            api_url,
            attempt,
            redact(reason, [bot.token]),
            wait,
        )
        await asyncio.sleep(wait)
        wait, attempt = min(2 * wait, max_wait), attempt + 1


def run_until_reached(
    loop: asyncio.AbstractEventLoop,
    bot: Bot,
    api_url: str,
    first_wait: float,
    max_wait: float,
) -> bool:
    """Run reach_bot_api on `loop`; False if SIGINT or SIGTERM stopped the waiting first.

    While it waits a stop signal cancels it at once; afterwards the signals' earlier handlers are
    back in place (run_polling and run_webhook then install their own graceful stop).
    """
    task = loop.create_task(reach_bot_api(bot, api_url, first_wait, max_wait))
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, task.cancel)
    try:
        loop.run_until_complete(task)
    except asyncio.CancelledError:
        logger.info("stopped while waiting for the Bot API")
        loop.run_until_complete(bot.shutdown())
        return False
    except BaseException:
        loop.run_until_complete(bot.shutdown())
        raise
    finally:
        for sig, handler in previous.items():
            loop.remove_signal_handler(sig)
            with contextlib.suppress(TypeError, ValueError):
                signal.signal(sig, handler)
    return True
