"""Errors the recognition core raises on purpose.

DigitbotError
├── ImageError            the bytes cannot be read as an image a person could mean
│   ├── NotAnImage        not an image format we read (PDF, text, truncated data, ...)
│   └── ImageTooLarge     more pixels than we are willing to decode
└── ModelError            the model file is missing, altered or made by another scikit-learn

Everything else is a bug and is left to propagate.
"""

from __future__ import annotations


class DigitbotError(Exception):
    """Base class for the errors this project raises on purpose."""


class ImageError(DigitbotError):
    """The input cannot be used as an image."""


class NotAnImage(ImageError):
    """The bytes are not an image in a format we read."""


class ImageTooLarge(ImageError):
    """The image declares more pixels than the decoder is allowed to handle."""


class ModelError(DigitbotError):
    """The shipped or configured model cannot be loaded safely."""
