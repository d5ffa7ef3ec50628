"""Variations of training handwriting: rotation, elastic distortion, stroke width, thin pens.

Slant needs no variation: the normalization corrects it.

Photos differ from the training data in ways the normalization cannot undo entirely (a rotated
page, a ballpoint's thin stroke, a marker's blobs), so the model sees such variants in training.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def varied_glyph(glyph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return a randomly rotated and re-stroked copy of a glyph (ink 0..1, ink high)."""
    ink = np.pad(glyph.astype(np.float32), 4)
    angle = rng.uniform(-15.0, 15.0)
    ink = ndimage.rotate(ink, angle, reshape=False, order=1)
    if rng.random() < ELASTIC_SHARE:
        ink = elastic(ink, rng)
    stroke = rng.random()
    if stroke < 0.25:
        ink = ndimage.grey_dilation(ink, size=(2, 2))
    elif stroke < 0.45:
        # A thin pen line, at three times the resolution: what erosion leaves of the stroke.
        fine = ndimage.zoom(ink, 3, order=1)
        ink = ndimage.binary_erosion(fine > 0.6, iterations=2).astype(np.float32)
    return np.clip(ink, 0.0, 1.0)


def skeleton(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a binary image (vectorised): its strokes one pixel wide.

    The photo benchmark draws thin and felt pens along it (`bench.photos`).
    """
    img = np.pad(mask, 1).astype(np.uint8)
    for _ in range(100):
        changed = False
        for step in (0, 1):
            c = img[1:-1, 1:-1]
            ring = [
                img[:-2, 1:-1],
                img[:-2, 2:],
                img[1:-1, 2:],
                img[2:, 2:],
                img[2:, 1:-1],
                img[2:, :-2],
                img[1:-1, :-2],
                img[:-2, :-2],
            ]
            p2, _, p4, _, p6, _, p8, _ = ring
            b = np.zeros(c.shape, dtype=np.uint8)
            a = np.zeros(c.shape, dtype=np.uint8)
            for i in range(8):
                b += ring[i]
                a += (ring[i] == 0) & (ring[(i + 1) % 8] == 1)
            if step == 0:
                m = ((p2 & p4 & p6) == 0) & ((p4 & p6 & p8) == 0)
            else:
                m = ((p2 & p4 & p8) == 0) & ((p2 & p6 & p8) == 0)
            remove = (c == 1) & (b >= 2) & (b <= 6) & (a == 1) & m
            if remove.any():
                c[remove] = 0
                changed = True
        if not changed:
            break
    return img[1:-1, 1:-1].astype(bool)


ELASTIC_SHARE = 0.7
# Milder on load_digits' images: upsampled from 8x8, they have little detail to distort.
EIGHT_BY_EIGHT_ALPHA = 20.0


def elastic(
    ink: np.ndarray, rng: np.random.Generator, alpha: float = 34.0, sigma: float = 4.0
) -> np.ndarray:
    """Distort like a different hand would (Simard et al.'s elastic distortion for MNIST)."""
    h, w = ink.shape
    dy = ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)), sigma) * alpha
    dx = ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)), sigma) * alpha
    ys, xs = np.indices((h, w), dtype=np.float64)
    return np.asarray(ndimage.map_coordinates(ink, [ys + dy, xs + dx], order=1, mode="constant"))


def upsampled_grid(grid: np.ndarray) -> np.ndarray:
    """Return an 8x8 grid (0..16) as smooth 40x40 ink, so it can be varied like a glyph."""
    return np.asarray(ndimage.zoom(np.pad(grid.astype(np.float32) / 16.0, 1), 4, order=1))


