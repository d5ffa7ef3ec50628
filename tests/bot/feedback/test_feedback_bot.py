"""Corrections end to end: a photo, its buttons, taps, the stored sample, /stats and /forget.

The real Application runs against the fake Bot API and keeps corrections in the test database
(SQLite and PostgreSQL).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

import bot.feedback.handlers
import bot.feedback.store
from bot import texts
from bot.feedback.keyboard import parse_tap
from bot.feedback.schema import samples
from bot.feedback.store import FeedbackStore
from bot.services import Services
from bot.settings import Settings
from tests.bot.bot_harness import BotHarness, chat_of
from tests.bot.feedback.feedback_harness import message_of, running_bot
from tests.digit_photos import PhotoMaker
from tests.fakebotapi import Call, FakeBotAPI


def keyboard_texts(markup: dict[str, Any]) -> list[list[str]]:
    return [[button["text"] for button in row] for row in markup["inline_keyboard"]]


def button(markup: dict[str, Any], text: str) -> str:
    """The callback data of the button labelled `text`."""
    found = [b for row in markup["inline_keyboard"] for b in row if b["text"] == text]
    assert len(found) == 1, (text, keyboard_texts(markup))
    data = found[0]["callback_data"]
    assert isinstance(data, str) and len(data.encode()) <= 64
    return data


class Chat:
    """One user's private chat with the bot: taps and commands, and the bot's reactions."""

    def __init__(self, api: FakeBotAPI, store: FeedbackStore, answer: Call) -> None:
        self.api, self.store = api, store
        self.user = int(answer.params["chat_id"])
        self.markup: dict[str, Any] = answer.params["reply_markup"]
        tap = parse_tap(button(self.markup, keyboard_texts(self.markup)[0][0]))
        assert tap is not None
        self.token = tap.token
        self.message_id = 0

    @classmethod
    async def of(cls, api: FakeBotAPI, store: FeedbackStore, answer: Call) -> Chat:
        """The chat of an answer with buttons, once the bot has stored the answer."""
        chat = cls(api, store, answer)
        chat.message_id = await message_of(store, chat.token)
        return chat

    async def tap(
        self, text: str, user: int | None = None, edits: bool = True
    ) -> tuple[str, dict[str, Any] | None]:
        """Press the button labelled `text`; return the acknowledgement and the new keyboard."""
        return await self.tap_data(button(self.markup, text), user, edits=edits)

    async def tap_data(
        self,
        data: str,
        user: int | None = None,
        message_id: int | None = None,
        edits: bool = False,
    ) -> tuple[str, dict[str, Any] | None]:
        """Press a button with any callback data, as a (maybe modified) client can.

        With `edits`, wait for the keyboard to change; without, make sure that it does not.
        """
        mark = self.api.mark()
        self.api.send_callback_query(
            data,
            message_id=message_id or self.message_id,
            chat_id=self.user,
            user_id=user or self.user,
        )
        [answered] = await self.api.await_calls("answerCallbackQuery", since=mark)
        toast = answered.params.get("text", "")
        if not edits:
            await asyncio.sleep(0.5)  # an edit would follow the acknowledgement at once
            assert not self.api.calls_for("editMessageReplyMarkup", since=mark)
            return toast, None
        [edit] = await self.api.await_calls("editMessageReplyMarkup", since=mark)
        assert (edit.params["chat_id"], edit.params["message_id"]) == (self.user, self.message_id)
        self.markup = edit.params["reply_markup"]
        return toast, self.markup

    async def command(self, text: str) -> str:
        """Send a command in this chat; return the bot's reply."""
        mark = self.api.mark()
        self.api.send_text(text, user_id=self.user)

        def reply(calls: list[Call]) -> list[Call]:
            return [
                c
                for c in calls[mark:]
                if c.method == "sendMessage" and c.params["chat_id"] == self.user
            ]

        [sent] = await self.api.await_for(reply)
        return str(sent.params["text"])

    def samples(self) -> list[tuple[int, int, int]]:
        """(position, predicted, label) of every sample stored for this chat's answer."""
        with self.store.engine.connect() as connection:
            rows = connection.execute(
                select(samples.c.position, samples.c.predicted, samples.c.label)
                .where(samples.c.answer_token == self.token)
                .order_by(samples.c.position)
            ).all()
        return [(row.position, row.predicted, row.label) for row in rows]


