"""End to end in polling mode: the real Application long-polls the fake Bot API over HTTP."""

from __future__ import annotations

import re

import pytest

from bot import handlers, texts
from bot.services import DEFAULT_SAMPLES, MAX_SAMPLES, Services
from tests.bot.bot_harness import BotHarness, png_size, upload
from tests.digit_photos import PhotoMaker, encode, words_page
from tests.fakebotapi import DOWNLOAD, Call, FakeBotAPI


async def test_commands_menu_is_published(bot: BotHarness, fake_api: FakeBotAPI) -> None:
    assert fake_api.commands() == [
        {"command": name, "description": description} for name, description in texts.COMMANDS
    ]
    assert len(fake_api.calls_for("setMyCommands")) == 1
    assert fake_api.description() == texts.DESCRIPTION
    assert fake_api.description(short=True) == texts.SHORT_DESCRIPTION


async def test_start_and_help(bot: BotHarness) -> None:
    start, help_ = bot.text("/start"), bot.text("/help")
    assert (await bot.answer(start)).params["text"] == texts.START
    assert (await bot.answer(help_)).params["text"] == texts.HELP


async def test_sample_sends_an_album_of_labelled_pngs(bot: BotHarness) -> None:
    answer = await bot.answer(bot.text("/sample"))

    assert answer.method == "sendMediaGroup"
    media = answer.params["media"]
    assert len(media) == DEFAULT_SAMPLES
    for item in media:
        assert item["type"] == "photo"
        assert re.fullmatch(r"This is an 8|This is a [0-79]", item["caption"])
        width, height = png_size(answer.attachment(item["media"]))
        assert min(width, height) >= 200  # drawn large enough to see the 8x8 cells on a phone


async def test_sample_of_one_digit(bot: BotHarness) -> None:
    answer = await bot.answer(bot.text("/sample 7"))

    assert answer.method == "sendMediaGroup"
    assert [item["caption"] for item in answer.params["media"]] == ["This is a 7"] * 5


async def test_sample_of_one_image_is_a_single_photo(bot: BotHarness) -> None:
    update = bot.text("/sample 7 1")
    answer = await bot.answer(update)

    assert answer.method == "sendPhoto"
    assert answer.params["caption"] == "This is a 7"
    png_size(upload(answer, "photo"))
    assert bot.calls_in(update, "sendChatAction")[0].params["action"] == "upload_photo"


@pytest.mark.parametrize("args", ["x", "3 99", "10", "3 0", "1 2 3", "-1"])
async def test_sample_with_bad_arguments_shows_usage(bot: BotHarness, args: str) -> None:
    answer = await bot.answer(bot.text(f"/sample {args}"))

    assert answer.method == "sendMessage"
    assert answer.params["text"] == texts.SAMPLE_USAGE.format(max_count=MAX_SAMPLES)


async def test_accuracy_sends_the_confusion_matrix(bot: BotHarness, services: Services) -> None:
    answer = await bot.answer(bot.text("/accuracy"))

    assert answer.method == "sendPhoto"
    width, height = png_size(upload(answer, "photo"))
    assert width > 500 and height > 500
    caption = answer.params["caption"]
    assert f"{services.evaluation.accuracy:.1%}" in caption
    assert "797" in caption
    for digit in range(10):
        assert re.search(rf"^{digit}: \d+% / \d+%$", caption, re.MULTILINE)


@pytest.mark.parametrize("digit", [3, 7])
async def test_photo_of_a_digit_is_read(bot: BotHarness, photo: PhotoMaker, digit: int) -> None:
    update = bot.photo(photo([digit]))
    answer = await bot.answer(update)

    assert answer.method == "sendPhoto"
    assert answer.params["caption"].startswith(f"I read: {digit} (")
    width, height = png_size(upload(answer, "photo"))
    assert height > width / 2  # one column: the crop above its 8x8 grid
    # A quick answer needs no "sending a photo…" first (Telegram asks for it only when slow).
    assert bot.calls_in(update, "sendChatAction") == []


