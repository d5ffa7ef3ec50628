"""`digitbot serve` as a process: configured from the environment, answering, stopping cleanly.

The only tests of what production runs: Settings.from_env, configure_logging, run_polling and
run_webhook with their arguments, and the exit on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import pytest

from bot import texts
from bot.logs import REDACTED
from tests.bot.bot_harness import ENV_NAMES, TOKEN, WEBHOOK_SECRET
from tests.fakebotapi import FakeBotAPI

pytestmark = pytest.mark.slow  # runs `digitbot serve` as a subprocess

PUBLIC_URL = "https://bot.example.invalid/tg/hook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post_when_listening(api: FakeBotAPI, url: str, update: dict[str, object]) -> int:
    """Post the update once the bot's web server is up (it starts after setWebhook)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return api.post_update_to_webhook_sync(url, update, WEBHOOK_SECRET)
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
def test_serve_answers_and_stops_on_ctrl_c(fake_api: FakeBotAPI, tmp_path: Path, mode: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env |= {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": fake_api.url,
        "LOG_LEVEL": "DEBUG",
        "PTB_TIMEDELTA": "true",
        "HEARTBEAT_FILE": str(tmp_path / "heartbeat"),  # not the shared default in /tmp
    }
    port = free_port()
    if mode == "webhook":
        env |= {
            "WEBHOOK_URL": PUBLIC_URL,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
        }
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        # tmp_path as the working directory: no stray .env is read.
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"], cwd=tmp_path, env=env, stderr=stderr
        )
    try:
        if mode == "polling":
            [poll, *_] = fake_api.wait_for_calls("getUpdates", timeout=30)
            assert poll.params["allowed_updates"] == ["message", "callback_query"]
            fake_api.send_text("/start")
        else:
            fake_api.wait_for_calls("setWebhook", timeout=30)
            assert fake_api.webhook["allowed_updates"] == ["message", "callback_query"]
            update = fake_api.send_text("/start")
            assert post_when_listening(fake_api, f"http://127.0.0.1:{port}/tg/hook", update) == 200
        [reply] = fake_api.wait_for_calls("sendMessage", timeout=10)
        assert reply.params["text"] == texts.START
        assert fake_api.commands()  # post_init ran
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=20)

    output = log.read_text()
    assert code == 0, output
    assert "is ready" in output
    assert TOKEN not in output and TOKEN.replace(":", "%3A") not in output
    assert WEBHOOK_SECRET not in output
    assert f"bot{REDACTED}" in output  # PTB's DEBUG line with the API URL was there, redacted


def test_serve_refuses_bad_settings_without_showing_the_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env |= {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": f"https://api.telegram.org/bot{TOKEN}"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "TELEGRAM_API_URL" in done.stderr
    assert TOKEN not in done.stderr + done.stdout
