"""The recognition core: photos to 8x8 grids to digits, training, persistence and evaluation.

It never imports `telegram`: the CLI, the tests and notebooks use it without a bot.
"""

from model.recognize import Reading, Recognizer, load_recognizer
from model.store import load_model

__all__ = ["Reading", "Recognizer", "load_model", "load_recognizer"]