async def test_a_slow_answer_shows_the_upload_action_meanwhile(
    bot: BotHarness, photo: PhotoMaker, fake_api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "CHAT_ACTION_AFTER", 0.2)
    fake_api.delay_next(DOWNLOAD, 0.6)
    update = bot.photo(photo([4]))
    answer = await bot.answer(update)

    assert answer.params["caption"].startswith("I read: 4 (")
    [action] = bot.calls_in(update, "sendChatAction")
    assert action.params["action"] == "upload_photo"
    assert action.time <= answer.time


async def test_photo_of_a_number_is_read_left_to_right(
    bot: BotHarness, photo: PhotoMaker, fake_api: FakeBotAPI
) -> None:
    answer = await bot.answer(bot.photo(photo([4, 0, 7])))

    assert answer.method == "sendPhoto"
    caption = answer.params["caption"]
    assert caption.startswith("I read: 407")
    assert re.search(r"^1\. 4 \(\d+%\)", caption, re.MULTILINE)
    assert re.search(r"^3\. 7 \(\d+%\)", caption, re.MULTILINE)
    width, height = png_size(upload(answer, "photo"))
    assert width > height  # three columns side by side
    # The analysis needs about 640 px: the 800 px size is enough, the 1280 px one is not fetched.
    [download] = fake_api.downloads
    assert (
        fake_api.get_stored_file(fake_api.calls_for("getFile")[0].params["file_id"]).file_path
        == download
    )


async def test_blank_photo_gets_the_tips(bot: BotHarness, photo: PhotoMaker) -> None:
    answer = await bot.answer(bot.photo(photo([])))

    assert answer.method == "sendMessage"
    assert answer.params["text"] == texts.NO_DIGIT


async def test_photo_of_words_is_answered_as_writing(bot: BotHarness) -> None:
    answer = await bot.answer(bot.photo(encode(words_page())))

    assert answer.method == "sendMessage"
    assert answer.params["text"] == texts.WRITING


async def test_image_sent_as_a_file_is_read_like_a_photo(
    bot: BotHarness, photo: PhotoMaker
) -> None:
    image = photo([5], fmt="PNG")
    as_photo = await bot.answer(bot.photo(image))
    as_file = await bot.answer(bot.document(image, "five.png"))

    assert as_file.method == as_photo.method == "sendPhoto"
    assert as_file.params["caption"].startswith("I read: 5 (")
    assert as_photo.params["caption"].startswith("I read: 5 (")
    png_size(upload(as_file, "photo"))


async def test_jpeg_with_an_octet_stream_type_is_read(bot: BotHarness, photo: PhotoMaker) -> None:
    answer = await bot.answer(
        bot.document(photo([2]), "scan.JPG", mime_type="application/octet-stream")
    )
    assert answer.params["caption"].startswith("I read: 2 (")


async def test_pdf_says_what_the_bot_reads(bot: BotHarness, fake_api: FakeBotAPI) -> None:
    answer = await bot.answer(bot.document(b"%PDF-1.7\n", "digits.pdf"))

    assert answer.params["text"] == texts.UNSUPPORTED
    assert not fake_api.calls_for("getFile")


async def test_file_over_the_limit_is_refused_unread(
    bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker
) -> None:
    size = 15 * 2**20
    answer = await bot.answer(bot.document(photo([1]), "huge.jpg", file_size=size))

    assert answer.params["text"] == texts.FILE_TOO_LARGE.format(size_mb=15.0, limit_mb=10)
    assert not fake_api.calls_for("getFile")
    assert not fake_api.downloads


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("hello, can you read this?", texts.TEXT_HINT),
        ("407", texts.TEXT_HINT),
        ("/frobnicate", texts.UNKNOWN_COMMAND),
        ("/START", texts.START),
        ("/help@digitbot_test_bot", texts.HELP),
    ],
)
async def test_text_gets_a_hint(bot: BotHarness, text: str, reply: str) -> None:
    assert (await bot.answer(bot.text(text))).params["text"] == reply


