"""Stage 1 of reading a photo: image bytes → grey values 0..1 at the analysis resolution.

Refuses what is not an image (`NotAnImage`) or would be a decompression bomb (`ImageTooLarge`),
applies the EXIF rotation, lays transparency over white and scales the long side near
`WORK_SIDE`.
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from model.errors import ImageTooLarge, NotAnImage

ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "GIF"})
# A legal 8000x6000 photo is fine (JPEG decodes it at reduced scale); a PNG that declares
# 50,000 x 50,000 pixels is a decompression bomb and is refused before decoding.
MAX_PIXELS = 64_000_000
# Long side, in pixels, at which photos are analysed. A digit a tenth of the photo's height
# is then still about 50 px tall, enough for the 32x32 normalization.
WORK_SIDE = 640
MIN_WORK_SIDE = 96


def decode_grey(data: bytes, work_side: int = WORK_SIDE) -> tuple[np.ndarray, float]:
    """Decode image bytes to grey values 0..1 with the long side near `work_side`.

    Returns the grey image and the factor from analysis pixels to original pixels.
    """
    try:
        with warnings.catch_warnings():
            # The pixel count is checked below, against our own, lower limit.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge("the image declares far too many pixels") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise NotAnImage("not an image in a format I can read") from exc
    if img.format not in ACCEPTED_FORMATS:
        raise NotAnImage(f"{img.format} images are not supported")
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(f"{width}x{height} pixels is more than {MAX_PIXELS:,}")
    try:
        if img.format in ("JPEG", "MPO"):
            # Decoding at 1/2, 1/4 or 1/8 scale skips most of the JPEG's work.
            scale = work_side / max(width, height)
            img.draft("L", (math.ceil(width * scale), math.ceil(height * scale)))
        ImageOps.exif_transpose(img, in_place=True)
        grey = _grey_image(img)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise NotAnImage("the image data is damaged or truncated") from exc
    orig_long = max(width, height)
    long_side = max(grey.size)
    target = min(work_side, max(long_side, MIN_WORK_SIDE))
    if long_side != target:
        factor = target / long_side
        new_size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
        grey = grey.resize(new_size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = np.asarray(grey, dtype=np.float32) / np.float32(255.0)
    return pixels, orig_long / max(grey.size)


def _grey_image(img: Image.Image) -> Image.Image:
    """Return an 8-bit grey image, with transparency flattened onto white paper."""
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(img, dtype=np.float64)
        top = 65535.0 if values.max() > 255 else 255.0
        return Image.fromarray(np.clip(values / top * 255.0, 0, 255).astype(np.uint8), "L")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if not has_alpha:
        return img.convert("L")
    rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3]
    luma = rgba[..., 0] * 0.299 + rgba[..., 1] * 0.587 + rgba[..., 2] * 0.114
    over_white = luma * alpha + (1.0 - alpha)
    if over_white.std() < 0.02 < alpha.std():
        # Light ink on a transparent background: the alpha channel is the drawing.
        over_white = 1.0 - alpha
    return Image.fromarray((over_white * 255.0 + 0.5).astype(np.uint8), "L")
