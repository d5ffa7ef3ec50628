"""Every text the bot sends, in one place so the wording is easy to find and change."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bot.reading import SHOWN_DIGITS
from model.recognize import Reading
from training.evaluate import Evaluation

if TYPE_CHECKING:
    from bot.feedback.store import AnswerState, Forgotten, Stats, Tally

ACCEPTED = "a photo, or an image file (PNG, JPEG, WebP, BMP or GIF)"

START = (
    "Hi! I read handwritten digits. ✍️\n\n"
    "Write a digit or a number on paper, take a photo and send it to me. "
    "I reply with what I read, how sure I am, and the 8x8 grid I actually looked at.\n\n"
    "Try it: write 2025 with a dark pen on white paper and send me a photo.\n"
    "/help shows everything I can do. I keep no photos; /privacy says what I do keep."
)

HELP = (
    "Send me " + ACCEPTED + " of handwritten digits; I read them line by line, left to right.\n\n"
    "Tips for a good photo: dark pen on plain light paper, good light, the digits large "
    "in the frame and not touching each other.\n\n"
    "Commands:\n"
    "/sample – example images from my training data\n"
    "/sample 7 – examples of one digit; /sample 7 3 – three of them\n"
    "/accuracy – how well I do on 797 test images\n"
    "/stats – how often I was right, by your ✅ and corrections\n"
    "/forget – delete every correction you gave me\n"
    "/privacy – what I keep about you, and for how long\n"
    "/help – this message"
)

PRIVACY = (
    "What I keep about you:\n\n"
    "• Your photos: nothing. I read each photo in memory and forget it.\n"
    "• Each answer with ✅ and digit buttons under it: your numeric Telegram id and the 8x8 grids "
    "I read, so that the buttons work. Kept 7 days, then deleted with my next answer to "
    "anyone.\n"
    "• When you tap ✅ or a digit: your numeric id, the 8x8 grid and the digit you confirmed. "
    "Kept until you send /forget. The bot's owner may use these digits to retrain me.\n"
    "{crops}"
    "Nothing else: not your name, username, phone number or messages. (The bot's log notes "
    "your numeric id only if you send too fast or are not allowed to use it.)\n\n"
    "/forget deletes all of it at once."
)
PRIVACY_CROPS = (
    "• On this bot the owner also keeps the part of your photo around each digit you confirm, "
    "until /forget.\n"
)
PRIVACY_NOTHING_KEPT = (
    "What I keep about you: nothing. I read each photo in memory and forget it, and this bot "
    "keeps no corrections."
)

COMMANDS = [
    ("start", "What this bot does"),
    ("help", "How to use the bot"),
    ("sample", "Example images from the dataset: /sample [digit] [count]"),
    ("accuracy", "Accuracy on the 797 held-out test images"),
    ("stats", "How often I was right, from your corrections"),
    ("forget", "Delete everything I keep about you"),
    ("privacy", "What I keep about you, and for how long"),
]
# What users see before pressing Start: the description (in the empty chat, up to 512
# characters) and the short one (on the bot's profile and in shared links, up to 120).
DESCRIPTION = (
    "I read handwritten digits. Send me a photo of a digit or a number written on paper, and I "
    "reply with what I read, how sure I am, and the 8x8 grid I looked at. No photo is kept."
)
SHORT_DESCRIPTION = "Reads handwritten digits and numbers from your photos."

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
WRITING = (
    "That looks like writing, not digits. ✍️ I only read handwritten digits: send a photo of "
    "a digit or a number."
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
NOT_ALLOWED = "Sorry, this is a private bot: it only answers the people its owner has allowed. 🔒"
RATE_LIMITED = (
    "Slow down a little, please: I answer up to {limit} {what} a minute from each person. "
    "I'm skipping this one and the others you send in the next {seconds} s; "
    "send them again after that. ⏳"
)
LIMITED_IMAGES = "photos and files"
LIMITED_OTHERS = "commands, texts and button taps"
# A button's answer shows at most 200 characters.
RATE_LIMITED_TAP = "Too many taps: I take up to {limit} a minute. Tap again in {seconds} s. ⏳"

# Beyond this many digits, "I read: …" is cut short; nobody writes a number that long.
SHOWN_TEXT_DIGITS = 200


def rate_limited(limit: int, seconds: int, images: bool = True) -> str:
    """The one notice to a user who sends more than `limit` photos (or other messages) a minute."""
    what = LIMITED_IMAGES if images else LIMITED_OTHERS
    return RATE_LIMITED.format(limit=limit, what=what, seconds=seconds)


def rate_limited_tap(limit: int, seconds: int) -> str:
    """The one notice, as a button's answer, to a user tapping faster than `limit` a minute."""
    return RATE_LIMITED_TAP.format(limit=limit, seconds=seconds)


