"""Logging set-up: configured once, with bot tokens and other secrets redacted from every record."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# A bot token is "<bot id>:<secret>" (the same shape Settings accepts). httpx logs it inside each
# request URL, and in file-download URLs the colon arrives percent-encoded as %3A.
TOKEN_PATTERN = re.compile(r"\d{3,}(?::|%3[Aa])[A-Za-z0-9_-]{20,}")
REDACTED = "<redacted>"
NOISY_LOGGERS = ("httpx", "httpcore")
# PTB's network retry loop logs here (PTB names the loggers of its helper modules after the
# package). When it gives up at start-up it logs the whole traceback of a Bot API answer, while
# the bot says what went wrong in one line (bot/app.py); its own line is enough without one.
RETRY_LOOP_LOGGER = "telegram.ext"


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Return `text` with every bot token and each of `secrets` replaced."""
    return TokenRedactingFilter(secrets).redact(text)


class TokenRedactingFilter(logging.Filter):
    """Replace bot tokens and the given secrets in a record's message, traceback and stack.

    Meant for handlers: a handler's filters see the records of every logger below it.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """Return `text` with every token and secret replaced."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_PATTERN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A malformed logging call: leave it to the handler, which reports it without
            # crashing the caller (a filter's exception would propagate into the logging call).
            return True
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            # Formatters use a record's cached exc_text rather than formatting exc_info again.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class OneLineErrors(logging.Filter):
    """Fold a record's exception into its message: one line instead of a traceback.

    Meant for a logger whose exceptions are expected conditions (a network failure, a refusal
    by the Bot API), not bugs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            try:
                message = record.getMessage()
            except Exception:
                return True  # a malformed logging call: left to the handler
            record.msg, record.args = f"{message} ({type(exc).__name__}: {exc})", None
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(level: str, secrets: Iterable[str | None] = ()) -> None:
    """Log to stderr at `level`, keep httpx quiet, and redact tokens and `secrets` everywhere."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    # Their INFO lines carry the token in each request URL; even redacted they are only noise.
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    retry_loop = logging.getLogger(RETRY_LOOP_LOGGER)
    retry_loop.filters = [f for f in retry_loop.filters if not isinstance(f, OneLineErrors)]
    retry_loop.addFilter(OneLineErrors())
    redacting = TokenRedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, TokenRedactingFilter)]
        handler.addFilter(redacting)