def varied_grid_ink(grid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return a slightly rotated, often distorted 8x8 training grid as ink, to renormalize."""
    ink = ndimage.rotate(upsampled_grid(grid), rng.uniform(-10.0, 10.0), reshape=False, order=1)
    if rng.random() < ELASTIC_SHARE:
        ink = elastic(ink, rng, alpha=EIGHT_BY_EIGHT_ALPHA, sigma=5.0)
    return np.asarray(ink)


# European handwriting, for the digit/writing/mark check's training (`training.train_nondigit`).
# MNIST's writers (American) write 1 as a bare stroke and 7 without a
# crossbar; much of Europe writes 1 with a flag (a short stroke from the top down to the left)
# and crosses the 7. NIST's normalization stretches every digit to the same width, so a flagged
# 1 the model has never seen looks like a 7 to it. `european_glyph` adds those strokes.
FOOT_SHARE = 0.3  # of European 1s, those also given a base bar


def with_stroke(
    ink: np.ndarray, start: tuple[float, float], end: tuple[float, float], width: float
) -> np.ndarray:
    """Return `ink` with a straight pen stroke from `start` to `end` (row, column) drawn on it."""
    ys, xs = np.indices(ink.shape, dtype=np.float64)
    (y0, x0), (y1, x1) = start, end
    dy, dx = y1 - y0, x1 - x0
    along = np.clip(((ys - y0) * dy + (xs - x0) * dx) / max(dy * dy + dx * dx, 1e-9), 0.0, 1.0)
    distance = np.hypot(ys - y0 - along * dy, xs - x0 - along * dx)
    stroke = np.clip(width / 2.0 + 0.5 - distance, 0.0, 1.0)
    return np.asarray(np.maximum(ink, stroke.astype(ink.dtype)))


def stroke_width(ink: np.ndarray) -> float:
    """The glyph's pen width in pixels: twice the mean distance to paper along stroke centres."""
    inked = ink > 0.5
    if not inked.any():
        return 2.0
    depth = ndimage.distance_transform_edt(inked)
    centres = inked & (depth >= ndimage.grey_dilation(depth, size=(3, 3)))
    return float(2.0 * depth[centres].mean())


def _ink_rows_and_cols(inked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))


def flagged_one(glyph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return a 1 (ink 0..1) written the European way: a flag from its top down to the left.

    The flag's length, angle and width vary; one in `FOOT_SHARE` also gets a base bar.
    """
    ink = np.pad(glyph.astype(np.float32), 8)
    inked = ink > 0.5
    rows, _ = _ink_rows_and_cols(inked)
    if rows.size < 4:
        return ink
    top, bottom = int(rows[0]), int(rows[-1])
    height = bottom - top + 1
    width = stroke_width(ink) * rng.uniform(0.8, 1.1)
    tip = (top + width / 3.0, float(np.flatnonzero(inked[top]).mean()))
    length = rng.uniform(0.2, 0.45) * height
    angle = np.radians(rng.uniform(25.0, 60.0))  # below the horizontal
    end = (tip[0] + length * np.sin(angle), tip[1] - length * np.cos(angle))
    ink = with_stroke(ink, tip, end, width)
    if rng.random() < FOOT_SHARE:
        foot_y = bottom - width / 3.0
        foot_x = float(np.flatnonzero(inked[bottom]).mean())
        half = rng.uniform(0.15, 0.3) * height
        ink = with_stroke(ink, (foot_y, foot_x - half), (foot_y, foot_x + half), width)
    return ink


def crossed_seven(glyph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return a 7 (ink 0..1) with a short crossbar through the middle of its stem."""
    ink = np.pad(glyph.astype(np.float32), 8)
    inked = ink > 0.5
    rows, cols = _ink_rows_and_cols(inked)
    if rows.size < 4:
        return ink
    top, height = int(rows[0]), int(rows[-1] - rows[0] + 1)
    row = top + round(rng.uniform(0.45, 0.6) * (height - 1))
    stem = np.flatnonzero(inked[row])
    if stem.size == 0:
        return ink
    width = stroke_width(ink) * rng.uniform(0.8, 1.1)
    centre = float(stem.mean()) + rng.uniform(-0.1, 0.1) * (cols[-1] - cols[0])
    half = rng.uniform(0.2, 0.35) * (cols[-1] - cols[0] + 1)
    rise = np.tan(np.radians(rng.uniform(-10.0, 5.0))) * half  # often rising to the right
    return with_stroke(ink, (row - rise, centre - half), (row + rise, centre + half), width)


def european_glyph(
    glyph: np.ndarray, label: int, rng: np.random.Generator, share: float
) -> np.ndarray:
    """Write `share` of 1s and 7s the European way (see `flagged_one`, `crossed_seven`)."""
    if label not in (1, 7) or share <= 0.0 or rng.random() >= share:
        return glyph
    return flagged_one(glyph, rng) if label == 1 else crossed_seven(glyph, rng)
