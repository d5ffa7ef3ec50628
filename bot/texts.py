"""Every text the bot sends, in one place so the wording is easy to find and change."""

from __future__ import annotations

import math

from model.evaluate import Evaluation
from model.recognize import Reading

ACCEPTED = "a photo, or an image file (PNG, JPEG, WebP, BMP or GIF)"

START = (
    "Hi! I read handwritten digits. ✍️\n\n"
    "Write a digit or a number on paper, take a photo and send it to me. "
    "I reply with what I read, how sure I am, and the 8x8 grid I actually looked at.\n\n"
    "Try it: write 2025 with a dark pen on white paper and send me a photo.\n"
    "/help shows everything I can do."
)

HELP = (
    "Send me " + ACCEPTED + " of handwritten digits, and I read them left to right.\n\n"
    "Tips for a good photo: dark pen on plain light paper, good light, the digits large "
    "in the frame and not touching each other.\n\n"
    "Commands:\n"
    "/sample – example images from my training data\n"
    "/sample 7 – examples of one digit; /sample 7 3 – three of them\n"
    "/accuracy – how well I do on 797 test images\n"
    "/help – this message"
)

COMMANDS = [
    ("start", "What this bot does"),
    ("help", "How to use the bot"),
    ("sample", "Example images from the dataset: /sample [digit] [count]"),
    ("accuracy", "Accuracy on the 797 held-out test images"),
]

SAMPLE_USAGE = (
    "Usage: /sample [digit] [count]\n"
    "• /sample – a few random examples\n"
    "• /sample 7 – examples of the digit 7\n"
    "• /sample 7 3 – three examples of 7\n"
    "The digit is 0–9 and the count 1–{max_count}."
)

NO_DIGIT = (
    "I couldn't find a digit in that picture. 🤔\n\n"
    "For a better photo: write with a dark pen on plain light paper, fill a good part of the "
    "frame with the digits, keep them apart, and avoid shadows across the page."
)
NOT_AN_IMAGE = (
    "I couldn't open that as an image – the file may be damaged or in a format I don't read. "
    "Please send " + ACCEPTED + "."
)
IMAGE_TOO_LARGE = "That image has too many pixels for me. Please send a smaller photo."
FILE_TOO_LARGE = (
    "That file is {size_mb:.1f} MB; I accept files up to {limit_mb} MB. "
    "Send it as a photo instead, and Telegram compresses it for you."
)
UNSUPPORTED = "I only read handwritten digits from " + ACCEPTED + ". " + "This I can't read."
TEXT_HINT = (
    "I read digits from photos, not from text. 📷 Send me a photo of a handwritten digit, "
    "or try /help."
)
UNKNOWN_COMMAND = "I don't know that command. Try /help to see what I can do."
DOWNLOAD_FAILED = "I couldn't download that file from Telegram. Please try sending it again."
ERROR = "Sorry, something went wrong on my side. Please try again in a moment."

# A caption holds at most 1,024 characters, and a photo may be at most 10,000 px wide plus high:
# an answer details (and pictures) this many digits and only counts the rest.
SHOWN_DIGITS = 10
# Beyond this many digits, "I read: …" is cut short; nobody writes a number that long.
SHOWN_TEXT_DIGITS = 200


def file_too_large(size: int, limit: int) -> str:
    """The refusal of a file over `limit` bytes."""
    # Rounded up, so a file just over the limit never reads as "10.0 MB; I accept up to 10 MB".
    return FILE_TOO_LARGE.format(size_mb=math.ceil(size / 2**20 * 10) / 10, limit_mb=limit // 2**20)


def reading_caption(reading: Reading) -> str:
    """The answer to a photo: the digits, how sure, and the runner-up when unsure."""
    digits = reading.digits
    if len(digits) == 1:
        d = digits[0]
        if d.unsure:
            return (
                f"I'm not sure – it might be a {d.digit} ({d.confidence:.0%}), "
                f"or a {d.runner_up} ({d.runner_up_confidence:.0%}).\n"
                "The picture shows the 8x8 grid I saw."
            )
        return (
            f"I read: {d.digit} ({d.confidence:.0%} sure).\nThe picture shows the 8x8 grid I saw."
        )
    number = reading.text
    if len(number) > SHOWN_TEXT_DIGITS:
        number = number[:SHOWN_TEXT_DIGITS] + "…"
    lines = [
        f"I read: {number}" + (" – but I'm not sure of every digit." if reading.unsure else "")
    ]
    for position, d in enumerate(digits[:SHOWN_DIGITS], start=1):
        note = f", or maybe {d.runner_up} ({d.runner_up_confidence:.0%})" if d.unsure else ""
        lines.append(f"{position}. {d.digit} ({d.confidence:.0%}){note}")
    if len(digits) > SHOWN_DIGITS:
        lines.append(f"… and {len(digits) - SHOWN_DIGITS} more.")
        lines.append(
            f"The picture shows the first {SHOWN_DIGITS} digits' 8x8 grids, left to right."
        )
    else:
        lines.append("The picture shows each digit's 8x8 grid, left to right.")
    return "\n".join(lines)


def sample_caption(label: int) -> str:
    """Caption of one dataset sample."""
    return f"This is a {label}"


def accuracy_text(result: Evaluation) -> str:
    """The held-out accuracy with per-digit figures."""
    lines = [
        f"Accuracy on the {result.n} held-out test images of the digits dataset: "
        f"{result.accuracy:.1%}",
        "(never used for training; the original exercise's MLP gets 86–91% here)",
        "",
        "digit: recall / precision",
    ]
    lines += [
        f"{digit}: {fig.recall:.0%} / {fig.precision:.0%}"
        for digit, fig in result.per_class.items()
    ]
    return "\n".join(lines)


def confusion_title(result: Evaluation) -> str:
    """Title drawn on the confusion-matrix picture."""
    return f"load_digits[1000:]  n={result.n}  accuracy {result.accuracy:.1%}"
