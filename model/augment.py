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
    return ndimage.map_coordinates(ink, [ys + dy, xs + dx], order=1, mode="constant")


def upsampled_grid(grid: np.ndarray) -> np.ndarray:
    """Return an 8x8 grid (0..16) as smooth 40x40 ink, so it can be varied like a glyph."""
    return ndimage.zoom(np.pad(grid.astype(np.float32) / 16.0, 1), 4, order=1)


def varied_grid_ink(grid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return a slightly rotated, often distorted 8x8 training grid as ink, to renormalize."""
    ink = ndimage.rotate(upsampled_grid(grid), rng.uniform(-10.0, 10.0), reshape=False, order=1)
    if rng.random() < ELASTIC_SHARE:
        ink = elastic(ink, rng, alpha=EIGHT_BY_EIGHT_ALPHA, sigma=5.0)
    return ink
