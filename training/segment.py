"""Examples of what is and is not one whole digit, for the model that checks segmentation.

Touching digits are cut apart by trying several cuts and keeping the most convincing reading.
The digit classifier alone is a poor judge of that: it reads half a 2, or a 6 squeezed together
with a 2, as some digit with high confidence. A second, small classifier learns the difference
from examples made here: whole digits (label 1) against pairs squeezed into one box, fragments
of a digit cut at the wrong place, and stray strokes and blobs (label 0).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from training.augment import varied_glyph


def _ink_columns(glyph: np.ndarray) -> np.ndarray:
    return np.flatnonzero(glyph.max(axis=0) > 0.2)


def side_by_side(left: np.ndarray, right: np.ndarray, gap: int, dy: int) -> np.ndarray:
    """Write two glyphs next to each other, `gap` columns apart (negative: overlapping)."""
    lc, rc = _ink_columns(left), _ink_columns(right)
    if lc.size == 0 or rc.size == 0:
        return left if rc.size == 0 else right
    left = left[:, lc[0] : lc[-1] + 1]
    right = right[:, rc[0] : rc[-1] + 1]
    h = max(left.shape[0], right.shape[0]) + abs(dy)
    width = left.shape[1] + max(gap, -left.shape[1] // 2) + right.shape[1]
    canvas = np.zeros((h, max(width, left.shape[1], right.shape[1])), np.float32)
    top = max(0, -dy)
    canvas[top : top + left.shape[0], : left.shape[1]] = left
    start = canvas.shape[1] - right.shape[1]
    region = canvas[max(0, dy) : max(0, dy) + right.shape[0], start:]
    np.maximum(region, right, out=region)
    return canvas


def fragment(glyph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A digit cut at the wrong place: keep one side of a vertical cut through its middle."""
    cols = _ink_columns(glyph)
    if cols.size < 4:
        return glyph
    cut = int(rng.uniform(0.3, 0.7) * (cols[-1] - cols[0])) + cols[0]
    part = glyph.copy()
    if rng.random() < 0.5:
        part[:, cut:] = 0
    else:
        part[:, :cut] = 0
    return part


def stray_marks(rng: np.random.Generator) -> np.ndarray:
    """A scribble that is no digit: a blob, a line, a dot cluster or a short curve."""
    canvas = np.zeros((28, 28), np.float32)
    kind = rng.integers(4)
    if kind == 0:
        yy, xx = np.mgrid[:28, :28]
        ry, rx = rng.uniform(4, 12, 2)
        canvas = (((yy - 14) / ry) ** 2 + ((xx - 14) / rx) ** 2 <= 1).astype(np.float32)
    elif kind == 1:
        angle = rng.uniform(0, np.pi)
        t = np.linspace(-10, 10, 80)
        ys, xs = 14 + t * np.sin(angle), 14 + t * np.cos(angle)
        canvas[ys.astype(int).clip(0, 27), xs.astype(int).clip(0, 27)] = 1.0
    elif kind == 2:
        for y, x in rng.integers(2, 26, (int(rng.integers(3, 9)), 2)):
            canvas[y - 1 : y + 2, x - 1 : x + 2] = 1.0
    else:
        t = np.linspace(0, rng.uniform(1, 3), 60)
        r = rng.uniform(5, 10)
        ys, xs = 14 + r * np.sin(t), 14 + r * np.cos(t)
        canvas[ys.astype(int).clip(0, 27), xs.astype(int).clip(0, 27)] = 1.0
    return np.asarray(ndimage.grey_dilation(canvas, size=(2, 2)))


def segmentation_examples(
    glyphs: np.ndarray, rng: np.random.Generator, count: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """Return `count` ink images and labels: 1 for one whole digit, 0 for anything else."""
    inks: list[np.ndarray] = []
    labels = []
    for _ in range(count):
        a, b = glyphs[rng.integers(len(glyphs), size=2)]
        roll = rng.random()
        if roll < 0.4:
            ink, label = varied_glyph(a, rng), 1
            if rng.random() < 0.3:
                # A correct cut through touching digits leaves a sliver of the neighbour.
                sliver = b[:, _ink_columns(b)[:3]] if _ink_columns(b).size >= 3 else b[:, :0]
                ink = side_by_side(ink, sliver, gap=0, dy=0) if sliver.size else ink
        elif roll < 0.7:
            gap = int(rng.integers(-4, 3))
            ink, label = side_by_side(a, b, gap, int(rng.integers(-3, 4))), 0
        elif roll < 0.93:
            ink, label = fragment(varied_glyph(a, rng), rng), 0
        else:
            ink, label = stray_marks(rng), 0
        inks.append(ink)
        labels.append(label)
    return inks, np.array(labels)
