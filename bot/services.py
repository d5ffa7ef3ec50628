"""The domain services the handlers use, created once at start-up and kept in `bot_data`
(bot/context.py)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot import texts
from bot.reading import PhotoReading, read_photo
from bot.workers import Workers
from model.recognize import Recognizer
from model.render import confusion_png, sample_png
from model.store import load_stored_model
from training.data import train_digits
from training.evaluate import Evaluation, evaluate

DEFAULT_SAMPLES = 5
MAX_SAMPLES = 10  # one Telegram album holds at most 10 photos


@dataclass
class Services:
    """Recognition, the dataset samples and the cached held-out evaluation."""

    recognizer: Recognizer
    sample_grids: np.ndarray  # (n, 8, 8) of load_digits' training part
    sample_labels: np.ndarray
    evaluation: Evaluation
    accuracy_png: bytes
    rng: random.Random = field(default_factory=random.Random)
    # RECOGNITION_PROCESSES: set by `digitbot serve`; None reads photos in threads.
    workers: Workers | None = None

    @classmethod
    def create(cls, model_path: Path | None = None, model_sha256: str | None = None) -> Services:
        """Load the model and compute the held-out evaluation once."""
        stored = load_stored_model(model_path, model_sha256)
        estimator = stored.estimator
        evaluation = evaluate(estimator)
        grids, labels = train_digits()
        return cls(
            recognizer=Recognizer(estimator, stored.verifier),
            sample_grids=grids,
            sample_labels=labels,
            evaluation=evaluation,
            accuracy_png=confusion_png(evaluation.confusion, texts.confusion_title(evaluation)),
        )

    async def photo_reading(self, data: bytes) -> PhotoReading:
        """The reading of image bytes and its preview, made off the event loop.

        In a worker process when there are workers, else in a thread: the handlers' one way to
        read a photo. Raises `model.errors.ImageError`, or `WorkerDied` from a worker.
        """
        if self.workers is None:
            return await asyncio.to_thread(read_photo, self.recognizer, data)
        return await self.workers.read_in_worker(data)

    def samples(self, digit: int | None, count: int) -> list[tuple[int, bytes]]:
        """Pick `count` random training images (of `digit`, if given) as (label, PNG)."""
        everything = np.arange(len(self.sample_labels))
        pool = everything if digit is None else everything[self.sample_labels == digit]
        chosen = self.rng.sample([int(i) for i in pool], min(count, len(pool)))
        return [
            (
                int(self.sample_labels[i]),
                sample_png(self.sample_grids[i], int(self.sample_labels[i])),
            )
            for i in chosen
        ]
