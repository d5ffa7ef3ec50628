"""Tokens and secrets never reach the logs: not in messages, URLs, tracebacks or stacks."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator

import httpx
import pytest

from bot import texts
from bot.logs import (
    NOISY_LOGGERS,
    REDACTED,
    RETRY_LOOP_LOGGER,
    OneLineErrors,
    TokenRedactingFilter,
    configure_logging,
)
from tests.bot.bot_harness import TOKEN, WEBHOOK_SECRET, BotHarness
from tests.digit_photos import PhotoMaker
from tests.fakebotapi import FakeBotAPI

FORMAT = logging.Formatter("%(levelname)s %(name)s: %(message)s")


def record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("test", logging.INFO, __file__, 1, msg, args, exc_info)


def shown(rec: logging.LogRecord, redacting: TokenRedactingFilter | None = None) -> str:
    assert (redacting or TokenRedactingFilter()).filter(rec) is True
    return FORMAT.format(rec)


def raised(exc: Exception) -> Exception:
    try:
        raise exc
    except Exception as caught:
        return caught


def test_httpx_request_line_is_redacted() -> None:
    url = httpx.URL(f"http://127.0.0.1:8081/bot{TOKEN}/sendPhoto")
    text = shown(record('HTTP Request: %s %s "%s %d %s"', "POST", url, "HTTP/1.1", 200, "OK"))
    assert TOKEN not in text
    assert f"/bot{REDACTED}/sendPhoto" in text


def test_percent_encoded_token_in_a_download_url_is_redacted() -> None:
    url = f"http://127.0.0.1:8081/file/bot{TOKEN.replace(':', '%3A')}/photos/file_1.jpg"
    text = shown(record("HTTP Request: GET %s", url))
    assert TOKEN.split(":")[1] not in text
    assert f"/file/bot{REDACTED}/photos" in text


def test_configured_secrets_are_redacted_even_when_not_token_shaped() -> None:
    short_token = "123456:ABCdef-ghi_jkl"  # too short for the token pattern
    redacting = TokenRedactingFilter([short_token, WEBHOOK_SECRET, None])
    text = shown(
        record("setWebhook %s with %s", {"secret_token": WEBHOOK_SECRET}, short_token), redacting
    )
    assert WEBHOOK_SECRET not in text and short_token not in text
    assert text.count(REDACTED) == 2


def test_traceback_is_redacted_and_kept() -> None:
    exc = raised(RuntimeError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getMe"))
    rec = record("call failed", exc=exc)
    text = shown(rec)
    assert TOKEN not in text
    assert "Traceback (most recent call last)" in text
    assert f"RuntimeError: cannot reach https://api.telegram.org/bot{REDACTED}/getMe" in text
    assert rec.exc_info is not None  # other handlers (and pytest) still see the exception


def test_chained_exception_is_redacted() -> None:
    try:
        try:
            raise ValueError(TOKEN)
        except ValueError as inner:
            raise RuntimeError("outer") from inner
    except RuntimeError as outer:
        text = shown(record("failed", exc=outer))
    assert TOKEN not in text and "ValueError" in text and "RuntimeError: outer" in text


def test_percent_signs_in_a_traceback_do_not_break_the_message() -> None:
    # Tracebacks quote source lines, and log calls in them are full of %s.
    exc = raised(ValueError("100% sure, %s and %d"))
    text = shown(record("reading %s failed for user %d", "photo", 42, exc=exc))
    assert text.startswith("INFO test: reading photo failed for user 42\nTraceback")
    assert text.endswith("ValueError: 100% sure, %s and %d")


def test_stack_info_is_redacted() -> None:
    rec = record("here")
    rec.stack_info = f'Stack (most recent call last):\n  File "x.py", line 1, in <module>\n{TOKEN}'
    assert TOKEN not in shown(rec)


def test_a_malformed_logging_call_is_left_to_the_handler() -> None:
    rec = record("%d apples", "many")
    assert TokenRedactingFilter().filter(rec) is True  # does not raise into the caller


@contextlib.contextmanager
def bare_root() -> Iterator[logging.Logger]:
    """The root logger without handlers (pytest adds its own around each test), restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    retry_loop = logging.getLogger(RETRY_LOOP_LOGGER)
    saved_filters = retry_loop.filters[:]
    root.handlers = []
    try:
        yield root
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers, root.level = saved_handlers, saved_level
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
        retry_loop.filters = saved_filters


