"""Every query of the feedback database: answers awaiting a check, labels, /stats and /forget.

The methods are blocking; the bot calls them in a thread. A tap is checked against the stored
answer (its token, its user, its age) in the same transaction that records it, so a forged or
stale button changes nothing.

TapRefused                 a button press that records nothing
├── UnknownAnswer          no such answer (never sent, pruned, forgotten) or a wrong token
├── StaleAnswer            the answer is older than ANSWER_MAX_AGE
└── NotYourAnswer          someone other than the asker pressed it
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, case, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL

from bot.feedback.database import engine_for, migrate
from bot.feedback.schema import TOKEN_LENGTH, answer_digits, answers, samples

# Buttons under older answers are refused, and the answers (not their samples) are deleted.
ANSWER_MAX_AGE = timedelta(days=7)


class TapRefused(Exception):
    """A button press that cannot be recorded; nothing was changed."""


class UnknownAnswer(TapRefused):
    """No stored answer matches the message and the button's token."""


class StaleAnswer(TapRefused):
    """The answer is older than ANSWER_MAX_AGE."""


class NotYourAnswer(TapRefused):
    """The answer belongs to another user (in a group, anyone sees the buttons)."""


@dataclass(frozen=True)
class DigitToCheck:
    """One digit of an answer as the model read it: the digit and its 8x8 grid (0..16)."""

    predicted: int
    grid: np.ndarray
    crop: bytes | None = None  # a PNG of the photo's crop, kept only if the owner enabled it


@dataclass(frozen=True)
class AnswerState:
    """A pending answer: what was read at each position and what the user recorded, if anything."""

    token: str
    predicted: tuple[int, ...]
    labels: tuple[int | None, ...]

    @property
    def text(self) -> str:
        """The number as it stands now: the recorded label where there is one, else as read."""
        return "".join(
            str(p if label is None else label)
            for p, label in zip(self.predicted, self.labels, strict=True)
        )

    @property
    def complete(self) -> bool:
        """Whether every position has a recorded label."""
        return all(label is not None for label in self.labels)


@dataclass(frozen=True)
class Recorded:
    """The answer after a tap, and whether the tap changed a label recorded before."""

    state: AnswerState
    replaced: bool


@dataclass(frozen=True)
class Tally:
    """Checked answers and digits, and how many the bot got right."""

    answers: int
    answers_right: int
    digits: int
    digits_right: int


@dataclass(frozen=True)
class Stats:
    """The tally of one user's checks, and of everybody's."""

    mine: Tally
    everyone: Tally


@dataclass(frozen=True)
class Forgotten:
    """How much /forget deleted."""

    samples: int
    answers: int


@dataclass(frozen=True)
class LabelledSamples:
    """Every confirmed digit: grids `(n, 64)` on 0..16, the confirmed and the predicted labels."""

    grids: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray


def new_token() -> str:
    """A random token naming an answer in its buttons' callback data."""
    return secrets.token_urlsafe(TOKEN_LENGTH)[:TOKEN_LENGTH]


def grid_bytes(grid: np.ndarray) -> bytes:
    """An 8x8 grid of 0..16 as the 64 bytes the database keeps."""
    values = np.asarray(grid).reshape(-1)
    if values.size != 64 or values.min() < 0 or values.max() > 16:
        raise ValueError("a grid is 8x8 values 0..16")
    return bytes(values.astype(np.uint8))


def _now() -> datetime:
    return datetime.now(UTC)


