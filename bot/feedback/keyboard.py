"""The correction buttons under an answer, and the callback data they carry.

A single digit gets "✅ right" and the ten digits. A number gets "✅ right" and one button per
digit as read; tapping one swaps in the ten digits for that position (and "↩ back"). Two taps
for a correction, with at most 11 buttons at any time, however long the number.

Callback data is "fb:<token>:<action>" (at most 24 bytes of Telegram's 64): the token names the
answer and is checked against the stored one, so the data is never trusted on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.feedback.schema import TOKEN_LENGTH
from bot.feedback.store import AnswerState

# Telegram refuses callback data over 64 bytes; a pad has 10 positions at most.
MAX_POSITIONS = 10
ROW = 5
_TAP = re.compile(
    rf"fb:(?P<token>[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}):"
    r"(?:(?P<ok>ok)|(?P<back>back)|p(?P<pick>[0-9])|d(?P<position>[0-9])=(?P<digit>[0-9]))"
)

Action = Literal["ok", "back", "pick", "digit"]


@dataclass(frozen=True)
class Tap:
    """A parsed button press: which answer, and what to do with it."""

    token: str
    action: Action
    position: int = 0
    digit: int = 0

    @property
    def data(self) -> str:
        """The callback data of the button that makes this tap."""
        if self.action == "pick":
            return f"fb:{self.token}:p{self.position}"
        if self.action == "digit":
            return f"fb:{self.token}:d{self.position}={self.digit}"
        return f"fb:{self.token}:{self.action}"


def parse_tap(data: str | None) -> Tap | None:
    """The tap `data` describes, or None if it is not the data of a correction button."""
    match = _TAP.fullmatch(data or "")
    if match is None:
        return None
    token = match["token"]
    if match["ok"]:
        return Tap(token, "ok")
    if match["back"]:
        return Tap(token, "back")
    if match["pick"] is not None:
        return Tap(token, "pick", position=int(match["pick"]))
    return Tap(token, "digit", position=int(match["position"]), digit=int(match["digit"]))


def _button(text: str, tap: Tap) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=tap.data)


def _rows(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + ROW] for i in range(0, len(buttons), ROW)]


def _digit_pad(token: str, position: int, marked: int | None) -> list[list[InlineKeyboardButton]]:
    return _rows(
        [
            _button(texts.pad_button(digit, digit == marked), Tap(token, "digit", position, digit))
            for digit in range(10)
        ]
    )


def answer_keyboard(state: AnswerState) -> InlineKeyboardMarkup:
    """The buttons under an answer, showing what has been recorded for it."""
    right = [_button(texts.right_button(state), Tap(state.token, "ok"))]
    if len(state.predicted) == 1:
        label = state.labels[0]
        # The digit pad marks a correction; "✅ right" marks a confirmation.
        marked = label if label is not None and label != state.predicted[0] else None
        return InlineKeyboardMarkup([right, *_digit_pad(state.token, 0, marked)])
    positions = [
        _button(texts.position_button(predicted, label), Tap(state.token, "pick", position))
        for position, (predicted, label) in enumerate(
            zip(state.predicted, state.labels, strict=True)
        )
    ]
    return InlineKeyboardMarkup([right, *_rows(positions)])


def pad_keyboard(state: AnswerState, position: int) -> InlineKeyboardMarkup:
    """The ten digits for one position of a number, and a way back."""
    back = [_button(texts.BUTTON_BACK, Tap(state.token, "back"))]
    return InlineKeyboardMarkup([*_digit_pad(state.token, position, state.labels[position]), back])
