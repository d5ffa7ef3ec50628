"""Training variants: a thin pen's line, and the skeleton the photo benchmark draws pens along."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from training.augment import skeleton, varied_glyph


def _upright_one() -> np.ndarray:
    glyph = np.zeros((28, 28), np.float32)
    glyph[4:24, 13:16] = 1.0
    return glyph


def stroke_width(ink: np.ndarray) -> float:
    """The pen width in pixels: twice the mean distance to paper along stroke centres."""
    inked = ink > 0.5
    depth = ndimage.distance_transform_edt(inked)
    centres = inked & (depth >= ndimage.grey_dilation(depth, size=(3, 3)))
    return float(2.0 * depth[centres].mean())


def test_stroke_width_is_the_pen_width() -> None:
    assert 2.0 <= stroke_width(np.pad(_upright_one(), 8)) <= 4.5


def test_skeleton_is_the_centre_line() -> None:
    bar = np.zeros((20, 30), bool)
    bar[5:12, 3:27] = True
    line = skeleton(bar)
    assert line.any() and not (line & ~bar).any()
    assert (line.sum(axis=0) <= 1).all()  # one pixel across the bar
    assert np.flatnonzero(line.any(axis=0)).size >= 15  # and most of its length


def test_a_thin_pen_follows_the_stroke() -> None:
    # Of 40 seeds' variants, those that are a thin pen's line.
    one = np.pad(_upright_one(), 8)
    lines = []
    for seed in range(40):
        ink = varied_glyph(one, np.random.default_rng(seed))
        if ink.shape != (52, 52):  # drawn at three times the resolution
            lines.append(ink)
    assert lines
    for ink in lines:
        assert ink.max() == 1.0
        # Thinner than the stroke was (3 px, 9 px at three times the resolution).
        assert 2.0 <= stroke_width(ink) < 9.0


def test_variants_are_repeatable_from_the_seed() -> None:
    one = np.pad(_upright_one(), 8)
    first = varied_glyph(one, np.random.default_rng(7))
    np.testing.assert_array_equal(first, varied_glyph(one, np.random.default_rng(7)))
    assert first.min() >= 0.0 and first.max() <= 1.0
