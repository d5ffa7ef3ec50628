"""Tests proving FakeBotAPI works with python-telegram-bot's real networking stack."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import socket
import struct
import threading
import time
import urllib.request
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from tests.fakebotapi import DEFAULT_CHAT_ID, DEFAULT_USER_ID, DOWNLOAD, FakeBotAPI

TOKEN = "123456:TEST-token_for-fake"


def _png(width: int, height: int, seed: int = 0) -> bytes:
    """A valid RGB PNG built with the stdlib (its bytes include CR/LF and '--' sequences)."""
    rows = b"".join(
        b"\x00" + bytes((x * 7 + y * 13 + seed) % 256 for x in range(width * 3))
        for y in range(height)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _build_app(api: FakeBotAPI) -> Application[Any, Any, Any, Any, Any, Any]:
    return (
        Application.builder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )


@pytest.fixture
async def bot(fake_api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake_api.base_url, base_file_url=fake_api.base_file_url) as b:
        yield b


async def test_get_me(fake_api: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.id == 123456  # taken from the token, like Telegram
    assert me.username == "digitbot_test_bot"
    assert me.can_join_groups is True
    assert fake_api.token == TOKEN
    assert fake_api.calls_for("getMe")[-1].token == TOKEN


async def test_send_message_records_decoded_params(fake_api: FakeBotAPI, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="again")]])
    first = await bot.send_message(chat_id=DEFAULT_CHAT_ID, text="42", reply_markup=keyboard)
    second = await bot.send_message(chat_id=DEFAULT_CHAT_ID, text="true")

    calls = fake_api.calls_for("sendMessage")
    assert [c.params["text"] for c in calls] == ["42", "true"]  # strings stay strings
    assert calls[0].params["chat_id"] == DEFAULT_CHAT_ID
    assert calls[0].params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Again", "callback_data": "again"}]]
    }
    assert first.text == "42"
    assert first.chat.id == DEFAULT_CHAT_ID
    assert first.chat.type == "private"
    assert first.from_user is not None and first.from_user.is_bot
    assert first.reply_markup == keyboard
    assert second.message_id == first.message_id + 1

    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(chat_id=DEFAULT_CHAT_ID, text="x" * 4097)


async def test_send_photo_multipart(fake_api: FakeBotAPI, bot: Bot) -> None:
    png = _png(400, 300)
    message = await bot.send_photo(chat_id=DEFAULT_CHAT_ID, photo=png, caption="which digit?")

    [call] = fake_api.calls_for("sendPhoto")
    assert call.files["photo"] == png
    # PTB names raw-bytes uploads after their (unguessed) mime type: application.octet-stream.
    assert call.file_names["photo"] and call.file_mime_types["photo"]
    assert call.params == {"chat_id": DEFAULT_CHAT_ID, "caption": "which digit?"}
    assert message.caption == "which digit?"
    assert [(p.width, p.height) for p in message.photo] == [(90, 68), (320, 240), (400, 300)]
    largest = await (await bot.get_file(message.photo[-1].file_id)).download_as_bytearray()
    assert bytes(largest) == png


async def test_send_media_group_attachments(fake_api: FakeBotAPI, bot: Bot) -> None:
    images = [_png(20, 20, seed) for seed in range(3)]
    media = [
        InputMediaPhoto(images[0], caption="first"),
        InputMediaPhoto(images[1]),
        InputMediaPhoto(images[2]),
    ]
    messages = await bot.send_media_group(chat_id=DEFAULT_CHAT_ID, media=media)

    [call] = fake_api.calls_for("sendMediaGroup")
    items = call.params["media"]
    assert len(call.files) == 3
    assert [item["media"].startswith("attach://") for item in items] == [True] * 3
    assert [call.attachment(item["media"]) for item in items] == images
    assert len(messages) == 3
    assert len({m.media_group_id for m in messages}) == 1
    assert messages[0].caption == "first"
    assert all(m.photo for m in messages)


async def test_send_chat_action(fake_api: FakeBotAPI, bot: Bot) -> None:
    assert await bot.send_chat_action(chat_id=DEFAULT_CHAT_ID, action=ChatAction.TYPING)
    assert fake_api.calls_for("sendChatAction")[0].params["action"] == "typing"
    with pytest.raises(BadRequest):
        await bot.send_chat_action(chat_id=DEFAULT_CHAT_ID, action="dancing")


async def test_set_and_get_my_commands(fake_api: FakeBotAPI, bot: Bot) -> None:
    commands = [BotCommand("start", "Start the bot"), BotCommand("help", "How to use me")]
    assert await bot.set_my_commands(commands)
    assert await bot.get_my_commands() == tuple(commands)
    assert fake_api.commands() == [
        {"command": "start", "description": "Start the bot"},
        {"command": "help", "description": "How to use me"},
    ]
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Start", "uppercase is invalid")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_get_file_and_download(fake_api: FakeBotAPI, bot: Bot) -> None:
    data = b"\x00\xffbinary\r\n--not-a-boundary\r\n"
    file_id = fake_api.add_file(data, file_path="photos/digit.jpg")

    tg_file = await bot.get_file(file_id)
    assert tg_file.file_size == len(data)
    assert tg_file.file_path is not None and tg_file.file_path.endswith("photos/digit.jpg")
    assert bytes(await tg_file.download_as_bytearray()) == data
    assert fake_api.downloads == ["photos/digit.jpg"]

    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("no-such-file")
    huge = fake_api.add_file(b"tiny", file_size=25 * 1024 * 1024)
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(huge)


@pytest.mark.slow  # a real long poll
async def test_get_updates_offset_and_long_poll(fake_api: FakeBotAPI, bot: Bot) -> None:
    first = fake_api.send_text("/start")
    second = fake_api.send_text("hello")

    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    assert updates[0].message is not None and updates[0].message.text == "/start"
    assert updates[0].message.entities[0].type == "bot_command"
    assert updates[1].effective_user is not None
    assert updates[1].effective_user.id == DEFAULT_USER_ID

    # Confirming via offset drops the first update for good.
    updates = await bot.get_updates(offset=first["update_id"] + 1, timeout=0)
    assert [u.update_id for u in updates] == [second["update_id"]]
    assert len(fake_api.pending_updates) == 1

    started = time.monotonic()
    assert await bot.get_updates(offset=second["update_id"] + 1, timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2.5
    assert fake_api.pending_updates == []

    # A long-poll returns as soon as an update arrives.
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake_api.await_for(lambda _calls: fake_api.waiting_polls == 1, timeout=5)
    started = time.monotonic()
    third = fake_api.send_text("wake up")
    assert [u.update_id for u in await poll] == [third["update_id"]]
    assert time.monotonic() - started < 1.0


async def test_newer_get_updates_terminates_older(fake_api: FakeBotAPI, bot: Bot) -> None:
    async with Bot(TOKEN, base_url=fake_api.base_url) as other:
        pending = asyncio.create_task(bot.get_updates(timeout=10))
        await fake_api.await_for(lambda _calls: fake_api.waiting_polls == 1, timeout=5)
        assert await other.get_updates(timeout=0) == ()
        with pytest.raises(Conflict):
            await pending


async def test_fail_next_injects_errors(
    fake_api: FakeBotAPI, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Opt in to timedelta retry_after; the int form emits a deprecation warning in PTB 22.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake_api.fail_next("sendMessage", status=429, retry_after=1)
    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(chat_id=DEFAULT_CHAT_ID, text="flood")
    assert excinfo.value.retry_after == dtm.timedelta(seconds=1)

    fake_api.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(chat_id=DEFAULT_CHAT_ID, text="boom")

    assert (await bot.send_message(chat_id=DEFAULT_CHAT_ID, text="ok")).text == "ok"
    assert len(fake_api.calls_for("sendMessage")) == 3  # failed calls are recorded too

    fake_api.delay_next("sendMessage", 2.0)
    with pytest.raises(TimedOut):
        await bot.send_message(chat_id=DEFAULT_CHAT_ID, text="slow", read_timeout=0.2)


async def test_unknown_method_and_case_insensitivity(fake_api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{fake_api.base_url}{TOKEN}/noSuchMethod")
    assert response.status_code == 404
    assert response.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    me = await bot.do_api_request("GETME")
    assert isinstance(me, dict) and me["username"] == "digitbot_test_bot"
    assert fake_api.calls[-1].method == "getMe"


def test_body_formats_are_parsed(fake_api: FakeBotAPI) -> None:
    url = f"{fake_api.base_url}{TOKEN}"
    blob = b"\r\n--boundary-lookalike\r\n\x00\xff"
    with httpx.Client() as client:
        json_reply = client.post(f"{url}/sendMessage", json={"chat_id": 7, "text": "j"})
        form_reply = client.post(f"{url}/sendMessage", data={"chat_id": "7", "text": "123"})
        multipart_reply = client.post(
            f"{url}/sendDocument",
            data={"chat_id": "7", "caption": "007"},
            files={"document": ('we"ird name.bin', blob, "application/x-digits")},
        )
    assert json_reply.json()["ok"] and form_reply.json()["ok"] and multipart_reply.json()["ok"]
    json_call, form_call, multipart_call = fake_api.calls
    assert json_call.params == {"chat_id": 7, "text": "j"}
    assert form_call.params == {"chat_id": 7, "text": "123"}
    assert multipart_call.params == {"chat_id": 7, "caption": "007"}
    assert multipart_call.files == {"document": blob}
    assert multipart_call.file_names == {"document": 'we"ird name.bin'}
    document = multipart_reply.json()["result"]["document"]
    assert document["file_name"] == 'we"ird name.bin'
    assert document["mime_type"] == "application/x-digits"
    assert document["file_size"] == len(blob)


async def test_callback_query_and_edit_flow(fake_api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(chat_id=DEFAULT_CHAT_ID, text="Is it a 7?")
    fake_api.send_callback_query("yes", message_id=sent.message_id)
    [update] = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None and query.data == "yes"
    assert query.message is not None and query.message.message_id == sent.message_id

    assert await bot.answer_callback_query(query.id, text="Thanks!")
    edited = await bot.edit_message_text("Great, a 7.", DEFAULT_CHAT_ID, sent.message_id)
    assert isinstance(edited, type(sent)) and edited.text == "Great, a 7."
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("Great, a 7.", DEFAULT_CHAT_ID, sent.message_id)


def test_update_builders_shape(fake_api: FakeBotAPI) -> None:
    photo = fake_api.send_photo([(b"small", 90, 90), (b"big", 640, 640)], caption="c")
    sizes = photo["message"]["photo"]
    assert [(s["width"], s["file_size"]) for s in sizes] == [(90, 5), (640, 3)]
    assert fake_api.get_stored_file(sizes[-1]["file_id"]).data == b"big"

    document = fake_api.send_document(b"%PDF", "scan.pdf", file_size=30_000_000)
    assert document["message"]["document"]["mime_type"] == "application/pdf"
    assert document["message"]["document"]["file_size"] == 30_000_000

    assert fake_api.send_sticker()["message"]["sticker"]["type"] == "regular"
    assert fake_api.send_voice(duration=3)["message"]["voice"]["duration"] == 3
    group = fake_api.send_text("/digit@digitbot_test_bot 7", chat_id=-1001234)
    assert group["message"]["chat"]["type"] == "supergroup"
    assert group["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 24}]
    raw = fake_api.enqueue_update({"update_id": 999_999, "message": group["message"]})
    assert fake_api.send_text("after")["update_id"] > raw["update_id"]
    ids = [u["update_id"] for u in fake_api.pending_updates]
    assert ids == sorted(ids) and len(ids) == 7


def test_stop_is_quick_while_long_poll_pending() -> None:
    api = FakeBotAPI().start()
    outcome: list[object] = []

    def long_poll() -> None:
        url = f"{api.base_url}{TOKEN}/getUpdates?timeout=30"
        with urllib.request.urlopen(url, timeout=40) as response:
            outcome.append(json.loads(response.read()))

    poller = threading.Thread(target=long_poll)
    poller.start()
    api.wait_for(lambda _calls: api.waiting_polls == 1, timeout=5)
    started = time.monotonic()
    api.stop()
    assert time.monotonic() - started < 1.5
    poller.join(timeout=5)
    # The released poll is answered in full before the connections are cut.
    assert not poller.is_alive() and outcome == [{"ok": True, "result": []}]
    assert not api.running


async def test_wait_for_calls_times_out_with_listing(fake_api: FakeBotAPI, bot: Bot) -> None:
    await bot.send_chat_action(DEFAULT_CHAT_ID, ChatAction.TYPING)
    with pytest.raises(AssertionError, match=r"(?s)1 x sendMessage.*sendChatAction"):
        await fake_api.await_calls("sendMessage", timeout=0.1)
    with pytest.raises(AssertionError, match="getMe"):
        fake_api.wait_for_calls("sendPhoto", timeout=0.05)


async def test_application_polling_echo(fake_api: FakeBotAPI) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(f"echo: {update.message.text}")

    app = _build_app(fake_api)
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        fake_api.send_text("hello bot")
        [reply] = await fake_api.await_calls("sendMessage", 1, timeout=5)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    assert reply.params == {"chat_id": DEFAULT_CHAT_ID, "text": "echo: hello bot"}
    assert reply.token == TOKEN
    assert fake_api.calls_for("deleteWebhook")  # polling bootstrap
    assert fake_api.pending_updates == []  # the shutdown getUpdates confirmed the offset


async def test_application_webhook(fake_api: FakeBotAPI) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("Send me a digit")

    port = _free_port()
    webhook_url = f"http://127.0.0.1:{port}/hook"
    app = _build_app(fake_api)
    app.add_handler(CommandHandler("start", start))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="hook",
        webhook_url=webhook_url,
        secret_token="s3cret-Token_1",
    )
    try:
        assert fake_api.webhook["url"] == webhook_url
        assert fake_api.webhook["secret_token"] == "s3cret-Token_1"
        update = fake_api.send_text("/start")
        assert await fake_api.post_update_to_webhook(webhook_url, update, "wrong") == 403
        assert len(fake_api.pending_updates) == 1
        assert await fake_api.post_update_to_webhook(webhook_url, update, "s3cret-Token_1") == 200
        [reply] = await fake_api.await_calls("sendMessage", 1, timeout=5)
        assert fake_api.pending_updates == []
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert reply.params["text"] == "Send me a digit"
    with pytest.raises(Conflict, match="webhook is active"):
        async with Bot(TOKEN, base_url=fake_api.base_url) as bot:
            await bot.get_updates(timeout=0)


async def test_dropped_connections_download_faults_and_call_status(
    fake_api: FakeBotAPI, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    fake_api.drop_next("sendMessage")
    with pytest.raises(NetworkError, match="RemoteProtocolError"):
        await bot.send_message(chat_id=DEFAULT_CHAT_ID, text="lost")
    await bot.send_message(chat_id=DEFAULT_CHAT_ID, text="kept")
    assert [(c.status, c.ok) for c in fake_api.calls_for("sendMessage")] == [
        (0, False),
        (200, True),
    ]

    tg_file = await bot.get_file(fake_api.add_file(b"bytes", file_path="photos/a.jpg"))
    fake_api.fail_next(DOWNLOAD, 500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await tg_file.download_as_bytearray()
    fake_api.drop_next(DOWNLOAD)
    with pytest.raises(NetworkError):
        await tg_file.download_as_bytearray()
    fake_api.delay_next(DOWNLOAD, 2.0)
    with pytest.raises(TimedOut):
        await tg_file.download_as_bytearray(read_timeout=0.2)
    assert bytes(await tg_file.download_as_bytearray()) == b"bytes"
    assert fake_api.downloads[-1] == "photos/a.jpg"
