"""Photos read in worker processes: the same answers, and a worker's death costs one photo."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest

import bot.workers
from bot import texts
from bot.reading import read_photo
from bot.services import Services
from bot.workers import WorkerDied, Workers
from model.errors import NotAnImage
from tests.bot.bot_harness import BotHarness
from tests.digit_photos import PhotoMaker

pytestmark = pytest.mark.slow  # starts, kills and replaces worker processes


@pytest.fixture
async def workers(services: Services) -> AsyncIterator[Workers]:
    pool = Workers(1, services.recognizer.weights())
    yield pool
    await pool.close()


def worker_pids(workers: Workers) -> list[int]:
    return list(workers._pool._processes)


async def test_a_worker_reads_as_the_bot_itself_does(
    workers: Workers, services: Services, photo: PhotoMaker
) -> None:
    image = photo([2, 0, 2, 5])
    reading, preview = await workers.read_in_worker(image)
    here, here_preview = read_photo(services.recognizer, image)
    assert reading.text == here.text == "2025"
    assert [d.confidence for d in reading.digits] == [d.confidence for d in here.digits]
    assert preview == here_preview


async def test_a_worker_imports_neither_scikit_learn_nor_the_bot_s_libraries(
    workers: Workers, photo: PhotoMaker
) -> None:
    await workers.read_in_worker(photo([3]))  # everything reading a photo needs is imported
    future = workers._pool.submit(bot.workers._packages, 0)
    imported: list[str] = await asyncio.wrap_future(future)
    packages = set(imported)
    assert {"numpy", "PIL", "model"} <= packages
    assert not packages & {"sklearn", "joblib", "telegram", "sqlalchemy", "httpx", "alembic"}


async def test_bad_images_raise_the_same_errors_from_a_worker(workers: Workers) -> None:
    with pytest.raises(NotAnImage):
        await workers.read_in_worker(b"not an image at all")


async def test_a_worker_dying_mid_photo_costs_that_photo_only(
    workers: Workers, photo: PhotoMaker
) -> None:
    image = photo([7])
    [pid] = worker_pids(workers)
    reading = asyncio.create_task(workers.read_in_worker(image))
    await asyncio.sleep(0)  # the photo is on its way to the worker
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerDied):
        await reading
    # A new worker reads the next photos.
    assert worker_pids(workers) != [pid]
    assert (await workers.read_in_worker(image))[0].text == "7"


async def test_a_worker_that_died_between_photos_is_replaced_unnoticed(
    workers: Workers, photo: PhotoMaker
) -> None:
    [pid] = worker_pids(workers)
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.5)  # the pool notices
    reading, _ = await workers.read_in_worker(photo([4]))
    assert reading.text == "4"


async def test_workers_stuck_on_one_image_are_replaced(
    workers: Workers, photo: PhotoMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.workers, "STUCK_AFTER", 0.5)
    monkeypatch.setattr(bot.workers, "WATCH_EVERY", 0.1)
    image = photo([6])
    await workers.read_in_worker(image)  # the watchdog runs from the first photo on
    [pid] = worker_pids(workers)
    workers._pool.submit(time.sleep, 60)  # the worker hangs, as on a pathological image
    with pytest.raises(WorkerDied):
        await asyncio.wait_for(workers.read_in_worker(image), timeout=20)
    assert worker_pids(workers) != [pid]
    assert (await workers.read_in_worker(image))[0].text == "6"


class DeadWorkers:
    """Workers whose process always dies."""

    async def read_in_worker(self, data: bytes) -> None:
        raise WorkerDied("a worker process died while reading a photo")


async def test_the_user_is_told_when_a_worker_died(
    bot: BotHarness, services: Services, photo: PhotoMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "workers", DeadWorkers())
    answer = await bot.answer(bot.photo(photo([3])))
    assert answer.method == "sendMessage"
    assert answer.params["text"] == texts.ERROR
