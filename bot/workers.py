"""Reading photos in worker processes, so the event loop keeps a CPU core to itself.

Recognition is CPU work that holds Python's GIL much of the time. Run in threads of the bot's
own process, it competes with the event loop that talks to Telegram; in its own process it
does not (`python -m bench.load`: about 1.5x the photos per second on 2 cores, for about
150 MB more memory). A worker that dies (a decoder crashing on a hostile image, the kernel's
out-of-memory killer) costs the photo it was reading, not the bot: the pool is replaced. So
does a worker stuck on one image: when photos wait and none has been read for STUCK_AFTER
seconds, the workers are killed and replaced.

A worker is lean: the bot's process loads and verifies the model pickle, and hands each worker
its networks as plain arrays (`Recognizer.weights`, `model.network`). The worker imports the
reading path only, not scikit-learn, Telegram or SQLAlchemy (tests/bot/test_bot_workers.py
checks it): about 60 MB idle, 124 MB less than with scikit-learn.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

# read_photo is imported from here too (bench/real.py); it lives in bot/reading.py.
from bot.reading import PhotoReading, read_photo
from model.recognize import Recognizer, Weights

logger = logging.getLogger(__name__)

# A photo takes well under a second to read (the pixel limit bounds decoding); workers that
# have read nothing for this long while photos wait are stuck.
STUCK_AFTER = 60.0
WATCH_EVERY = 5.0


class WorkerDied(RuntimeError):
    """A worker process ended while reading a photo; a new one has been started."""


_RECOGNIZER: Recognizer | None = None


def _start_worker(weights: Weights) -> None:
    global _RECOGNIZER
    # Ctrl-C in a terminal reaches the whole process group; stopping is the bot's decision.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _RECOGNIZER = Recognizer.from_weights(weights)


def _ready(_: int) -> bool:
    return _RECOGNIZER is not None


def _packages(_: int) -> list[str]:
    """The top-level packages this process has imported (the worker's leanness is tested)."""
    return sorted({name.partition(".")[0] for name in sys.modules})


def _read_in_worker(data: bytes) -> PhotoReading:
    assert _RECOGNIZER is not None, "worker started without its model"
    return read_photo(_RECOGNIZER, data)


class Workers:
    """A pool of worker processes, each with its own copy of the model's weights: those of the
    bot's recognizer (`Recognizer.weights`), which loaded and verified the model file."""

    def __init__(self, processes: int, weights: Weights) -> None:
        self.processes = processes
        self._weights = weights
        self._replacing = asyncio.Lock()
        self._waiting = 0  # photos submitted and not yet read
        self._last_read = 0.0  # event-loop time of the last photo read (or of the first wait)
        self._watchdog: asyncio.Task[None] | None = None
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # "spawn": a fresh interpreter, not a fork of a process that runs threads and a loop.
        pool = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self._weights,),
        )
        # Load the model in every worker now, not while the first users wait; a worker that
        # cannot load it breaks the pool here, at start-up.
        try:
            if not all(pool.map(_ready, range(self.processes))):
                raise RuntimeError("a worker process started without its model")
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        return pool

    async def read_in_worker(self, data: bytes) -> PhotoReading:
        """`read_photo` in a worker; `model.errors.ImageError` as for an in-process read.

        Raises WorkerDied for the photos in flight when a worker dies (which of them killed it
        is unknown); photos that come later wait for the new pool.
        """
        loop = asyncio.get_running_loop()
        if self._watchdog is None:
            self._watchdog = loop.create_task(self._watch())
        while True:
            pool = self._pool
            try:
                future = pool.submit(_read_in_worker, data)
            except BrokenProcessPool:  # broken before this photo came: not its doing
                await self._replace(pool)
                continue
            if self._waiting == 0:
                self._last_read = loop.time()
            self._waiting += 1
            try:
                answer: PhotoReading = await asyncio.wrap_future(future)
            except BrokenProcessPool:
                await self._replace(pool)
                raise WorkerDied("a worker process died while reading a photo") from None
            finally:
                self._waiting -= 1
            self._last_read = loop.time()
            return answer

    async def _watch(self) -> None:
        """Kill the workers when photos wait and none has been read for STUCK_AFTER seconds."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(WATCH_EVERY)
            if self._waiting and loop.time() - self._last_read > STUCK_AFTER:
                logger.error(
                    "the workers read nothing for %.0f s with %d photos waiting: killing them",
                    STUCK_AFTER,
                    self._waiting,
                )
                self._last_read = loop.time()
                # ProcessPoolExecutor has no public kill before Python 3.14; the photos in
                # flight then fail with BrokenProcessPool and the pool is replaced.
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.kill()

    async def _replace(self, broken: ProcessPoolExecutor) -> None:
        async with self._replacing:
            if self._pool is broken:  # the first photo to notice replaces it
                logger.error("a worker process died while reading a photo; starting new ones")
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = await asyncio.to_thread(self._start)

    async def close(self) -> None:
        """Stop the workers (after the photos they are reading)."""
        if self._watchdog is not None:
            self._watchdog.cancel()
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
