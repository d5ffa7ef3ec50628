"""Bad input, end to end: every odd thing a user can send gets a clear reply, and the bot goes on.

One row per input: how it is sent, and the answer expected (a text, a reading of the digits
shown, or silence where the bot deliberately ignores it — docs/behaviour.md says why). After each
one a plain photo must still be read, so no input leaves the bot broken.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bot import texts
from bot.services import MAX_SAMPLES
from bot.settings import Settings
from tests.bot.bot_harness import TOKEN, BotHarness
from tests.digit_photos import PhotoMaker, encode
from tests.fakebotapi import DOWNLOAD, FakeBotAPI

USAGE = texts.SAMPLE_USAGE.format(max_count=MAX_SAMPLES)
GROUP = -1_001_234_567_890
DOWNLOAD_TIMEOUT = 1.0


@pytest.fixture
def settings(fake_api: FakeBotAPI) -> Settings:
    """Short retry and download bounds, so a download that keeps failing is given up quickly."""
    return Settings.embedded(
        token=TOKEN,
        api_url=fake_api.url,
        api_retry_seconds=0.5,
        download_timeout=DOWNLOAD_TIMEOUT,
    )


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A few hundred bytes of PNG declaring width x height grey pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 8, 9)  # only the first rows: the rest is missing
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def grey(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("L")


def animated(photo: PhotoMaker, fmt: str) -> bytes:
    """Two frames, a 4 then a 7: the first frame is what counts."""
    first, second = (grey(photo([d], size=(640, 480))).convert("RGB") for d in (4, 7))
    return encode(first, fmt, save_all=True, append_images=[second], duration=200, loop=0)


def sixteen_bit(photo: PhotoMaker) -> bytes:
    values = np.asarray(grey(photo([2], size=(640, 480))), dtype=np.uint16) * 257
    return encode(Image.fromarray(values), "PNG")


def huge_jpeg(photo: PhotoMaker) -> bytes:
    """A legal 8000 x 6000 photo of a 3 (about 48 megapixels: below the limit of 64)."""
    big = grey(photo([3], size=(800, 600))).resize((8000, 6000), Image.Resampling.BILINEAR)
    return encode(big, "JPEG", quality=75)


def plain(colour: tuple[int, ...], mode: str = "RGB", size: tuple[int, int] = (640, 480)) -> bytes:
    return encode(Image.new(mode, size, colour), "PNG" if mode == "RGBA" else "JPEG")


def truncated(photo: PhotoMaker) -> bytes:
    data = photo([1])
    return data[: len(data) // 2]


def corrupted(photo: PhotoMaker) -> bytes:
    data = bytearray(photo([1]))
    data[600:4000] = bytes(range(256)) * 13 + bytes(72)  # scan data overwritten with noise
    return bytes(data)


Send = Callable[[BotHarness, FakeBotAPI, PhotoMaker], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """One row of the table: what the user sends and what they get back."""

    send: Send
    reply: str | None  # the exact text; "read N": a photo reading N; None: no answer at all
    downloads: bool = True  # whether the bot may fetch the file


def document(name: str, make: Callable[[PhotoMaker], bytes], **options: Any) -> Send:
    return lambda bot, api, photo: bot.document(make(photo), name, **options)


def photo_of(make: Callable[[PhotoMaker], bytes], **options: Any) -> Send:
    return lambda bot, api, photo: bot.photo(make(photo), **options)


def text(words: str, **options: Any) -> Send:
    return lambda bot, api, photo: bot.text(words, **options)


def raw(kind: str, **fields: Any) -> Send:
    return lambda bot, api, photo: bot.raw(kind, **fields)


def failing_download(fault: Callable[[FakeBotAPI], None]) -> Send:
    def send(bot: BotHarness, api: FakeBotAPI, photo: PhotoMaker) -> dict[str, Any]:
        fault(api)
        return bot.photo(photo([6]))

    return send


VIDEO = {
    "file_id": "BAACAgIAAxkFAKEVIDEO",
    "file_unique_id": "AgADvideo",
    "width": 640,
    "height": 480,
    "duration": 3,
}

CASES: dict[str, Case] = {
    # Files that are not (whole) images.
    "truncated JPEG": Case(document("digit.jpg", truncated), texts.NOT_AN_IMAGE),
    "corrupt JPEG": Case(document("digit.jpg", corrupted), texts.NOT_AN_IMAGE),
    "text named .jpg": Case(
        document("digit.jpg", lambda p: b"just some text\n"), texts.NOT_AN_IMAGE
    ),
    "empty .png": Case(document("digit.png", lambda p: b""), texts.NOT_AN_IMAGE),
    "PNG bomb 50,000 x 50,000": Case(
        document("bomb.png", lambda p: png_bomb()), texts.IMAGE_TOO_LARGE
    ),
    # Odd but legal images.
    "JPEG 8000 x 6000": Case(document("big.jpg", huge_jpeg), "read 3"),
    "PNG 1 x 1": Case(
        document("dot.png", lambda p: plain((0, 0, 0, 255), "RGBA", (1, 1))), texts.NO_DIGIT
    ),
    "animated GIF": Case(document("anim.gif", lambda p: animated(p, "GIF")), "read 4"),
    "animated WebP": Case(document("anim.webp", lambda p: animated(p, "WEBP")), "read 4"),
    "CMYK JPEG": Case(
        document("cmyk.jpg", lambda p: encode(grey(p([5])).convert("CMYK"), "JPEG")), "read 5"
    ),
    "16-bit grey PNG": Case(document("deep.png", sixteen_bit), "read 2"),
    "transparent PNG": Case(
        document("clear.png", lambda p: plain((0, 0, 0, 0), "RGBA")), texts.NO_DIGIT
    ),
    "all-black photo": Case(photo_of(lambda p: plain((0, 0, 0))), texts.NO_DIGIT),
    "all-white photo": Case(photo_of(lambda p: plain((255, 255, 255))), texts.NO_DIGIT),
    # Files refused, or lost on the way.
    "image file of 15 MB": Case(
        document("huge.jpg", lambda p: p([1]), file_size=15 * 2**20),
        texts.file_too_large(15 * 2**20, 10 * 2**20),
        downloads=False,
    ),
    "getFile keeps failing (500)": Case(
        failing_download(lambda api: api.fail_next("getFile", 500, count=2)), texts.DOWNLOAD_FAILED
    ),
    "file download 404": Case(
        failing_download(lambda api: api.fail_next(DOWNLOAD, 404)), texts.DOWNLOAD_FAILED
    ),
    "file download hangs": Case(
        failing_download(lambda api: api.delay_next(DOWNLOAD, DOWNLOAD_TIMEOUT + 5)),
        texts.DOWNLOAD_FAILED,
    ),
    # Messages that are not images.
    "text": Case(text("what is this?"), texts.TEXT_HINT),
    "sticker": Case(lambda bot, api, photo: bot.sticker(), texts.UNSUPPORTED),
    "voice": Case(lambda bot, api, photo: bot.voice(), texts.UNSUPPORTED),
    "video": Case(raw("message", video=VIDEO), texts.UNSUPPORTED),
    "location": Case(
        raw("message", location={"latitude": 52.5, "longitude": 13.4}), texts.UNSUPPORTED
    ),
    "contact": Case(
        raw("message", contact={"phone_number": "+100", "first_name": "A"}), texts.UNSUPPORTED
    ),
    "edited message": Case(raw("edited_message", text="/start", edit_date=1_700_000_001), None),
    "channel post": Case(raw("channel_post", text="/start"), None),
    # Groups: commands and images are answered, chatter is not.
    "group: text": Case(text("lunch at noon?", chat_id=GROUP), None),
    "group: sticker": Case(
        lambda bot, api, photo: api.send_sticker(chat_id=GROUP, user_id=777), None
    ),
    "group: command": Case(text("/help@digitbot_test_bot", chat_id=GROUP), texts.HELP),
    "group: photo": Case(lambda bot, api, photo: bot.photo(photo([8]), chat_id=GROUP), "read 8"),
    # /sample with absurd arguments.
    "/sample huge number": Case(text("/sample 99999999999999999999999"), USAGE),
    "/sample 5,000 digits": Case(text("/sample " + "9" * 5000), USAGE),
    "/sample negative count": Case(text("/sample 3 -2"), USAGE),
    "/sample 1000 arguments": Case(text("/sample " + " ".join(["7"] * 1000)), USAGE),
    "/sample count over 10": Case(text("/sample 3 11"), USAGE),
    "/sample letters": Case(text("/sample seven"), USAGE),
    "/sample Arabic-Indic ٣": Case(text("/sample ٣ 1"), "sample 3"),
    "/sample full-width ７": Case(text("/sample ７ 1"), "sample 7"),
}


def check_reply(answer: Any, expected: str) -> None:
    if expected.startswith("read "):
        assert answer.method == "sendPhoto", answer.describe()
        assert answer.params["caption"].startswith(f"I read: {expected.removeprefix('read ')} (")
    elif expected.startswith("sample "):
        assert answer.method == "sendPhoto", answer.describe()
        assert answer.params["caption"] == texts.sample_caption(
            int(expected.removeprefix("sample "))
        )
    else:
        assert answer.method == "sendMessage", answer.describe()
        assert answer.params["text"] == expected


@pytest.mark.parametrize("name", list(CASES))
async def test_bad_input_gets_a_clear_reply_and_the_bot_goes_on(
    name: str, bot: BotHarness, fake_api: FakeBotAPI, photo: PhotoMaker
) -> None:
    case = CASES[name]
    update = case.send(bot, fake_api, photo)
    if case.reply is None:
        if update in bot.sent:
            bot.expect_no_answer(update)
        else:
            bot.ignored.append(update)
    else:
        check_reply(await bot.answer(update, timeout=15), case.reply)
    if not case.downloads:
        assert not fake_api.calls_for("getFile") and not fake_api.downloads

    after = bot.photo(photo([7]))
    check_reply(await bot.answer(after, timeout=15), "read 7")
    # The fixture checks that the input got exactly the one answer (or none), on teardown.
