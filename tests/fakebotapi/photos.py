"""Telegram's photo sizes, emulated once for the fake server and the benchmarks.

Telegram keeps every photo at several sizes: copies whose long side is 90, 320 and 800 px, then
the photo itself. The fake server offers an uploaded photo that way, and the benchmarks
(`bench.accuracy`, `bench.bot_latency`, `bench.load`) read the size the bot would download.
"""

from __future__ import annotations

import io
import struct

from PIL import Image

# The longest sides of the smaller copies Telegram makes of a photo.
TELEGRAM_SIDES = (90, 320, 800)
# The JPEG quality of those copies.
QUALITY = 87


def resized_jpeg(jpeg: bytes, long_side: int) -> bytes:
    """Return the photo downscaled to `long_side` and re-encoded, as Telegram's sizes are."""
    image: Image.Image = Image.open(io.BytesIO(jpeg))
    if max(image.size) <= long_side:
        return jpeg
    if image.mode not in ("RGB", "L"):  # a PNG with alpha or a palette: JPEG has neither
        image = image.convert("RGB")
    image.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def telegram_sizes(data: bytes) -> list[tuple[bytes, int, int]]:
    """The photo as Telegram offers it, as (bytes, width, height): smaller copies, then itself.

    An image that cannot be decoded is offered as it is, at the size its header gives (0x0
    without one), so the bot meets the bytes it was sent.
    """
    data = bytes(data)
    size = image_size(data) or _decoded_size(data)
    if size is None:
        return [(data, 0, 0)]
    width, height = size
    longest = max(width, height)
    sizes = []
    for side in TELEGRAM_SIDES:
        if side < longest:
            scaled = (max(1, round(width * side / longest)), max(1, round(height * side / longest)))
            try:
                smaller = resized_jpeg(data, side)
            except Exception:  # not decodable: the original bytes at the smaller size
                sizes.append((data, *scaled))
                continue
            sizes.append((smaller, *(image_size(smaller) or scaled)))
    sizes.append((data, width, height))
    return sizes


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, BMP or JPEG from its header, without decoding it."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(int(width)), abs(int(height))
    if data.startswith(b"\xff\xd8"):
        pos = 2
        while pos + 9 < len(data):
            if data[pos] != 0xFF:
                pos += 1
                continue
            marker = data[pos + 1]
            if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD8:
                pos += 1 if marker == 0xFF else 2
                continue
            (segment_length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return int(width), int(height)
            pos += 2 + int(segment_length)
    return None


def _decoded_size(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return int(image.width), int(image.height)
    except Exception:
        return None
