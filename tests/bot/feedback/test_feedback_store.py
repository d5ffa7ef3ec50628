"""The feedback store on SQLite and PostgreSQL: labels, refusals, /stats, /forget, concurrency."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.engine import URL

from bot.feedback.database import database_url
from bot.feedback.schema import answer_digits, answers, metadata, samples
from bot.feedback.store import (
    ANSWER_MAX_AGE,
    DigitToCheck,
    FeedbackStore,
    NotYourAnswer,
    StaleAnswer,
    UnknownAnswer,
    new_token,
)

CHAT = USER = 5001
T0 = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)


def grid(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 17, (8, 8))


def digits(*predicted: int) -> list[DigitToCheck]:
    return [DigitToCheck(p, grid(i)) for i, p in enumerate(predicted)]


def remember(
    store: FeedbackStore,
    *predicted: int,
    message_id: int = 1,
    chat: int = CHAT,
    user: int = USER,
    now: datetime = T0,
) -> tuple[int, int, int, str]:
    """Store an answer; return (chat, message, user, token), the arguments of a tap."""
    token = new_token()
    store.remember_answer(
        chat, message_id, user, token, "abcdef0123456789", digits(*predicted), now
    )
    return chat, message_id, user, token


def count(store: FeedbackStore, table: Any) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_migrations_make_exactly_the_schema_the_code_uses(store: FeedbackStore) -> None:
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []


def test_sqlite_is_a_wal_file_in_the_data_dir(tmp_path: Path) -> None:
    database = database_url(None, tmp_path / "data")
    store = FeedbackStore.open(database)
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        store.close()
    assert database.database is not None and database.database.endswith("data/digitbot.sqlite")


def test_a_single_digit_is_confirmed_corrected_and_changed(store: FeedbackStore) -> None:
    tap = remember(store, 7)
    assert store.answer_state(*tap, now=T0).labels == (None,)
    recorded = store.correct(*tap, 0, 1, now=T0)
    assert (recorded.state.labels, recorded.replaced) == ((1,), False)
    # A second tap replaces the first: still one sample.
    recorded = store.correct(*tap, 0, 3, now=T0)
    assert (recorded.state.labels, recorded.replaced) == ((3,), True)
    # "✅ right" on a single digit takes the correction back.
    recorded = store.confirm(*tap, now=T0)
    assert (recorded.state.labels, recorded.replaced) == ((7,), True)
    assert count(store, samples) == 1
    found = store.labelled_samples()
    assert found.labels.tolist() == [7] and found.predicted.tolist() == [7]
    assert np.array_equal(found.grids[0], grid(0).reshape(-1))


def test_a_number_keeps_corrections_and_right_confirms_the_rest(store: FeedbackStore) -> None:
    tap = remember(store, 2, 0, 2, 6)
    recorded = store.correct(*tap, 3, 5, now=T0)
    assert recorded.state.labels == (None, None, None, 5)
    assert recorded.state.text == "2025" and not recorded.state.complete
    recorded = store.confirm(*tap, now=T0)
    assert recorded.state.labels == (2, 0, 2, 5) and recorded.state.complete
    assert not recorded.replaced
    # Once everything is recorded, "✅ right" again changes nothing.
    assert store.confirm(*tap, now=T0).state == recorded.state
    assert count(store, samples) == 4
    found = store.labelled_samples()
    assert sorted(zip(found.predicted.tolist(), found.labels.tolist(), strict=True)) == [
        (0, 0),
        (2, 2),
        (2, 2),
        (6, 5),
    ]


def test_forged_taps_change_nothing(store: FeedbackStore) -> None:
    chat, message, user, token = remember(store, 4, 2)
    forged: list[tuple[type[Exception], tuple[int, int, int, str], dict[str, int]]] = [
        (UnknownAnswer, (chat, message, user, new_token()), {}),  # another token
        (UnknownAnswer, (chat, message + 1, user, token), {}),  # another message
        (UnknownAnswer, (chat + 1, message, user, token), {}),  # another chat
        (NotYourAnswer, (chat, message, user + 1, token), {}),  # someone else in a group
    ]
    for error, ids, _ in forged:
        with pytest.raises(error):
            store.correct(*ids, 0, 1, now=T0)
        with pytest.raises(error):
            store.confirm(*ids, now=T0)
        with pytest.raises(error):
            store.answer_state(*ids, now=T0)
    for position, label in [(2, 1), (-1, 1), (0, 10), (0, -1)]:
        with pytest.raises(UnknownAnswer):
            store.correct(chat, message, user, token, position, label, now=T0)
    assert count(store, samples) == 0


def test_answers_go_stale_and_are_pruned_but_their_samples_stay(store: FeedbackStore) -> None:
    old = remember(store, 3, now=T0)
    store.correct(*old, 0, 8, now=T0 + ANSWER_MAX_AGE - timedelta(minutes=1))
    with pytest.raises(StaleAnswer):
        store.correct(*old, 0, 9, now=T0 + ANSWER_MAX_AGE + timedelta(minutes=1))
    # The next answer stored deletes those too old to correct (with their digits)...
    remember(store, 1, message_id=2, now=T0 + ANSWER_MAX_AGE + timedelta(minutes=1))
    with pytest.raises(UnknownAnswer):
        store.correct(*old, 0, 9, now=T0 + ANSWER_MAX_AGE + timedelta(minutes=2))
    assert count(store, answers) == 1 and count(store, answer_digits) == 1
    # ... but not the labels already given.
    assert store.labelled_samples().labels.tolist() == [8]


def test_stats_for_one_user_and_for_everyone(store: FeedbackStore) -> None:
    right = remember(store, 7, message_id=1)
    store.confirm(*right, now=T0)
    wrong = remember(store, 1, 2, message_id=2)
    store.correct(*wrong, 0, 4, now=T0)
    store.confirm(*wrong, now=T0)
    unchecked = remember(store, 5, message_id=3)
    other = remember(store, 9, 9, message_id=4, chat=6001, user=6001)
    store.confirm(*other, now=T0)
    del unchecked

    stats = store.stats(USER)
    assert (stats.mine.answers, stats.mine.answers_right) == (2, 1)
    assert (stats.mine.digits, stats.mine.digits_right) == (3, 2)
    assert (stats.everyone.answers, stats.everyone.answers_right) == (3, 2)
    assert (stats.everyone.digits, stats.everyone.digits_right) == (5, 4)
    nobody = store.stats(7001)
    assert nobody.mine.answers == 0 and nobody.everyone.answers == 3


def test_forget_deletes_everything_of_one_user_only(store: FeedbackStore) -> None:
    mine = remember(store, 1, 2, 3, message_id=1)
    store.confirm(*mine, now=T0)
    remember(store, 4, message_id=2)  # not checked yet: its grid is stored all the same
    other = remember(store, 5, message_id=3, chat=6001, user=6001)
    store.confirm(*other, now=T0)

    forgotten = store.forget(USER)
    assert (forgotten.samples, forgotten.answers) == (3, 2)
    assert count(store, samples) == 1 and count(store, answers) == 1
    assert count(store, answer_digits) == 1  # the other user's, not ours
    with pytest.raises(UnknownAnswer):
        store.confirm(*mine, now=T0)
    assert (store.forget(USER).samples, store.forget(USER).answers) == (0, 0)
    assert store.stats(6001).mine.answers == 1


def test_crops_are_kept_only_when_given(store: FeedbackStore) -> None:
    token = new_token()
    store.remember_answer(
        CHAT, 1, USER, token, "v", [DigitToCheck(1, grid(0), b"PNG1"), DigitToCheck(2, grid(1))], T0
    )
    store.confirm(CHAT, 1, USER, token, now=T0)
    with store.engine.connect() as connection:
        crops = dict(connection.execute(select(samples.c.position, samples.c.crop)).all())
    assert crops == {0: b"PNG1", 1: None}


def test_bad_grids_are_refused(store: FeedbackStore) -> None:
    for bad in (np.full((8, 8), 17), np.zeros((7, 8)), np.full((8, 8), -1)):
        with pytest.raises(ValueError, match="8x8"):
            store.remember_answer(CHAT, 1, USER, new_token(), "v", [DigitToCheck(1, bad)], T0)
    assert count(store, answers) == 0


def test_answers_and_labels_survive_a_restart(database: URL) -> None:
    first = FeedbackStore.open(database)
    tap = remember(first, 6, 1)
    first.correct(*tap, 0, 5, now=T0)
    first.close()

    second = FeedbackStore.open(database)  # migrating again changes nothing
    try:
        assert second.answer_state(*tap, now=T0).labels == (5, None)
        assert second.confirm(*tap, now=T0).state.labels == (5, 1)
        assert second.stats(USER).mine.digits == 2
    finally:
        second.close()


def run_all(jobs: list[Callable[[], object]], workers: int = 12) -> list[object]:
    """Run the jobs at once from a pool of threads (as the bot's handlers do) and wait for all."""
    go = threading.Event()

    def started(job: Callable[[], object]) -> object:
        go.wait(timeout=10)
        return job()

    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(started, job) for job in jobs]
        go.set()
        return [future.result() for future in futures]