class FeedbackStore:
    """The feedback database: SQLite or PostgreSQL behind one SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: URL | str) -> FeedbackStore:
        """Connect and migrate the schema to the newest revision."""
        engine = engine_for(url)
        migrate(engine)
        return cls(engine)

    def close(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with (
            self.engine.connect().execution_options(digitbot_read_only=True) as connection,
            connection.begin(),
        ):
            yield connection

    def remember_answer(
        self,
        chat_id: int,
        message_id: int,
        user_id: int,
        token: str,
        model_version: str,
        digits: Sequence[DigitToCheck],
        now: datetime | None = None,
    ) -> None:
        """Store an answer sent with correction buttons, and drop answers too old to correct."""
        now = now or _now()
        with self._writing() as connection:
            connection.execute(delete(answers).where(answers.c.created_at < now - ANSWER_MAX_AGE))
            connection.execute(
                insert(answers).values(
                    chat_id=chat_id,
                    message_id=message_id,
                    token=token,
                    user_id=user_id,
                    model_version=model_version,
                    created_at=now,
                )
            )
            connection.execute(
                insert(answer_digits),
                [
                    {
                        "chat_id": chat_id,
                        "message_id": message_id,
                        "position": position,
                        "predicted": digit.predicted,
                        "grid": grid_bytes(digit.grid),
                        "crop": digit.crop,
                    }
                    for position, digit in enumerate(digits)
                ],
            )

    def answer_state(
        self,
        chat_id: int,
        message_id: int,
        user_id: int,
        token: str,
        now: datetime | None = None,
    ) -> AnswerState:
        """The answer under a button; raises a TapRefused if the button may not act on it."""
        with self._reading() as connection:
            answer = self._checked_answer(
                connection, chat_id, message_id, user_id, token, now, lock=False
            )
            return self._state(connection, answer)

    def confirm(
        self,
        chat_id: int,
        message_id: int,
        user_id: int,
        token: str,
        now: datetime | None = None,
    ) -> Recorded:
        """Record "✅ right": every digit without a label is as read.

        For a single digit, "right" also takes back a correction recorded before.
        """
        now = now or _now()
        with self._writing() as connection:
            answer = self._checked_answer(connection, chat_id, message_id, user_id, token, now)
            state = self._state(connection, answer)
            if len(state.predicted) == 1:
                labels = {0: state.predicted[0]}
            else:
                labels = {
                    position: predicted
                    for position, (predicted, label) in enumerate(
                        zip(state.predicted, state.labels, strict=True)
                    )
                    if label is None
                }
            return self._record(connection, answer, state, labels, now)

    def correct(
        self,
        chat_id: int,
        message_id: int,
        user_id: int,
        token: str,
        position: int,
        label: int,
        now: datetime | None = None,
    ) -> Recorded:
        """Record that the digit at `position` is `label`, replacing an earlier label there."""
        now = now or _now()
        with self._writing() as connection:
            answer = self._checked_answer(connection, chat_id, message_id, user_id, token, now)
            state = self._state(connection, answer)
            if not (0 <= position < len(state.predicted) and 0 <= label <= 9):
                raise UnknownAnswer(f"no position {position} or digit {label} in this answer")
            return self._record(connection, answer, state, {position: label}, now)

    def stats(self, user_id: int) -> Stats:
        """The tally of `user_id`'s checked answers, and of everyone's."""
        with self._reading() as connection:
            return Stats(
                mine=self._tally(connection, user_id), everyone=self._tally(connection, None)
            )

    def forget(self, user_id: int) -> Forgotten:
        """Delete every sample and pending answer of `user_id`."""
        with self._writing() as connection:
            # Answers first: deleting them waits for taps in flight on them, so the samples
            # those taps add are deleted next, not left behind.
            deleted_answers = connection.execute(
                delete(answers).where(answers.c.user_id == user_id)
            ).rowcount
            deleted_samples = connection.execute(
                delete(samples).where(samples.c.user_id == user_id)
            ).rowcount
        return Forgotten(samples=deleted_samples, answers=deleted_answers)

    def labelled_samples(self) -> LabelledSamples:
        """Every sample, oldest first, for training and export."""
        with self._reading() as connection:
            rows = connection.execute(
                select(samples.c.grid, samples.c.label, samples.c.predicted).order_by(samples.c.id)
            ).all()
        grids = np.array(
            [np.frombuffer(row.grid, dtype=np.uint8) for row in rows], dtype=np.int64
        ).reshape((len(rows), 64))
        return LabelledSamples(
            grids=grids,
            labels=np.array([row.label for row in rows], dtype=np.int64),
            predicted=np.array([row.predicted for row in rows], dtype=np.int64),
        )

    def _checked_answer(
        self,
        connection: Connection,
        chat_id: int,
        message_id: int,
        user_id: int,
        token: str,
        now: datetime | None,
        lock: bool = True,
    ) -> Any:
        query = select(answers).where(
            answers.c.chat_id == chat_id, answers.c.message_id == message_id
        )
        # In PostgreSQL, a tap locks its answer until it commits: a /forget or a second tap on
        # the same answer waits for it. (SQLite's BEGIN IMMEDIATE already serializes writers.)
        answer = connection.execute(query.with_for_update() if lock else query).first()
        if answer is None or not hmac.compare_digest(answer.token, token):
            raise UnknownAnswer(f"no answer {token!r} at message {message_id} in chat {chat_id}")
        if answer.created_at < (now or _now()) - ANSWER_MAX_AGE:
            raise StaleAnswer(f"the answer at message {message_id} is from {answer.created_at}")
        if answer.user_id != user_id:
            raise NotYourAnswer(f"the answer at message {message_id} is another user's")
        return answer

    def _state(self, connection: Connection, answer: Any) -> AnswerState:
        digits = connection.execute(
            select(answer_digits.c.position, answer_digits.c.predicted)
            .where(
                answer_digits.c.chat_id == answer.chat_id,
                answer_digits.c.message_id == answer.message_id,
            )
            .order_by(answer_digits.c.position)
        ).all()
        recorded = {
            row.position: row.label
            for row in connection.execute(
                select(samples.c.position, samples.c.label).where(
                    samples.c.answer_token == answer.token
                )
            )
        }
        return AnswerState(
            token=answer.token,
            predicted=tuple(row.predicted for row in digits),
            labels=tuple(recorded.get(row.position) for row in digits),
        )

    def _record(
        self,
        connection: Connection,
        answer: Any,
        state: AnswerState,
        labels: Mapping[int, int],
        now: datetime,
    ) -> Recorded:
        if not labels:
            return Recorded(state=state, replaced=False)
        digits = {
            row.position: row
            for row in connection.execute(
                select(answer_digits).where(
                    answer_digits.c.chat_id == answer.chat_id,
                    answer_digits.c.message_id == answer.message_id,
                    answer_digits.c.position.in_(list(labels)),
                )
            )
        }
        rows = [
            {
                "answer_token": answer.token,
                "position": position,
                "user_id": answer.user_id,
                "grid": digits[position].grid,
                "predicted": digits[position].predicted,
                "label": label,
                "model_version": answer.model_version,
                "created_at": now,
                "crop": digits[position].crop,
            }
            for position, label in labels.items()
        ]
        # A second tap on the same answer replaces the label: one sample per answer and position,
        # also when two taps race (the unique constraint decides, not a read before the write).
        upsert = (sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert)(
            samples
        )
        connection.execute(
            upsert.on_conflict_do_update(
                index_elements=[samples.c.answer_token, samples.c.position],
                set_={"label": upsert.excluded.label, "created_at": upsert.excluded.created_at},
            ),
            rows,
        )
        replaced = any(
            state.labels[position] not in (None, label) for position, label in labels.items()
        )
        new_labels = tuple(labels.get(p, old) for p, old in enumerate(state.labels))
        return Recorded(
            state=AnswerState(token=state.token, predicted=state.predicted, labels=new_labels),
            replaced=replaced,
        )

    def _tally(self, connection: Connection, user_id: int | None) -> Tally:
        right = case((samples.c.predicted == samples.c.label, 1), else_=0)
        per_answer = select(
            func.min(right).label("right"),
            func.count().label("digits"),
            func.sum(right).label("digits_right"),
        ).group_by(samples.c.answer_token)
        if user_id is not None:
            per_answer = per_answer.where(samples.c.user_id == user_id)
        answer_rows = per_answer.subquery()
        row = connection.execute(
            select(
                func.count(),
                func.coalesce(func.sum(answer_rows.c.right), 0),
                func.coalesce(func.sum(answer_rows.c.digits), 0),
                func.coalesce(func.sum(answer_rows.c.digits_right), 0),
            )
        ).one()
        return Tally(*(int(value) for value in row))
