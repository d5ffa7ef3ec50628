"""Connecting to the feedback database and bringing its schema up to date.

SQLite (a file in DATA_DIR) by default, PostgreSQL when DATABASE_URL names one. The engine is
synchronous: callers on the event loop run store calls in a thread.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from model.errors import DigitbotError

logger = logging.getLogger(__name__)

SQLITE_FILE = "digitbot.sqlite"
MIGRATIONS = Path(__file__).with_name("migrations")
# A writer waits this long for another to finish before SQLite gives up with "database is locked".
SQLITE_BUSY_SECONDS = 30


class DatabaseUnavailable(DigitbotError):
    """The feedback database cannot be opened or migrated; the message says which and why."""


class DatabaseURLError(DatabaseUnavailable):
    """DATABASE_URL is not a SQLite or PostgreSQL URL; the message never repeats the password."""


def database_url(configured: str | None, data_dir: Path | None) -> URL:
    """The URL to use: `configured` (DATABASE_URL) if set, else a SQLite file in `data_dir`."""
    if not configured:
        if data_dir is None:
            raise DatabaseURLError("neither DATABASE_URL nor DATA_DIR is set")
        return URL.create("sqlite", database=str(data_dir / SQLITE_FILE))
    try:
        url = make_url(configured)
    except ArgumentError:
        raise DatabaseURLError(
            "DATABASE_URL must look like postgresql://user:password@host:5432/dbname "
            "or sqlite:////data/digitbot.sqlite"
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        # The only PostgreSQL driver installed is psycopg 3; a bare postgresql:// would mean
        # psycopg2 to SQLAlchemy.
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and url.database not in (None, "", ":memory:"):
        return url
    raise DatabaseURLError(
        f"DATABASE_URL must be a postgresql:// or a sqlite:/// URL of a file, not {backend}://…"
    )


def engine_for(url: URL | str) -> Engine:
    """Return an engine; for SQLite a file in WAL mode that is safe for concurrent writers."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    assert url.database is not None
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
    event.listen(engine, "connect", _sqlite_connected)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connected(dbapi_connection: Any, connection_record: Any) -> None:
    # SQLAlchemy's recipe: sqlite3 must not issue its own BEGIN (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer and the writer never blocks readers.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # A deferred transaction that reads, then writes fails at once with SQLITE_BUSY if another
    # writer committed in between (no busy timeout helps); IMMEDIATE takes the write lock first.
    # Read-only work asks for a deferred one, so it never waits for a writer.
    mode = (
        "DEFERRED" if connection.get_execution_options().get("digitbot_read_only") else "IMMEDIATE"
    )
    connection.exec_driver_sql(f"BEGIN {mode}")


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest revision (creating it in an empty database)."""
    config = Config()
    # Config values are interpolated: a "%" in the path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def describe(url: URL) -> str:
    """The URL with the password hidden, for logs and messages."""
    return url.render_as_string(hide_password=True)
