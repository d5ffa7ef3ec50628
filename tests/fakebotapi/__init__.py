"""A fake Telegram Bot API server for end-to-end tests of digitbot.

The server speaks enough of https://core.telegram.org/bots/api over real HTTP that an unmodified
python-telegram-bot ``Bot``/``Application`` can be pointed at it::

    with FakeBotAPI() as api:
        app = (
            Application.builder()
            .token("123:abc")
            .base_url(f"{api.url}/bot")
            .base_file_url(f"{api.url}/file/bot")
            .build()
        )

It runs a stdlib ``ThreadingHTTPServer`` in background threads, so it never depends on the
event loop of the test that uses it, and a pending ``getUpdates`` long-poll cannot stall the
test's loop (or :meth:`FakeBotAPI.stop`).

Tests talk to it through a thread-safe API: update builders (:meth:`FakeBotAPI.send_text`,
:meth:`FakeBotAPI.send_photo`, ...) enqueue updates for the bot to fetch, every Bot API request
is recorded as a :class:`Call`, and the ``wait_for*``/``await_*`` helpers block until the bot
has made the expected calls. :meth:`FakeBotAPI.fail_next`, :meth:`FakeBotAPI.delay_next` and
:meth:`FakeBotAPI.drop_next` inject Telegram-style errors, slow responses and dropped connections,
for Bot API methods and (as the method :data:`DOWNLOAD`) for file downloads.

The package: ``server`` (the FakeBotAPI and its request handling), ``state`` (recorded calls and
stored files), ``updates`` (what tests send; getUpdates and the webhook), ``methods`` (the other
Bot API methods), ``faults`` (injected errors, delays and dropped connections), ``wire`` (HTTP
and body parsing), ``photos`` (Telegram's photo sizes, which the benchmarks use too) and
``protocol`` (limits, calls, errors). Tests import it as ``fakebotapi`` (pytest puts ``tests/``
on the path); the benchmarks, run from the repository's root, as ``tests.fakebotapi``.
"""

from .photos import TELEGRAM_SIDES, resized_jpeg, telegram_sizes
from .protocol import DEFAULT_CHAT_ID, DEFAULT_USER_ID, DOWNLOAD, BotAPIError, Call, StoredFile
from .server import FakeBotAPI

__all__ = [
    "DEFAULT_CHAT_ID",
    "DEFAULT_USER_ID",
    "DOWNLOAD",
    "TELEGRAM_SIDES",
    "BotAPIError",
    "Call",
    "FakeBotAPI",
    "StoredFile",
    "resized_jpeg",
    "telegram_sizes",
]
