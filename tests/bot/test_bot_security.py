"""Security end to end: no token in any log line, no user image on disk, no unverified pickle.

Also tested elsewhere: webhook mode refuses to start without a secret
(test_bot_settings.py::test_webhook_without_secret_is_refused) and refuses requests without it
(test_bot_webhook.py::test_update_without_the_secret_is_refused); the pixel limit, the size limit
before download and the download timeout (test_bot_bad_inputs.py); the model's hash against an
altered file (tests/model/test_store.py::test_altered_file_is_refused).
"""

from __future__ import annotations

import io
import logging
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import NOISY_LOGGERS, REDACTED, configure_logging
from bot.settings import Settings
from model.errors import ModelError
from model.store import load_stored_model
from tests.bot.bot_harness import TOKEN, BotHarness
from tests.digit_photos import PhotoMaker
from tests.fakebotapi import DOWNLOAD, FakeBotAPI


@pytest.fixture
def production_logging() -> Iterator[io.StringIO]:
    """Logging as `digitbot serve` sets it up, at DEBUG, with httpx and httpcore at DEBUG too.

    Yields what the handler wrote. The handler writes to a buffer of this fixture's own, not to
    capsys: pytest closes capsys's stream at the end of each test phase, and the fake server's
    and the bot's threads still log after that, into a closed file.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    root.handlers = []
    configure_logging("DEBUG", secrets=[TOKEN])
    written = io.StringIO()
    (handler,) = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(written)
    for name in NOISY_LOGGERS:  # quieted in production; here they say all they would
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield written
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers, root.level = saved_handlers, saved_level
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)


class TestLogs:
    @pytest.fixture
    def settings(self, production_logging: io.StringIO, fake_api: FakeBotAPI) -> Settings:
        """Logging is set up before the bot is built, so its start-up is in the log too."""
        return Settings.embedded(token=TOKEN, api_url=fake_api.url)

    @pytest.mark.slow  # a bot end to end at every log level
    async def test_no_log_line_at_any_level_holds_the_token(
        self,
        bot: BotHarness,
        fake_api: FakeBotAPI,
        photo: PhotoMaker,
        production_logging: io.StringIO,
    ) -> None:
        # Faults make every kind of line appear: retries, tracebacks, the error handler's.
        await fake_api.await_for(lambda _calls: fake_api.waiting_polls == 1)
        fake_api.drop_next("getUpdates")
        fake_api.fail_next("getFile", 500)
        fake_api.fail_next(DOWNLOAD, 404)
        fake_api.fail_next("sendPhoto", 429, retry_after=1)
        updates = [bot.photo(photo([4])), bot.photo(photo([5])), bot.text("/start")]
        for update in updates:
            await bot.answer(update, timeout=15)
        await fake_api.await_for(lambda _calls: fake_api.waiting_polls == 1)

        logged = production_logging.getvalue()
        assert TOKEN not in logged
        assert TOKEN.replace(":", "%3A") not in logged and TOKEN.split(":")[1] not in logged
        # The lines that carried the token were logged, redacted.
        for line in (f"/bot{REDACTED}/getUpdates", f"/file/bot{REDACTED}/", "Traceback"):
            assert line in logged, line
        assert "getFile failed: HTTP 500; trying again" in logged


async def test_no_image_is_written_to_disk(
    bot: BotHarness,
    fake_api: FakeBotAPI,
    photo: PhotoMaker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workdir, tempdir = tmp_path / "cwd", tmp_path / "tmp"
    workdir.mkdir()
    tempdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(tempfile, "tempdir", str(tempdir))
    await bot.answer(bot.photo(photo([2])))
    await bot.answer(bot.document(photo([3], fmt="PNG"), "three.png"))

    fetched = [
        fake_api.get_stored_file(call.params["file_id"]).data
        for call in fake_api.calls_for("getFile")
    ]
    assert len(fetched) == 2 and len(fake_api.downloads) == 2
    assert files_holding(tmp_path, fetched) == []


def files_holding(folder: Path, blobs: list[bytes]) -> list[Path]:
    """The files under `folder` that contain any of `blobs`."""
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and any(blob in path.read_bytes() for blob in blobs)
    ]


class Booby:
    """Unpickling this creates a file: a stand-in for code a tampered model file would run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_a_model_file_with_the_wrong_hash_is_never_unpickled(tmp_path: Path) -> None:
    marker, model = tmp_path / "ran", tmp_path / "model.joblib"
    model.write_bytes(pickle.dumps(Booby(marker)))

    with pytest.raises(ModelError, match="refusing it"):
        load_stored_model(model, "0" * 64)
    assert not marker.exists()
