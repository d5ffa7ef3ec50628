"""Training variants: a flag on the 1, a crossbar through the 7, a thin pen's line."""

from __future__ import annotations

import numpy as np
import pytest

from model.augment import (
    crossed_seven,
    european_glyph,
    flagged_one,
    skeleton,
    stroke_width,
    varied_glyph,
)


def _upright_one() -> np.ndarray:
    glyph = np.zeros((28, 28), np.float32)
    glyph[4:24, 13:16] = 1.0
    return glyph


def _seven() -> np.ndarray:
    glyph = np.zeros((28, 28), np.float32)
    glyph[4:7, 8:21] = 1.0  # the top bar
    for row in range(7, 24):  # the stem, leaning left as it goes down
        column = 20 - (row - 7) // 3
        glyph[row, column - 1 : column + 2] = 1.0
    return glyph


def test_stroke_width_is_the_pen_width() -> None:
    assert 2.0 <= stroke_width(np.pad(_upright_one(), 8)) <= 4.5


def test_flag_adds_ink_only_at_the_top_left() -> None:
    glyph = _upright_one()
    for seed in range(20):
        flagged = flagged_one(glyph, np.random.default_rng(seed))
        before = np.pad(glyph, 8)
        added = (flagged > 0.5) & ~(before > 0.5)
        rows, cols = np.nonzero(added)
        assert rows.size > 0
        # Ink the flag adds lies left of the stem, above 60 % of the height (it reaches at most
        # 45 % of the height down); a base bar, if any, lies on the bottom rows.
        flag = rows < 8 + 4 + 12
        assert flag.any()
        assert cols[flag].max() <= 8 + 16
        assert cols[flag].min() < 8 + 13, "the flag reaches left of the stem"
        assert (rows[~flag] >= 8 + 20).all()
        np.testing.assert_array_equal(np.minimum(flagged, before), before)


def test_crossbar_goes_through_the_middle_of_the_seven() -> None:
    crossed = crossed_seven(_seven(), np.random.default_rng(0))
    added = (crossed > 0.5) & ~(np.pad(_seven(), 8) > 0.5)
    rows, cols = np.nonzero(added)
    assert rows.size > 0
    assert rows.min() >= 8 + 10 and rows.max() <= 8 + 19
    assert cols.max() - cols.min() >= 4, "a bar across the stem, not a dot"


def test_european_glyph_is_deterministic_and_leaves_other_digits() -> None:
    glyph = _upright_one()
    first = european_glyph(glyph, 1, np.random.default_rng(3), share=1.0)
    again = european_glyph(glyph, 1, np.random.default_rng(3), share=1.0)
    np.testing.assert_array_equal(first, again)
    assert first.sum() > glyph.sum()
    assert european_glyph(glyph, 4, np.random.default_rng(3), share=1.0) is glyph
    assert european_glyph(glyph, 1, np.random.default_rng(3), share=0.0) is glyph


def test_no_share_draws_no_random_numbers() -> None:
    """With the share at 0 the training set is exactly the one made before this option."""
    rng = np.random.default_rng(5)
    european_glyph(_upright_one(), 1, rng, share=0.0)
    assert rng.random() == np.random.default_rng(5).random()


def test_skeleton_is_the_centre_line() -> None:
    bar = np.zeros((20, 30), bool)
    bar[5:12, 3:27] = True
    line = skeleton(bar)
    assert line.any() and not (line & ~bar).any()
    assert (line.sum(axis=0) <= 1).all()  # one pixel across the bar
    assert np.flatnonzero(line.any(axis=0)).size >= 15  # and most of its length


def test_a_thin_pen_follows_the_stroke_however_it_is_made() -> None:
    # Of 40 seeds' variants, those that are a thin pen's line.
    one = np.pad(_upright_one(), 8)
    for thin_pen in ("eroded", "skeleton"):
        lines = []
        for seed in range(40):
            ink = varied_glyph(one, np.random.default_rng(seed), thin_pen)
            if ink.shape != (52, 52):  # drawn at three times the resolution
                lines.append(ink)
        assert lines
        for ink in lines:
            assert ink.max() == 1.0
            # Thinner than the stroke was (3 px, 9 px at three times the resolution).
            assert 2.0 <= stroke_width(ink) < 9.0


def test_an_unknown_thin_pen_is_refused() -> None:
    one = np.pad(_upright_one(), 8)
    with pytest.raises(ValueError, match="skelton"):
        for seed in range(40):  # some of them draw a thin pen's line
            varied_glyph(one, np.random.default_rng(seed), "skelton")
