"""The tables: pending answers awaiting a check, their digits, and the labelled samples.

A sample is self-contained (it copies the grid it labels) because pending answers are pruned
after `ANSWER_MAX_AGE`, while samples stay until their user sends /forget.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, the same in SQLite and PostgreSQL, so migrations can name them.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TOKEN_LENGTH = 16
VERSION_LENGTH = 16


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in, an aware UTC datetime out, on every backend.

    PostgreSQL keeps the zone (timestamptz); SQLite keeps a naive text that is UTC by convention.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give the time in UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# An answer the bot sent with correction buttons: which message shows which reading.
answers = Table(
    "answers",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    # Random, in every button's callback data: a button must name the answer it sits under.
    Column("token", String(TOKEN_LENGTH), nullable=False, unique=True),
    Column("user_id", BigInteger, nullable=False, index=True),
    Column("model_version", String(VERSION_LENGTH), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    PrimaryKeyConstraint("chat_id", "message_id"),
)

# The digits of a pending answer, as the model read them.
answer_digits = Table(
    "answer_digits",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("position", SmallInteger, nullable=False),
    Column("predicted", SmallInteger, nullable=False),
    Column("grid", LargeBinary, nullable=False),  # 64 bytes, values 0..16, row by row
    Column("crop", LargeBinary, nullable=True),  # PNG, only with KEEP_CROPS
    PrimaryKeyConstraint("chat_id", "message_id", "position"),
    ForeignKeyConstraint(
        ["chat_id", "message_id"],
        ["answers.chat_id", "answers.message_id"],
        ondelete="CASCADE",
    ),
)

# A digit whose label a user confirmed or corrected; one per answer and position.
samples = Table(
    "samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_token", String(TOKEN_LENGTH), nullable=False),
    Column("position", SmallInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False, index=True),
    Column("grid", LargeBinary, nullable=False),
    Column("predicted", SmallInteger, nullable=False),
    Column("label", SmallInteger, nullable=False),
    Column("model_version", String(VERSION_LENGTH), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("crop", LargeBinary, nullable=True),
    UniqueConstraint("answer_token", "position"),
)