async def photo_answer(bot: BotHarness, data: bytes) -> tuple[Chat, Call]:
    update = bot.photo(data)
    answer = await bot.answer(update)
    assert answer.method == "sendPhoto" and int(answer.params["chat_id"]) == chat_of(update)
    return await Chat.of(bot.api, bot.app.bot_data.feedback, answer), answer


@pytest.mark.slow  # a bot end to end, several rounds
async def test_correcting_a_single_digit(feedback_bot: BotHarness, photo: PhotoMaker) -> None:
    chat, answer = await photo_answer(feedback_bot, photo([7]))
    assert answer.params["caption"].endswith("\n" + texts.CORRECTION_HINT_DIGIT)
    assert keyboard_texts(chat.markup) == [
        ["✅ right"],
        ["0", "1", "2", "3", "4"],
        ["5", "6", "7", "8", "9"],
    ]
    assert "I read: 7" in answer.params["caption"]

    toast, markup = await chat.tap("1")
    assert toast == "Thanks! Recorded: it's a 1."
    assert markup is not None and keyboard_texts(markup)[1][1] == "1 ✓"
    assert chat.samples() == [(0, 7, 1)]

    # A second tap replaces the first.
    toast, markup = await chat.tap("8")
    assert toast == "Changed: it's an 8."
    assert markup is not None and keyboard_texts(markup) == [
        ["✅ right"],
        ["0", "1", "2", "3", "4"],
        ["5", "6", "7", "8 ✓", "9"],
    ]
    assert chat.samples() == [(0, 7, 8)]

    stats = await chat.command("/stats")
    assert "Of the answers you checked: I was right about 0 of 1 answer (0%)" in stats

    toast, markup = await chat.tap("✅ right")
    assert toast == "Changed: it's a 7."
    assert markup is not None and keyboard_texts(markup)[0] == ["✅ right – recorded"]
    assert chat.samples() == [(0, 7, 7)]
    # Tapping it again records nothing new and leaves the keyboard as it is.
    toast, markup = await chat.tap("✅ right – recorded", edits=False)
    assert (toast, markup) == ("Thanks! Recorded: it's a 7.", None)
    assert chat.samples() == [(0, 7, 7)]

    stats = await chat.command("/stats")
    assert stats.startswith(
        "Of the answers you checked: I was right about 1 of 1 answer (100%), "
        "and 1 of 1 digit (100%)."
    )


