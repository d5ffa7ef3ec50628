"""The bot's settings: read once from the environment and an optional `.env` file, validated."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from bot.logs import TOKEN_PATTERN

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TOKEN_SHAPE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
# Telegram allows 1-256 characters; a short secret could be guessed by anyone who finds the URL.
SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
SECRET_RULE = (
    "16-256 characters A-Z, a-z, 0-9, _ and -; make one with: "
    'python -c "import secrets; print(secrets.token_urlsafe(32))"'
)
USER_ID_SHAPE = re.compile(r"^[0-9]{1,20}$")
# Telegram lets bots download files up to 20 MB; a bigger one cannot even be fetched.
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
# Telegram's own Bot API server; TELEGRAM_API_URL names another (a self-hosted one).
DEFAULT_API_URL = "https://api.telegram.org"
# The bot's liveness signal for `digitbot healthcheck` (see bot/heartbeat.py).
DEFAULT_HEARTBEAT_FILE = Path(tempfile.gettempdir()) / "digitbot.heartbeat"
# Where corrections are kept in a SQLite file unless DATABASE_URL names a PostgreSQL server.
DEFAULT_DATA_DIR = Path("data")
DATABASE_SCHEMES = ("postgresql", "postgres", "sqlite")
# One process reads photos while the bot's own talks to Telegram: on 2 cores that is the best
# split (`python -m bench.load --processes N`).
DEFAULT_RECOGNITION_PROCESSES = 1


class SettingsError(ValueError):
    """A setting is missing or has a bad value; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot is configured with. The token and secret never appear in repr().

    The field defaults are the one set of defaults: what `digitbot serve` runs with when nothing
    is set (`from_env` falls back to them).
    """

    token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    log_level: str = "INFO"
    model_path: Path | None = None
    model_sha256: str | None = None
    max_file_bytes: int = 10 * 1024 * 1024
    # None: no heartbeat (Settings.embedded).
    heartbeat_file: Path | None = DEFAULT_HEARTBEAT_FILE
    heartbeat_interval: int = 15
    # Abuse and faults (see docs/behaviour.md): 0 turns a limit off; empty allows everyone.
    rate_limit_per_minute: int = 20  # photos and image files: the expensive work
    command_rate_limit_per_minute: int = 60  # commands, texts and button taps
    allowed_user_ids: frozenset[int] = frozenset()
    send_rate_per_second: int = 30
    api_retry_seconds: float = 60.0
    # Start-up while the Bot API cannot be reached: the first pause between tries, doubling up
    # to the longest (bot/startup.py).
    startup_retry_seconds: float = 1.0
    startup_retry_max_seconds: float = 60.0
    download_timeout: float = 30.0
    # Corrections (bot/feedback): PostgreSQL at database_url, else SQLite in data_dir; both None
    # switch them off (Settings.embedded).
    data_dir: Path | None = DEFAULT_DATA_DIR
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    keep_crops: bool = False
    # Worker processes reading photos (bot/workers.py); 0 reads them in threads of the bot's
    # process (Settings.embedded).
    recognition_processes: int = DEFAULT_RECOGNITION_PROCESSES

    @classmethod
    def embedded(cls, token: str, **changes: Any) -> Settings:
        """Settings for an Application built in code (tests, benchmarks) rather than served.

        No heartbeat, no corrections database, photos read in threads of the process; any
        field can still be given.
        """
        off: dict[str, Any] = {"heartbeat_file": None, "data_dir": None, "recognition_processes": 0}
        return cls(token=token, **(off | changes))

    @property
    def heartbeat_max_age(self) -> float:
        """How old the heartbeat may grow before the bot counts as unhealthy (two missed beats)."""
        return 3.0 * self.heartbeat_interval

    @property
    def webhook_path(self) -> str:
        """The path part of the webhook URL, where the bot listens."""
        return urlsplit(self.webhook_url or "").path.lstrip("/")

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: Path | None = Path(".env"),
        need_token: bool = True,
    ) -> Settings:
        """Build settings from `environ` (default: os.environ) over the values in `env_file`.

        This is the only place the environment is read. Commands that do not talk to Telegram
        pass `need_token=False`: without a token, `token` is then "".
        """
        values = dict(read_env_file(env_file)) if env_file is not None else {}
        values.update(os.environ if environ is None else environ)
        return cls._from_values(values, need_token)

    @classmethod
    def _from_values(cls, values: Mapping[str, str], need_token: bool = True) -> Settings:
        def get(name: str) -> str | None:
            value = values.get(name, "").strip()
            return value or None

        token = get("TELEGRAM_BOT_TOKEN")
        if token is None and need_token:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put it in .env"
            )
        if token is not None and not TOKEN_SHAPE.match(token):
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then letters)"
            )
        api_url = (get("TELEGRAM_API_URL") or cls.api_url).rstrip("/")
        if TOKEN_PATTERN.search(api_url):
            # Said without echoing the value: it holds the token.
            raise SettingsError(
                "TELEGRAM_API_URL must be the server's root URL, like https://api.telegram.org, "
                "without the bot token (that goes in TELEGRAM_BOT_TOKEN)"
            )
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise SettingsError(
                f"TELEGRAM_API_URL must be an http(s) URL like https://api.telegram.org, "
                f"not {api_url!r}"
            )
        webhook_url = get("WEBHOOK_URL")
        mode: Literal["polling", "webhook"] = "webhook" if webhook_url else "polling"
        secret = get("WEBHOOK_SECRET")
        if webhook_url:
            if urlsplit(webhook_url).scheme != "https":
                raise SettingsError("WEBHOOK_URL must be an https:// URL (Telegram requires it)")
            if secret is None:
                raise SettingsError(
                    "WEBHOOK_SECRET is not set: webhook mode needs a secret that Telegram echoes "
                    f"({SECRET_RULE})"
                )
        if secret is not None and not SECRET_SHAPE.match(secret):
            raise SettingsError(f"WEBHOOK_SECRET must be {SECRET_RULE}")
        log_level = (get("LOG_LEVEL") or cls.log_level).upper()
        if log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        model_path = get("MODEL_PATH")
        model_sha256 = get("MODEL_SHA256")
        if model_path and not model_sha256:
            raise SettingsError("MODEL_PATH is set but MODEL_SHA256 is not: give the model's hash")
        return cls(
            token=token or "",
            api_url=api_url,
            mode=mode,
            webhook_url=webhook_url,
            webhook_listen=get("WEBHOOK_LISTEN") or cls.webhook_listen,
            webhook_port=_int(get("WEBHOOK_PORT"), "WEBHOOK_PORT", cls.webhook_port, 1, 65535),
            webhook_secret=secret,
            log_level=log_level,
            model_path=Path(model_path) if model_path else None,
            model_sha256=model_sha256,
            max_file_bytes=_int(
                get("MAX_FILE_MB"),
                "MAX_FILE_MB",
                cls.max_file_bytes // 2**20,
                1,
                TELEGRAM_DOWNLOAD_LIMIT // 2**20,
            )
            * 2**20,
            heartbeat_file=_path(get("HEARTBEAT_FILE"), cls.heartbeat_file),
            heartbeat_interval=_int(
                get("HEARTBEAT_INTERVAL"), "HEARTBEAT_INTERVAL", cls.heartbeat_interval, 1, 600
            ),
            rate_limit_per_minute=_int(
                get("RATE_LIMIT_PER_MINUTE"),
                "RATE_LIMIT_PER_MINUTE",
                cls.rate_limit_per_minute,
                0,
                10_000,
            ),
            command_rate_limit_per_minute=_int(
                get("COMMAND_RATE_LIMIT_PER_MINUTE"),
                "COMMAND_RATE_LIMIT_PER_MINUTE",
                cls.command_rate_limit_per_minute,
                0,
                10_000,
            ),
            allowed_user_ids=_user_ids(get("ALLOWED_USER_IDS"), "ALLOWED_USER_IDS"),
            send_rate_per_second=_int(
                get("SEND_RATE_PER_SECOND"),
                "SEND_RATE_PER_SECOND",
                cls.send_rate_per_second,
                0,
                1000,
            ),
            api_retry_seconds=_int(
                get("API_RETRY_SECONDS"), "API_RETRY_SECONDS", int(cls.api_retry_seconds), 0, 600
            ),
            startup_retry_seconds=_seconds(
                get("STARTUP_RETRY_SECONDS"), "STARTUP_RETRY_SECONDS", cls.startup_retry_seconds
            ),
            startup_retry_max_seconds=_seconds(
                get("STARTUP_RETRY_MAX_SECONDS"),
                "STARTUP_RETRY_MAX_SECONDS",
                cls.startup_retry_max_seconds,
            ),
            download_timeout=_int(
                get("DOWNLOAD_TIMEOUT"), "DOWNLOAD_TIMEOUT", int(cls.download_timeout), 1, 600
            ),
            data_dir=_path(get("DATA_DIR"), cls.data_dir),
            database_url=_database_url(get("DATABASE_URL")),
            keep_crops=_flag(get("KEEP_CROPS"), "KEEP_CROPS"),
            recognition_processes=_int(
                get("RECOGNITION_PROCESSES"),
                "RECOGNITION_PROCESSES",
                cls.recognition_processes,
                0,
                64,
            ),
        )


def _path(raw: str | None, default: Path | None) -> Path | None:
    return Path(raw) if raw is not None else default


def _int(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _seconds(
    raw: str | None, name: str, default: float, low: float = 0.01, high: float = 600
) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g} seconds, not {raw}")
    return value


def _user_ids(raw: str | None, name: str) -> frozenset[int]:
    if raw is None:
        return frozenset()
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    for part in parts:
        if not USER_ID_SHAPE.match(part):
            raise SettingsError(
                f"{name} must be Telegram user ids separated by commas, like 12345678,87654321; "
                f"{part!r} is not one (the bot logs the id of everyone it refuses)"
            )
    return frozenset(int(part) for part in parts)


def _database_url(raw: str | None) -> str | None:
    # Only the kind is checked here (said without echoing the URL: it may hold a password);
    # bot.feedback.database parses it fully when the bot starts.
    if raw is not None and urlsplit(raw).scheme.split("+")[0] not in DATABASE_SCHEMES:
        raise SettingsError(
            "DATABASE_URL must be a PostgreSQL URL like postgresql://user:password@host/dbname "
            "(or sqlite:////path/to/file.sqlite); leave it empty for SQLite in DATA_DIR"
        )
    return raw


def _flag(raw: str | None, name: str) -> bool:
    if raw is None:
        return False
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines (comments, blank lines, `export` and quotes allowed)."""
    if not path.is_file():
        return {}
    values = {}
    # utf-8-sig: editors on Windows may start the file with a byte-order mark.
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].strip()
        values[key.strip()] = value
    return values