def privacy_text(keeps_corrections: bool, keeps_crops: bool) -> str:
    """/privacy: what the bot keeps about a user, as this bot is configured."""
    if not keeps_corrections:
        return PRIVACY_NOTHING_KEPT
    return PRIVACY.format(crops=PRIVACY_CROPS if keeps_crops else "")


def with_article(number: int) -> str:
    """The number with its article as it is said: "a 7", "an 8", "an 11", "a 110", "an 18000"."""
    said = str(number)
    # Said first is the leading group of up to three digits: "eleven thousand", "eighty".
    leading = said[: (len(said) - 1) % 3 + 1]
    vowel = said.startswith("8") or leading in ("11", "18")
    return f"{'an' if vowel else 'a'} {said}"


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
                f"I'm not sure – it might be {with_article(d.digit)} ({d.confidence:.0%}), "
                f"or {with_article(d.runner_up)} ({d.runner_up_confidence:.0%}).\n"
                "The picture shows the 8x8 grid I saw."
            )
        return (
            f"I read: {d.digit} ({d.confidence:.0%} sure).\nThe picture shows the 8x8 grid I saw."
        )
    # Numbers written one under the other are given one under the other.
    number = "\n".join(reading.lines)
    if len(number) > SHOWN_TEXT_DIGITS:
        number = number[:SHOWN_TEXT_DIGITS] + "…"
    said = f"I read:\n{number}" if len(reading.lines) > 1 else f"I read: {number}"
    lines = [said + (" – but I'm not sure of every digit." if reading.unsure else "")]
    for position, d in enumerate(digits[:SHOWN_DIGITS], start=1):
        note = f", or maybe {d.runner_up} ({d.runner_up_confidence:.0%})" if d.unsure else ""
        lines.append(f"{position}. {d.digit} ({d.confidence:.0%}){note}")
    if len(digits) > SHOWN_DIGITS:
        lines.append(f"… and {len(digits) - SHOWN_DIGITS} more.")
        lines.append(
            f"The picture shows the first {SHOWN_DIGITS} digits' 8x8 grids, in reading order."
        )
    elif len(reading.lines) > 1:
        lines.append("The picture shows each digit's 8x8 grid, line by line.")
    else:
        lines.append("The picture shows each digit's 8x8 grid, left to right.")
    return "\n".join(lines)


def sample_caption(label: int) -> str:
    """Caption of one dataset sample."""
    return f"This is {with_article(label)}"


def accuracy_text(result: Evaluation) -> str:
    """The held-out accuracy with per-digit figures."""
    lines = [
        f"Accuracy on {result.n} test images from the digits dataset: {result.accuracy:.1%}",
        "I never saw these images while learning, so they show how well I read new handwriting "
        "of this kind. (The simple model this bot grew from gets 86–91% on them.)",
        "",
        "Per digit: how many of its images I read right / how often I was right when I said it",
    ]
    lines += [
        f"{digit}: {fig.recall:.0%} / {fig.precision:.0%}"
        for digit, fig in result.per_class.items()
    ]
    return "\n".join(lines)


def confusion_title(result: Evaluation) -> str:
    """Title drawn on the confusion-matrix picture."""
    return f"{result.n} test images: {result.accuracy:.1%} read right"