@pytest.mark.slow  # a bot end to end, several rounds
async def test_correcting_one_digit_of_a_number(
    feedback_bot: BotHarness, photo: PhotoMaker
) -> None:
    chat, answer = await photo_answer(feedback_bot, photo([2, 0, 2, 5]))
    assert "I read: 2025" in answer.params["caption"]
    assert answer.params["caption"].endswith("\n" + texts.CORRECTION_HINT_NUMBER)
    assert keyboard_texts(chat.markup) == [["✅ right: 2025"], ["2", "0", "2", "5"]]

    # Which digit is wrong: the second. The buttons turn into the ten digits for it.
    second = chat.markup["inline_keyboard"][1][1]["callback_data"]
    toast, markup = await chat.tap_data(second, edits=True)
    assert toast == "Digit 2: I read 0. Which digit is it? Tap it."
    assert markup is not None and keyboard_texts(markup) == [
        ["0", "1", "2", "3", "4"],
        ["5", "6", "7", "8", "9"],
        ["↩ back"],
    ]
    assert chat.samples() == []

    toast, markup = await chat.tap("9")
    assert toast == "Thanks! Recorded: digit 2 is 9, so it's 2925."
    assert markup is not None and keyboard_texts(markup) == [
        ["✅ the rest is right: 2925"],
        ["2", "0→9", "2", "5"],
    ]
    assert chat.samples() == [(1, 0, 9)]

    toast, markup = await chat.tap("✅ the rest is right: 2925")
    assert toast == "Thanks! Recorded: 2925."
    assert markup is not None and keyboard_texts(markup) == [
        ["✅ recorded: 2925"],
        ["2 ✓", "0→9", "2 ✓", "5 ✓"],
    ]
    assert chat.samples() == [(0, 2, 2), (1, 0, 9), (2, 2, 2), (3, 5, 5)]

    # Changing one's mind: back to the pad for the second digit, and "back" without a choice.
    toast, markup = await chat.tap("0→9")
    assert markup is not None and keyboard_texts(markup)[1][4] == "9 ✓"
    toast, markup = await chat.tap("↩ back")
    assert toast == "" and markup is not None
    assert keyboard_texts(markup)[1] == ["2 ✓", "0→9", "2 ✓", "5 ✓"]

    stats = await chat.command("/stats")
    assert "I was right about 0 of 1 answer (0%), and 3 of 4 digits (75%)." in stats


@pytest.mark.slow  # a bot end to end, several rounds
async def test_forged_and_foreign_taps_change_nothing(
    feedback_bot: BotHarness, photo: PhotoMaker
) -> None:
    chat, _ = await photo_answer(feedback_bot, photo([4]))
    real = button(chat.markup, "3")
    forged = real.replace(chat.token, "A" * len(chat.token))
    for data in (forged, "hello", "fb:" + chat.token + ":d0=10", "fb:" + chat.token + ":p7", ""):
        toast, markup = await chat.tap_data(data)
        assert (toast, markup) == (texts.TAP_UNKNOWN, None), data
    # A real button, but under another message of the bot's (or one it never sent).
    toast, markup = await chat.tap_data(real, message_id=chat.message_id + 1000)
    assert (toast, markup) == (texts.TAP_UNKNOWN, None)
    # Someone else in the chat (a group) pressing the asker's button.
    toast, markup = await chat.tap_data(real, user=chat.user + 1)
    assert (toast, markup) == (texts.TAP_NOT_YOURS, None)
    assert chat.samples() == []


