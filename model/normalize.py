"""Stage 5 of reading a photo, and of making training data: NIST's normalization to 8x8.

The training data (`load_digits`) was made by NIST's normalizer: crop to the ink, scale width to
20 and height to 32 independently, centre in 32x32, normalize the stroke width by the number of
ink pixels, then count the ink in 4x4 blocks. Photos only look like the training data if they go
through the same steps, so this module reproduces them and is used for training data too.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage

# NIST's box: width 20 and height 32, centred in 32x32; ink-pixel count kept in [256, 412].
BOX_W, BOX_H, FRAME = 20, 32, 32
MIN_INK, MAX_INK = 256, 412


def deslanted(ink: np.ndarray) -> np.ndarray:
    """Shear the ink so that its main axis is vertical, as NIST's slant correction does."""
    weights = np.asarray(ink, dtype=np.float64)
    rows = weights.sum(axis=1)
    total = float(rows.sum())
    if total <= 0:
        return ink
    # The moments from the ink's row sums and one matrix product, not from coordinate images.
    ys = np.arange(ink.shape[0], dtype=np.float64)
    xs = np.arange(ink.shape[1], dtype=np.float64)
    ybar = float(ys @ rows / total)
    xbar = float(xs @ weights.sum(axis=0) / total)
    mu02 = float((ys - ybar) ** 2 @ rows)
    mu11 = float((ys - ybar) @ weights @ (xs - xbar))
    if mu02 <= 0:
        return ink
    shear = float(np.clip(mu11 / mu02, -1.0, 1.0))
    if abs(shear) < 0.02:
        return ink
    return sheared(ink, shear, ybar, pad=math.ceil(abs(shear) * ink.shape[0] / 2) + 1)


def sheared(ink: np.ndarray, shear: float, ybar: float, pad: int) -> np.ndarray:
    """Shift each row by `shear` per row from `ybar`, widened by `pad` on both sides.

    Output pixel (y, x) samples input (y, x - pad + shear * (y - ybar)), linearly between the
    two nearest pixels of its row; outside the row it is paper. Rows only shift, so this is
    `ndimage.affine_transform(..., order=1)` at a fraction of its cost.
    """
    h, w = ink.shape
    ys = np.arange(h, dtype=np.float64)
    source = np.arange(w + 2 * pad) + (shear * (ys - ybar) - pad)[:, np.newaxis]
    left = np.clip(source.astype(np.intp), 0, max(w - 2, 0))
    fraction = source - left
    flat = np.ravel(ink)
    index = left + (np.arange(h) * w)[:, np.newaxis]
    a = flat.take(index)
    out = a + (flat.take(np.minimum(index + 1, flat.size - 1)) - a) * fraction
    out[(source < 0) | (source > w - 1)] = 0.0
    return np.asarray(out.astype(ink.dtype, copy=False))


def to_optdigits_grid(ink: np.ndarray) -> np.ndarray:
    """Normalize one digit's ink (float, ink high) to an 8x8 grid of 0..16 ink counts.

    The caller passes the ink of exactly one digit; slant is corrected here.
    """
    return optdigits_grid_and_aspect(ink)[0]


def optdigits_grid_and_aspect(ink: np.ndarray) -> tuple[np.ndarray, float]:
    """Return the 8x8 grid of one digit's ink and the width/height of its deslanted ink.

    The aspect ratio is what the normalization throws away (every digit is stretched to the
    same box), and what tells a single digit from two squeezed together.
    """
    frame, aspect = bitmap_and_aspect(ink)
    return frame.reshape(8, 4, 8, 4).sum(axis=(1, 3)).astype(np.int64), aspect


def bitmap_and_aspect(ink: np.ndarray) -> tuple[np.ndarray, float]:
    """The 32x32 binary bitmap of one digit's ink, slant corrected, and its deslanted aspect:
    what the 8x8 grid counts in 4x4 blocks."""
    ink = np.asarray(ink, dtype=np.float32)
    if ink.shape[0] > 2 * FRAME:
        # Twice the frame's resolution is plenty for the 32x32 bitmap, and much cheaper.
        h, w = ink.shape
        size = (max(1, round(w * 2 * FRAME / h)), 2 * FRAME)
        ink = np.asarray(Image.fromarray(ink, "F").resize(size, Image.Resampling.BILINEAR))
    return frame_and_aspect(deslanted(ink))


def frame_and_aspect(ink: np.ndarray) -> tuple[np.ndarray, float]:
    """Return the 32x32 binary bitmap NIST's normalizer would make, and the ink's aspect."""
    frame = np.zeros((FRAME, FRAME), dtype=bool)
    if ink.size == 0 or float(ink.max()) <= 0:
        return frame, 1.0
    level = float(ink.max())
    rows = np.flatnonzero(ink.max(axis=1) > 0.25 * level)
    cols = np.flatnonzero(ink.max(axis=0) > 0.25 * level)
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] / level
    h, w = crop.shape
    # A narrow digit (a plain "1") keeps a narrow shape instead of being stretched into a block.
    width = int(np.clip(round(2.0 * BOX_H * w / h), 1, BOX_W))
    scaled = np.asarray(
        Image.fromarray(crop.astype(np.float32), "F").resize(
            (width, BOX_H), Image.Resampling.BILINEAR
        )
    )
    left = (FRAME - width) // 2
    frame[:, left : left + width] = _stroke_normalized(scaled)
    return frame, w / h


def _stroke_normalized(scaled: np.ndarray) -> np.ndarray:
    """Binarize so that the ink-pixel count lands in NIST's range, thinning or thickening."""
    bitmap = scaled > 0.35
    count = int(bitmap.sum())
    if count > MAX_INK:
        # Thinner strokes: keep only the strongest pixels, like an erosion keeps stroke centres.
        threshold = np.partition(scaled.ravel(), -MAX_INK)[-MAX_INK]
        bitmap = scaled >= max(threshold, 0.35)
        if int(bitmap.sum()) > MAX_INK:
            eroded = ndimage.binary_erosion(bitmap)
            bitmap = eroded if eroded.sum() >= MIN_INK else bitmap
    elif count < MIN_INK:
        positive = scaled[scaled > 0.08]
        if positive.size >= MIN_INK:
            threshold = np.partition(positive, -MIN_INK)[-MIN_INK]
            bitmap = scaled >= threshold
        else:
            bitmap = scaled > 0.08
        for _ in range(3):
            if int(bitmap.sum()) >= MIN_INK:
                break
            bitmap = ndimage.binary_dilation(bitmap)
    return bitmap