@pytest.mark.slow  # threads against the database
def test_many_users_at_once(store: FeedbackStore) -> None:
    users = range(100_000, 100_040)  # 40 users, 3 answers each, every answer checked

    def one_user(user: int) -> None:
        for message in range(1, 4):
            tap = remember(store, 1, 2, message_id=message, chat=user, user=user)
            store.correct(*tap, 0, 7, now=T0)
            store.confirm(*tap, now=T0)
            store.stats(user)

    run_all([lambda user=user: one_user(user) for user in users])  # type: ignore[misc]
    assert count(store, answers) == 120 and count(store, samples) == 240
    stats = store.stats(users[0])
    assert (stats.mine.answers, stats.mine.digits, stats.mine.digits_right) == (3, 6, 3)
    assert (stats.everyone.answers, stats.everyone.answers_right) == (120, 0)


def test_racing_taps_on_one_answer_leave_one_sample_per_digit(store: FeedbackStore) -> None:
    tap = remember(store, 3, 3)
    jobs: list[Callable[[], object]] = []
    for label in range(10):
        jobs.append(lambda label=label: store.correct(*tap, 0, label, now=T0))  # type: ignore[misc]
        jobs.append(lambda: store.confirm(*tap, now=T0))
    run_all(jobs)
    assert count(store, samples) == 2
    final = store.answer_state(*tap, now=T0)
    assert final.complete and final.labels[1] == 3


def test_concurrent_forget_and_taps(store: FeedbackStore) -> None:
    taps = [remember(store, 1, message_id=m) for m in range(1, 21)]
    jobs: list[Callable[[], object]] = [
        lambda tap=tap: _tap_or_unknown(store, tap)  # type: ignore[misc]
        for tap in taps
    ]
    jobs.insert(10, lambda: store.forget(USER))
    run_all(jobs)
    # Whatever the order, a tap either came before /forget (and was deleted) or found nothing.
    assert count(store, samples) == 0 and count(store, answers) == 0


def _tap_or_unknown(store: FeedbackStore, tap: tuple[int, int, int, str]) -> None:
    with contextlib.suppress(UnknownAnswer):  # /forget came first
        store.confirm(*tap, now=T0)


def test_timestamps_are_utc_on_every_backend(store: FeedbackStore) -> None:
    tap = remember(store, 2, now=T0)
    store.confirm(*tap, now=T0 + timedelta(hours=1))
    with store.engine.connect() as connection:
        created = connection.execute(select(samples.c.created_at)).scalar_one()
        assert connection.execute(text("SELECT 1")).scalar() == 1
    assert created == T0 + timedelta(hours=1) and created.tzinfo is not None