@pytest.mark.slow  # a bot end to end, several rounds
async def test_stale_taps_change_nothing(
    feedback_bot: BotHarness, photo: PhotoMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat, _ = await photo_answer(feedback_bot, photo([4]))
    # Older than the limit by the stored answer's time (the message's date says it is new)...
    monkeypatch.setattr(bot.feedback.store, "ANSWER_MAX_AGE", timedelta(0))
    toast, markup = await chat.tap("3", edits=False)
    assert (toast, markup) == (texts.TAP_STALE, None)
    # ... and by the message's date, which Telegram sets (the answer may be deleted already).
    monkeypatch.setattr(bot.feedback.handlers, "ANSWER_MAX_AGE", timedelta(minutes=-1))
    toast, markup = await chat.tap("3", edits=False)
    assert (toast, markup) == (texts.TAP_STALE, None)
    assert chat.samples() == []


@pytest.mark.slow  # a bot end to end, several rounds
async def test_forget_deletes_the_users_samples_and_disarms_the_buttons(
    feedback_bot: BotHarness, photo: PhotoMaker
) -> None:
    chat, _ = await photo_answer(feedback_bot, photo([2, 0]))
    await chat.tap("✅ right: 20")
    assert len(chat.samples()) == 2

    assert await chat.command("/forget") == (
        "Done: I deleted 2 labelled digits you gave me, and 1 answer of mine that you could "
        "still correct. Nothing about you is stored any more."
    )
    assert chat.samples() == []
    toast, markup = await chat.tap("✅ recorded: 20", edits=False)
    assert (toast, markup) == (texts.TAP_UNKNOWN, None)
    assert await chat.command("/forget") == (
        "I had nothing stored about you, so there was nothing to delete."
    )
    assert (await chat.command("/stats")).startswith("You haven't checked any of my answers yet.")


async def test_buttons_work_after_a_restart(
    fake_api: FakeBotAPI, feedback_settings: Settings, services: Services, photo: PhotoMaker
) -> None:
    user = 31_337
    async with running_bot(feedback_settings, services) as app:
        fake_api.send_photo(photo([3]), user_id=user)
        [answer] = await fake_api.await_calls("sendPhoto")
        chat = await Chat.of(fake_api, app.bot_data.feedback, answer)

    async with running_bot(feedback_settings, services) as app:
        chat.store = app.bot_data.feedback
        toast, markup = await chat.tap("5")
        assert toast == "Thanks! Recorded: it's a 5."
        assert markup is not None
        assert chat.samples() == [(0, 3, 5)]
        assert "1 of 1 digit" not in await chat.command("/stats")


async def test_the_menu_and_help_name_stats_and_forget(feedback_bot: BotHarness) -> None:
    menu = {command["command"] for command in feedback_bot.api.commands()}
    assert {"stats", "forget"} <= menu
    assert "/stats" in texts.HELP and "/forget" in texts.HELP


async def test_without_a_database_there_are_no_buttons(bot: BotHarness, photo: PhotoMaker) -> None:
    answer = await bot.answer(bot.photo(photo([7])))
    assert "reply_markup" not in answer.params
    assert texts.CORRECTION_HINT_DIGIT not in answer.params["caption"]
    for command in ("/stats", "/forget"):
        reply = await bot.answer(bot.text(command))
        assert reply.params["text"] == texts.FEEDBACK_OFF


async def test_telegram_refusing_the_acknowledgement_or_the_edit_loses_no_label(
    feedback_bot: BotHarness, photo: PhotoMaker
) -> None:
    chat, _ = await photo_answer(feedback_bot, photo([6]))
    feedback_bot.api.fail_next(
        "answerCallbackQuery", 400, description="Bad Request: query is too old"
    )
    toast, markup = await chat.tap("5")
    assert markup is not None and chat.samples() == [(0, 6, 5)]
    feedback_bot.api.fail_next(
        "editMessageReplyMarkup", 400, description="Bad Request: message to edit not found"
    )
    toast, _ = await chat.tap("4")
    assert toast == "Changed: it's a 4."
    assert chat.samples() == [(0, 6, 4)]
    # Nothing went to the error handler, which would have written to the chat.
    assert not [
        c for c in feedback_bot.api.calls_for("sendMessage") if c.params["chat_id"] == chat.user
    ]


async def test_a_database_failure_is_told_and_takes_no_buttons_that_cannot_work(
    feedback_bot: BotHarness, photo: PhotoMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: FeedbackStore = feedback_bot.app.bot_data.feedback
    chat, _ = await photo_answer(feedback_bot, photo([1]))

    def broken(*args: object, **kwargs: object) -> None:
        raise OperationalError("UPDATE …", {}, Exception("disk I/O error"))

    monkeypatch.setattr(store, "correct", broken)
    toast, markup = await chat.tap("7", edits=False)
    assert (toast, markup) == (texts.TAP_FAILED, None)

    # An answer that could not be stored loses its buttons again.
    monkeypatch.setattr(store, "remember_answer", broken)
    mark = feedback_bot.api.mark()
    update = feedback_bot.photo(photo([2]))
    answer = await feedback_bot.answer(update)
    assert "reply_markup" in answer.params
    [edit] = await feedback_bot.api.await_calls("editMessageReplyMarkup", since=mark)
    assert edit.params["chat_id"] == chat_of(update) and not edit.params.get("reply_markup")
