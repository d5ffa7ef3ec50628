"""Settings from the environment and `.env`: validated at start-up, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, read_env_file
from tests.bot.bot_harness import ENV_NAMES, TOKEN, WEBHOOK_SECRET


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting leaks in from the machine, and no stray `.env` is read."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def settings(**values: str) -> Settings:
    return Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, **values}, env_file=None)


def test_one_set_of_defaults_with_nothing_set_the_class_defaults() -> None:
    assert settings() == Settings(token=TOKEN)


def test_embedded_settings_switch_off_what_only_a_served_bot_does() -> None:
    got = Settings.embedded(TOKEN, api_url="http://127.0.0.1:1", keep_crops=True)
    assert (got.heartbeat_file, got.data_dir, got.recognition_processes) == (None, None, 0)
    assert (got.api_url, got.keep_crops) == ("http://127.0.0.1:1", True)
    assert Settings.embedded(TOKEN, recognition_processes=2).recognition_processes == 2


def test_defaults_with_only_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    got = Settings.from_env()
    assert got.token == TOKEN
    assert got.api_url == "https://api.telegram.org"
    assert got.mode == "polling"
    assert got.log_level == "INFO"
    assert got.max_file_bytes == 10 * 2**20
    assert got.model_path is None
    assert got.recognition_processes == 1


@pytest.mark.parametrize("token", ["", "   "])
def test_missing_token_is_named(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN is not set"):
        Settings.from_env()


def test_unset_token_is_named() -> None:
    with pytest.raises(SettingsError, match=r"TELEGRAM_BOT_TOKEN.*@BotFather"):
        Settings.from_env({}, env_file=None)


@pytest.mark.parametrize("token", ["123456:short", "bot" + TOKEN, TOKEN.replace(":", ";")])
def test_malformed_token_is_refused_without_echoing_it(token: str) -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": token}, env_file=None)
    assert "TELEGRAM_BOT_TOKEN" in str(excinfo.value)
    assert token not in str(excinfo.value)


@pytest.mark.parametrize(
    "url", ["api.telegram.org", "ftp://api.telegram.org", "https://", "http://x?y=1"]
)
def test_bad_api_url(url: str) -> None:
    with pytest.raises(SettingsError, match="TELEGRAM_API_URL must be an http"):
        settings(TELEGRAM_API_URL=url)


@pytest.mark.parametrize(
    "url", [f"https://api.telegram.org/bot{TOKEN}", f"http://127.0.0.1:8081/bot{TOKEN}/"]
)
def test_api_url_with_the_token_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(SettingsError, match="without the bot token") as excinfo:
        settings(TELEGRAM_API_URL=url)
    assert TOKEN not in str(excinfo.value)


def test_api_url_of_a_local_server() -> None:
    assert settings(TELEGRAM_API_URL="http://127.0.0.1:8081/").api_url == "http://127.0.0.1:8081"


def test_webhook_without_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET is not set"):
        settings(WEBHOOK_URL="https://bot.example.org/telegram")


@pytest.mark.parametrize("secret", ["short", "has spaces in it, sadly", "x" * 257])
def test_weak_or_malformed_secret_is_refused(secret: str) -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET must be 16-256") as excinfo:
        settings(WEBHOOK_URL="https://bot.example.org/hook", WEBHOOK_SECRET=secret)
    assert secret not in str(excinfo.value)


def test_webhook_url_must_be_https() -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_URL must be an https"):
        settings(WEBHOOK_URL="http://bot.example.org/hook", WEBHOOK_SECRET=WEBHOOK_SECRET)


def test_webhook_mode() -> None:
    got = settings(
        WEBHOOK_URL="https://bot.example.org/telegram/hook",
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        WEBHOOK_PORT="8080",
        WEBHOOK_LISTEN="127.0.0.1",
    )
    assert got.mode == "webhook"
    assert got.webhook_path == "telegram/hook"
    assert (got.webhook_listen, got.webhook_port) == ("127.0.0.1", 8080)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WEBHOOK_PORT", "http", "WEBHOOK_PORT must be a whole number"),
        ("WEBHOOK_PORT", "70000", "WEBHOOK_PORT must be between 1 and 65535"),
        ("MAX_FILE_MB", "21", "MAX_FILE_MB must be between 1 and 20"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL must be one of"),
        ("MODEL_PATH", "/models/m.npz", "MODEL_SHA256 is not"),
        ("RECOGNITION_PROCESSES", "-1", "RECOGNITION_PROCESSES must be between 0 and 64"),
        ("RECOGNITION_PROCESSES", "many", "RECOGNITION_PROCESSES must be a whole number"),
    ],
)
def test_bad_values_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings(**{name: value})


def test_values_are_parsed() -> None:
    got = settings(
        LOG_LEVEL="debug",
        MAX_FILE_MB="5",
        MODEL_PATH="/m.npz",
        MODEL_SHA256="ab" * 32,
        RECOGNITION_PROCESSES="0",
    )
    assert got.recognition_processes == 0
    assert got.log_level == "DEBUG"
    assert got.max_file_bytes == 5 * 2**20
    assert got.model_path == Path("/m.npz")


def test_repr_hides_token_and_secret() -> None:
    got = settings(WEBHOOK_URL="https://bot.example.org/hook", WEBHOOK_SECRET=WEBHOOK_SECRET)
    for shown in (repr(got), str(got)):
        assert TOKEN not in shown
        assert WEBHOOK_SECRET not in shown
        assert "https://bot.example.org/hook" in shown


def test_env_file_is_parsed(tmp_path: Path) -> None:
    env = tmp_path / "custom.env"
    env.write_text(
        "\ufeff# digitbot settings\n"  # a byte-order mark, as some Windows editors write
        f"TELEGRAM_BOT_TOKEN={TOKEN}\n"
        "\n"
        "export LOG_LEVEL=warning   # inline comment\n"
        'TELEGRAM_API_URL = "http://127.0.0.1:8081"\n'
        "WEBHOOK_SECRET='quoted # not a comment'\n"
        "MAX_FILE_MB=7#8\n"
        "not a setting\n",
        encoding="utf-8",
    )
    assert read_env_file(env) == {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "LOG_LEVEL": "warning",
        "TELEGRAM_API_URL": "http://127.0.0.1:8081",
        "WEBHOOK_SECRET": "quoted # not a comment",
        "MAX_FILE_MB": "7#8",
    }
    assert read_env_file(tmp_path / "missing.env") == {}


def test_environment_wins_over_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nLOG_LEVEL=DEBUG\nMAX_FILE_MB=3\n")
    monkeypatch.setenv("LOG_LEVEL", "ERROR")

    got = Settings.from_env()  # reads ./.env, the working directory being tmp_path

    assert (got.token, got.log_level, got.max_file_bytes) == (TOKEN, "ERROR", 3 * 2**20)


def test_start_up_waits_and_command_limit() -> None:
    got = settings()
    assert (got.startup_retry_seconds, got.startup_retry_max_seconds) == (1.0, 60.0)
    assert got.command_rate_limit_per_minute == 60
    got = settings(
        STARTUP_RETRY_SECONDS="0.05",
        STARTUP_RETRY_MAX_SECONDS="5",
        COMMAND_RATE_LIMIT_PER_MINUTE="0",
    )
    assert (got.startup_retry_seconds, got.startup_retry_max_seconds) == (0.05, 5.0)
    assert got.command_rate_limit_per_minute == 0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("STARTUP_RETRY_SECONDS", "soon", "STARTUP_RETRY_SECONDS must be a number of seconds"),
        ("STARTUP_RETRY_SECONDS", "0", "STARTUP_RETRY_SECONDS must be between 0.01 and 600"),
        ("STARTUP_RETRY_MAX_SECONDS", "nan", "STARTUP_RETRY_MAX_SECONDS must be between"),
        ("COMMAND_RATE_LIMIT_PER_MINUTE", "-1", "COMMAND_RATE_LIMIT_PER_MINUTE must be between"),
    ],
)
def test_bad_start_up_and_limit_values_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings(**{name: value})


def test_commands_without_telegram_need_no_token(tmp_path: Path) -> None:
    got = Settings.from_env({"MODEL_PATH": "/m.npz", "MODEL_SHA256": "ab" * 32}, None, False)
    assert got.token == "" and got.model_path == Path("/m.npz")
    with pytest.raises(SettingsError, match="does not look like a bot token"):
        Settings.from_env({"TELEGRAM_BOT_TOKEN": "oops"}, None, need_token=False)