async def test_sticker_and_voice_say_what_the_bot_reads(bot: BotHarness) -> None:
    sticker, voice = bot.sticker(), bot.voice()
    assert (await bot.answer(sticker)).params["text"] == texts.UNSUPPORTED
    assert (await bot.answer(voice)).params["text"] == texts.UNSUPPORTED


async def test_failed_download_is_explained(
    bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker
) -> None:
    fake_api.fail_next("getFile", status=400, description="Bad Request: file is temporarily gone")
    answer = await bot.answer(bot.photo(photo([8])))

    assert answer.params["text"] == texts.DOWNLOAD_FAILED
    assert not fake_api.downloads


async def test_file_that_is_not_an_image_is_explained(bot: BotHarness) -> None:
    answer = await bot.answer(bot.document(b"this is not a JPEG at all", "digit.jpg"))
    assert answer.params["text"] == texts.NOT_AN_IMAGE


async def test_many_updates_at_once_are_each_answered_once(
    bot: BotHarness, photo: PhotoMaker
) -> None:
    image = photo([6])
    updates = [bot.photo(image) for _ in range(6)] + [bot.text("/start"), bot.sticker()]
    for update in updates:
        await bot.answer(update)
    # The fixture checks on teardown that each of them got exactly one answer.


@pytest.mark.slow  # real timers
async def test_photos_sent_together_show_the_upload_action_once(
    bot: BotHarness, photo: PhotoMaker, fake_api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "CHAT_ACTION_AFTER", 0.2)
    fake_api.delay_next(DOWNLOAD, 0.6, count=3)
    image = photo([5])
    for _ in range(3):
        fake_api.send_photo(image, user_id=4242)

    def three_answers(_calls: list[Call]) -> list[Call] | None:
        answers = [call for call in fake_api.calls_for("sendPhoto") if call.ok]
        return answers if len(answers) >= 3 else None

    answers = await fake_api.await_for(three_answers)
    assert [a.params["chat_id"] for a in answers] == [4242] * 3
    # Telegram shows the action for 5 s: once covers all three.
    assert len(fake_api.calls_for("sendChatAction")) == 1


async def test_chat_action_failure_does_not_cost_the_answer(
    bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "CHAT_ACTION_AFTER", 0.1)
    fake_api.delay_next(DOWNLOAD, 0.5)
    fake_api.fail_next("sendChatAction", status=500)
    update = bot.photo(photo([9]))
    answer = await bot.answer(update)
    assert answer.params["caption"].startswith("I read: 9 (")
    [failed] = bot.calls_in(update, "sendChatAction")
    assert failed.status == 500


async def test_in_groups_only_commands_and_images_are_answered(
    bot: BotHarness, photo: PhotoMaker
) -> None:
    groups = iter(range(-1_001_000_000_001, -1_001_000_000_100, -1))
    for chatter in (
        bot.text("nice weather today", chat_id=next(groups)),
        bot.text("/othercommand@some_other_bot", chat_id=next(groups)),
        bot.document(b"%PDF-1.7\n", "minutes.pdf", chat_id=next(groups)),
    ):
        bot.expect_no_answer(chatter)
    start = bot.text("/start@digitbot_test_bot", chat_id=next(groups))
    reading = bot.photo(photo([1]), chat_id=next(groups))

    assert (await bot.answer(start)).params["text"] == texts.START
    answer = await bot.answer(reading)
    assert answer.params["caption"].startswith("I read: 1 (")
    assert answer.params["reply_parameters"]["message_id"] == reading["message"]["message_id"]


async def test_service_messages_and_edits_get_no_answer(bot: BotHarness) -> None:
    bot.expect_no_answer(
        bot.raw("message", message_auto_delete_timer_changed={"message_auto_delete_time": 86400})
    )
    bot.expect_no_answer(
        bot.raw(
            "message",
            pinned_message={"message_id": 5, "date": 0, "chat": {"id": 1, "type": "private"}},
        )
    )
    bot.expect_no_answer(bot.raw("edited_message", text="/start", edit_date=1_700_000_001))
    bot.expect_no_answer(bot.raw("channel_post", text="/start"))
    after = bot.text("/help")
    await bot.answer(after)  # the updates before it were fetched, so they had their chance
