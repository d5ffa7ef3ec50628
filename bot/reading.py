"""A photo's answer: its reading and the preview shown with it, made the same way in a thread
of the bot's process and in a worker process (bot/workers.py).

    Recognizer.read(data)         -> Reading        the digits (model/recognize.py)
    read_photo(recognizer, data)  -> PhotoReading   the reading and its preview, on this thread
    Services.photo_reading(data)  -> PhotoReading   the same, off the event loop: the one entry
                                                    point of the handlers (bot/services.py)

It imports only the model's reading and rendering, not the bot's wording or Telegram: worker
processes run it.
"""

from __future__ import annotations

from typing import NamedTuple

from model.recognize import Reading, Recognizer
from model.render import preview_png

# A caption holds at most 1,024 characters, and a photo may be at most 10,000 px wide plus high:
# an answer details (and pictures) this many digits and only counts the rest (bot/texts.py).
SHOWN_DIGITS = 10


class PhotoReading(NamedTuple):
    """The digits read in a photo and the preview PNG of their grids (None: no digit found)."""

    reading: Reading
    preview: bytes | None


def read_photo(recognizer: Recognizer, data: bytes) -> PhotoReading:
    """Read the digits in image bytes; return the reading and its preview PNG (if any)."""
    reading = recognizer.read(data)
    shown = reading.digits[:SHOWN_DIGITS]
    return PhotoReading(reading, preview_png(shown) if shown else None)
