"""The recognition core: photos to 8x8 grids to digits, and the model files it reads with.

Making and judging the models is the `training` package's job; reading never imports it.

It never imports `telegram`: the CLI, the tests and notebooks use it without a bot.
"""

from model.recognize import Reading, Recognizer, load_recognizer
from model.store import load_model

__all__ = ["Reading", "Recognizer", "load_model", "load_recognizer"]