# Corrections (bot/feedback): the buttons under an answer, what a tap says, /stats and /forget.
CORRECTION_HINT_DIGIT = "Tap ✅ if I'm right, or the right digit if I'm wrong."
CORRECTION_HINT_NUMBER = "Tap ✅ if I'm right. A digit is wrong? Tap it, then the right one."
BUTTON_BACK = "↩ back"
TAP_UNKNOWN = (
    "I can't match that button to an answer of mine (any more), so nothing was recorded. "
    "Send the photo again to correct me."
)
TAP_STALE = "This answer is more than 7 days old, so I no longer take corrections for it."
TAP_NOT_YOURS = "Only the person who sent the photo can correct this answer."
TAP_FAILED = "Sorry, I couldn't record that just now. Please try again in a moment."
FEEDBACK_OFF = "This bot keeps no corrections, so there is nothing to count or delete."


def correction_hint(digits: int) -> str:
    """The line under an answer that explains its buttons."""
    return CORRECTION_HINT_DIGIT if digits == 1 else CORRECTION_HINT_NUMBER


def right_button(state: AnswerState) -> str:
    """The "✅ right" button, marked once the answer is confirmed as read."""
    if len(state.predicted) == 1:
        confirmed = state.labels[0] == state.predicted[0]
        return "✅ right – recorded" if confirmed else "✅ right"
    if state.complete:
        return f"✅ recorded: {state.text}"
    if any(label is not None for label in state.labels):
        return f"✅ the rest is right: {state.text}"
    return f"✅ right: {state.text}"


def position_button(predicted: int, label: int | None) -> str:
    """A digit of a number: as read, confirmed (✓) or corrected (read → label)."""
    if label is None:
        return str(predicted)
    return f"{predicted} ✓" if label == predicted else f"{predicted}→{label}"


def pad_button(digit: int, marked: bool) -> str:
    """One of the ten digits, marked when it is the label recorded."""
    return f"{digit} ✓" if marked else str(digit)


def pick_toast(position: int, predicted: int) -> str:
    """The acknowledgement of choosing which digit of a number to correct."""
    return f"Digit {position + 1}: I read {predicted}. Which digit is it? Tap it."


def recorded_toast(state: AnswerState, position: int | None, replaced: bool) -> str:
    """The acknowledgement of a recorded label; `position` None for "✅ right"."""
    thanks = "Changed" if replaced else "Thanks! Recorded"
    if len(state.predicted) == 1:
        # A single digit is recorded by this very tap, so its label is there.
        label = state.labels[0] if state.labels[0] is not None else state.predicted[0]
        return f"{thanks}: it's {with_article(label)}."
    if position is None:
        return f"{thanks}: {state.text}."
    return f"{thanks}: digit {position + 1} is {state.labels[position]}, so it's {state.text}."


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _tally(tally: Tally) -> str:
    return (
        f"I was right about {tally.answers_right} of {_plural(tally.answers, 'answer')} "
        f"({_share(tally.answers_right, tally.answers)}), "
        f"and {tally.digits_right} of {_plural(tally.digits, 'digit')} "
        f"({_share(tally.digits_right, tally.digits)})."
    )


def stats_text(stats: Stats) -> str:
    """/stats: how often the bot was right for this user and for everyone."""
    if stats.mine.answers:
        mine = "Of the answers you checked: " + _tally(stats.mine)
    else:
        mine = (
            "You haven't checked any of my answers yet. Under each answer, tap ✅ when I'm "
            "right, or the right digit when I'm wrong."
        )
    if stats.everyone.answers:
        everyone = "Of the answers everyone checked: " + _tally(stats.everyone)
    else:
        everyone = "Nobody has checked an answer yet."
    return f"{mine}\n\n{everyone}\n\n/forget deletes every correction you gave me."


def forget_text(forgotten: Forgotten) -> str:
    """/forget: how much was deleted."""
    if not forgotten.samples and not forgotten.answers:
        return "I had nothing stored about you, so there was nothing to delete."
    pending = (
        f", and {_plural(forgotten.answers, 'answer')} of mine that you could still correct"
        if forgotten.answers
        else ""
    )
    return (
        f"Done: I deleted {_plural(forgotten.samples, 'labelled digit')} you gave me"
        f"{pending}. Nothing about you is stored any more."
    )