def test_configure_logging_installs_the_filter_on_root_handlers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with bare_root() as root:
        configure_logging("DEBUG", secrets=[TOKEN, WEBHOOK_SECRET])
        configure_logging("DEBUG", secrets=[TOKEN, WEBHOOK_SECRET])  # again: still one filter

        [handler] = root.handlers
        assert [type(f) for f in handler.filters] == [TokenRedactingFilter]
        assert root.level == logging.DEBUG
        assert logging.getLogger("httpx").level == logging.WARNING
        try:
            raise RuntimeError(f"secret {WEBHOOK_SECRET} in a traceback")
        except RuntimeError:
            logging.getLogger("telegram.ext.Application").exception(
                "Set Bot API URL: https://x/bot%s", TOKEN
            )
        logging.getLogger("httpx").warning("GET https://x/bot%s/getMe", TOKEN)

    err = capsys.readouterr().err
    assert err.count(REDACTED) == 3
    assert TOKEN not in err and WEBHOOK_SECRET not in err
    assert "Traceback" in err


def test_ptbs_retry_loop_says_why_it_gave_up_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with bare_root():
        configure_logging("DEBUG", secrets=[TOKEN])
        configure_logging("DEBUG", secrets=[TOKEN])  # again: still one filter
        loop = logging.getLogger(RETRY_LOOP_LOGGER)
        assert [type(f) for f in loop.filters].count(OneLineErrors) == 1
        try:
            raise RuntimeError(f"Bad webhook for https://x/bot{TOKEN}")
        except RuntimeError:
            loop.exception("Network Retry Loop (%s): Aborting.", "Bootstrap Set Webhook")

    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith(
        f"Network Retry Loop (Bootstrap Set Webhook): Aborting. "
        f"(RuntimeError: Bad webhook for https://x/bot{REDACTED})"
    )


@pytest.fixture
def redacted_log(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Everything every logger says at DEBUG, through the redacting filter as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(FORMAT)
    handler.addFilter(TokenRedactingFilter([TOKEN, WEBHOOK_SECRET]))
    for name in (None, "httpx", "httpcore", "telegram"):
        caplog.set_level(logging.DEBUG, logger=name)
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)


async def test_a_whole_conversation_logs_no_token(
    redacted_log: io.StringIO,
    bot: BotHarness,
    fake_api: FakeBotAPI,
    photo: PhotoMaker,
) -> None:
    fake_api.fail_next("getFile", status=400, description="Bad Request: file is temporarily gone")
    failed = bot.photo(photo([5]))
    updates = [bot.text("/start"), bot.photo(photo([7])), bot.document(photo([1]), "one.jpg")]
    assert (await bot.answer(failed)).params["text"] == texts.DOWNLOAD_FAILED
    for update in updates:
        await bot.answer(update)

    # httpx logs a request once its response arrived, a moment after the fake recorded it.
    await fake_api.await_for(lambda _calls: f"/bot{REDACTED}/sendPhoto" in redacted_log.getvalue())
    logged = redacted_log.getvalue()
    assert TOKEN not in logged
    assert TOKEN.replace(":", "%3A") not in logged
    # The lines that carried the token were there, redacted: API calls and file downloads.
    assert f"/bot{REDACTED}/sendPhoto" in logged
    assert f"/file/bot{REDACTED}/" in logged
    assert "could not download a file" in logged
