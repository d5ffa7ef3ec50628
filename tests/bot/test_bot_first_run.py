"""A new user's first run of `digitbot serve`: a wrong token, no network, a failing Bot API, .env.

Each case runs the real command as a process and reads everything it printed, at INFO and at
DEBUG: never the token or the webhook secret, never a traceback, and the one line that says
what is wrong.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot import app, texts
from bot.exits import EXIT_CONFIG
from bot.startup import token_rejected_message
from tests.bot.bot_harness import ENV_NAMES, TOKEN, WEBHOOK_SECRET
from tests.bot.test_bot_logs import bare_root
from tests.bot.test_bot_serve import PUBLIC_URL, free_port
from tests.fakebotapi import BotAPIError, Call, FakeBotAPI

pytestmark = pytest.mark.slow  # runs `digitbot serve` as a subprocess


BOT_ID = TOKEN.split(":")[0]


def base_env(api_url: str, tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    return env | {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
        "PTB_TIMEDELTA": "true",
        "HEARTBEAT_FILE": str(tmp_path / "heartbeat"),
        "HEARTBEAT_INTERVAL": "1",
        "DATA_DIR": str(tmp_path / "data"),
        "RECOGNITION_PROCESSES": "0",
        # Short pauses between tries, so a test waits fractions of a second, not minutes.
        "STARTUP_RETRY_SECONDS": "0.05",
        "STARTUP_RETRY_MAX_SECONDS": "0.2",
        **values,
    }


class Served:
    """`digitbot` running as a process in tmp_path, its output in a file."""

    def __init__(self, env: dict[str, str], cwd: Path, *args: str) -> None:
        self.log = cwd / "output.log"
        self.env, self.cwd = env, cwd
        with self.log.open("wb") as out:
            # tmp_path as the working directory: only a .env the test wrote there is read.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", *args],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.output):
            assert self.process.poll() is None, f"exited {self.process.returncode}:\n{self.output}"
            assert time.monotonic() < deadline, f"timed out; output:\n{self.output}"
            time.sleep(0.05)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def healthcheck(self) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "healthcheck"],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return done.returncode, done.stdout + done.stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(env: dict[str, str], *args: str) -> Served:
        started.append(Served(env, tmp_path, *args))
        return started[-1]

    yield start
    for one in started:
        if one.process.poll() is None:
            one.process.kill()
            one.process.wait()


def assert_clean(output: str) -> None:
    """Nothing secret and no traceback in what the bot printed."""
    secret_part = TOKEN.split(":")[1]
    assert secret_part not in output
    assert secret_part[:12] not in output  # not even the start of it
    assert WEBHOOK_SECRET not in output
    assert "Traceback" not in output
    assert 'File "' not in output


def attempts(output: str) -> list[str]:
    return [line for line in output.splitlines() if "cannot reach the Bot API" in line]


def reject_every_token(call: Call) -> None:
    raise BotAPIError(401, "Unauthorized")


@pytest.mark.parametrize(
    ("mode", "level"), [("polling", "INFO"), ("polling", "DEBUG"), ("webhook", "DEBUG")]
)
def test_a_wrong_token_ends_in_one_line_and_exit_78(
    fake_api: FakeBotAPI,
    served: Callable[..., Served],
    tmp_path: Path,
    level: str,
    mode: str,
) -> None:
    fake_api.set_handler("getMe", reject_every_token)
    env = base_env(fake_api.url, tmp_path, LOG_LEVEL=level)
    if mode == "webhook":
        env |= {
            "WEBHOOK_URL": PUBLIC_URL,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(free_port()),
        }
    bot = served(env, "serve")

    code = bot.process.wait(timeout=30)

    output = bot.output
    assert code == EXIT_CONFIG == 78, output
    assert_clean(output)
    expected = "digitbot: " + token_rejected_message(TOKEN, fake_api.url)
    assert output.splitlines()[-1] == expected
    assert f"(bot id {BOT_ID})" in expected and "TELEGRAM_BOT_TOKEN" in expected
    if level == "INFO":
        assert output == expected + "\n"  # the one line, nothing else
    assert [c.method for c in fake_api.calls] == ["getMe"]  # tried once: it will not get better


def test_the_message_for_telegram_itself_names_botfather() -> None:
    message = token_rejected_message(TOKEN, "https://api.telegram.org")
    assert message.startswith("Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN")
    assert f"bot id {BOT_ID}" in message and "@BotFather" in message
    assert TOKEN.split(":")[1] not in message


def test_no_listener_it_waits_unhealthy_then_serves_once_the_api_answers(
    served: Callable[..., Served], tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there yet
    heartbeat = tmp_path / "heartbeat"
    heartbeat.touch()  # left fresh by an earlier run: must not vouch for this one
    bot = served(base_env(f"http://127.0.0.1:{port}", tmp_path, LOG_LEVEL="DEBUG"), "serve")

    bot.wait_for(lambda out: len(attempts(out)) >= 4)
    code, health = bot.healthcheck()
    assert code == 1 and health.startswith("unhealthy: no heartbeat"), health
    lines = attempts(bot.output)
    assert "attempt 1: ConnectError" in lines[0]
    assert "trying again in 0.05 s" in lines[0] and "trying again in 0.1 s" in lines[1]
    assert all("trying again in 0.2 s" in line for line in lines[3:])  # the cap

    with FakeBotAPI(port=port) as api:
        api.wait_for_calls("getUpdates", timeout=30)
        api.send_text("/start")
        [reply] = api.wait_for_calls("sendMessage", timeout=10)
        assert reply.params["text"] == texts.START
        bot.wait_for(lambda _out: heartbeat.exists())
        assert bot.healthcheck()[0] == 0
        assert bot.stop() == 0
    output = bot.output
    assert_clean(output)
    assert "the Bot API answers now" in output and "is ready" in output


def test_a_failing_bot_api_at_start_up_is_waited_out(
    fake_api: FakeBotAPI, served: Callable[..., Served], tmp_path: Path
) -> None:
    status = 502
    fake_api.fail_next("getMe", status, count=3)
    bot = served(base_env(fake_api.url, tmp_path, LOG_LEVEL="DEBUG"), "serve")

    fake_api.wait_for_calls("getUpdates", timeout=30)
    assert bot.stop() == 0
    output = bot.output
    assert_clean(output)
    assert [line.split("(attempt ")[1][:1] for line in attempts(output)] == ["1", "2", "3"]
    assert [c.status for c in fake_api.calls_for("getMe")][:4] == [status] * 3 + [200]


def test_sigterm_while_waiting_stops_at_once(served: Callable[..., Served], tmp_path: Path) -> None:
    env = base_env(
        f"http://127.0.0.1:{free_port()}",
        tmp_path,
        LOG_LEVEL="DEBUG",
        STARTUP_RETRY_SECONDS="30",  # the bot is in the middle of a long pause when stopped
    )
    bot = served(env, "serve")
    bot.wait_for(lambda out: len(attempts(out)) >= 1)

    started = time.monotonic()
    code = bot.stop()

    assert code == 0, bot.output
    assert time.monotonic() - started < 3
    assert_clean(bot.output)
    assert "stopped while waiting for the Bot API" in bot.output


@pytest.mark.parametrize("args", [(), ("serve",)])
def test_a_token_in_dot_env_serves(
    fake_api: FakeBotAPI, served: Callable[..., Served], tmp_path: Path, args: tuple[str, ...]
) -> None:
    env = base_env(fake_api.url, tmp_path, LOG_LEVEL="DEBUG")
    del env["TELEGRAM_BOT_TOKEN"]
    (tmp_path / ".env").write_text(f"# from @BotFather\nTELEGRAM_BOT_TOKEN={TOKEN}\n")
    bot = served(env, *args)

    fake_api.wait_for_calls("getUpdates", timeout=30)
    assert fake_api.token == TOKEN
    assert bot.stop() == 0
    assert_clean(bot.output)
    assert "offline demo" not in bot.output


def test_a_refused_webhook_ends_in_one_line_without_the_secret(
    fake_api: FakeBotAPI, served: Callable[..., Served], tmp_path: Path
) -> None:
    fake_api.fail_next(
        "setWebhook", 400, description="Bad Request: bad webhook: Failed to resolve host"
    )
    env = base_env(
        fake_api.url,
        tmp_path,
        LOG_LEVEL="DEBUG",
        WEBHOOK_URL=PUBLIC_URL,
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(free_port()),
    )
    bot = served(env, "serve")

    code = bot.process.wait(timeout=60)

    output = bot.output
    assert code == EXIT_CONFIG, output
    assert_clean(output)
    # PTB drops Telegram's "Bad Request: " and capitalizes the rest.
    assert output.splitlines()[-1] == (
        "digitbot: the Bot API refused the webhook (Bad webhook: failed to resolve host): "
        "check WEBHOOK_URL"
    )
    # PTB says it gave up in one line too, its traceback folded into it.
    assert any("Aborting. (BadRequest: Bad webhook" in line for line in output.splitlines())


def test_a_taken_webhook_port_ends_in_one_line(
    fake_api: FakeBotAPI, served: Callable[..., Served], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = base_env(
            fake_api.url,
            tmp_path,
            LOG_LEVEL="DEBUG",
            WEBHOOK_URL=PUBLIC_URL,
            WEBHOOK_SECRET=WEBHOOK_SECRET,
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
        )
        bot = served(env, "serve")
        code = bot.process.wait(timeout=60)

    output = bot.output
    assert code == 2, output
    assert_clean(output)
    assert output.splitlines()[-1].startswith(f"digitbot: cannot listen on 127.0.0.1:{port} (")
    assert "check WEBHOOK_LISTEN and WEBHOOK_PORT" in output


def test_a_crash_is_logged_through_the_filter(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def crash(*args: object) -> int:
        raise RuntimeError(f"a bug near https://api.telegram.org/bot{TOKEN}/getMe")

    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setattr(app, "_serve", crash)
    with bare_root():
        assert app.serve() == 1

    err = capsys.readouterr().err
    assert "CRITICAL bot.app: digitbot serve crashed" in err
    assert "Traceback" in err  # a bug keeps its traceback…
    assert TOKEN.split(":")[1] not in err  # …without the token
