"""The hand-made fast paths of reading a photo give what the library calls they replace."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from model.ink import (
    DIGIT_TALL,
    LIGHT_INK_FRACTION,
    LIGHT_REACH,
    LIGHT_SPAN,
    MIN_WEAK_INK,
    ONE_DIGIT_WIDE,
    PIECE_SHARE,
    STRONG_INK,
    WEAK_INK_FRACTION,
    _closing,
    _quantiles,
    _upsampled,
    grown,
    ink_labels,
)
from model.normalize import sheared
from model.pipeline import digit_options
from model.recognize import CUT_PENALTY, Recognizer
from tests.digit_photos import PhotoMaker


def test_quantiles_match_numpys_percentile() -> None:
    rng = np.random.default_rng(0)
    for size in (1, 2, 7, 4800):
        values = rng.random(size).astype(np.float32)
        fractions = (0.0, 0.005, 0.5, 0.9, 0.995, 1.0)
        np.testing.assert_allclose(
            _quantiles(values, fractions), np.percentile(values, [100 * f for f in fractions])
        )


@pytest.mark.parametrize(("shape", "coarse"), [((240, 320), (60, 80)), ((241, 317), (31, 40))])
def test_upsampling_matches_pillows_bilinear_resize(
    shape: tuple[int, int], coarse: tuple[int, int]
) -> None:
    small = np.random.default_rng(1).random(coarse).astype(np.float32)
    pillow = Image.fromarray(small, "F").resize(shape[::-1], Image.Resampling.BILINEAR)
    np.testing.assert_allclose(_upsampled(small, shape), np.asarray(pillow), atol=1e-6)


def test_closing_matches_scipys_grey_filters() -> None:
    rng = np.random.default_rng(4)
    for size in (1, 3, 7, 15, 31):
        for shape in ((60, 80), (5, 40), (33, 2)):
            image = rng.random(shape).astype(np.float32)
            expected = ndimage.minimum_filter(
                ndimage.maximum_filter(image, size, mode="nearest"), size, mode="nearest"
            )
            np.testing.assert_array_equal(_closing(image, size), expected)


def test_shear_matches_scipys_affine_transform() -> None:
    rng = np.random.default_rng(2)
    for _ in range(50):
        h, w = rng.integers(1, 70), rng.integers(1, 60)
        ink = (rng.random((h, w)) * (rng.random((h, w)) < 0.3)).astype(np.float32)
        shear, ybar, pad = rng.uniform(-1, 1), rng.uniform(0, h), int(rng.integers(1, 40))
        expected = ndimage.affine_transform(
            ink,
            np.array([[1.0, 0.0], [shear, 1.0]]),
            np.array([0.0, -pad - shear * ybar]),
            output_shape=(h, w + 2 * pad),
            order=1,
        )
        np.testing.assert_allclose(sheared(ink, shear, ybar, pad), expected, atol=1e-6)


def test_growing_matches_binary_dilation() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        mask = rng.random(tuple(rng.integers(1, 30, 2))) < 0.1
        np.testing.assert_array_equal(grown(mask), ndimage.binary_dilation(mask))


def _strokes_of_the_whole_image(ink: np.ndarray) -> np.ndarray:
    """`ink_labels` by its rule, written plainly, on the whole image."""
    eight = np.ones((3, 3), bool)
    strong = ink >= STRONG_INK
    level = float(np.percentile(ink[strong], 90))
    weak = ink >= max(MIN_WEAK_INK, WEAK_INK_FRACTION * level)
    light = ink >= max(MIN_WEAK_INK, LIGHT_INK_FRACTION * level)
    strokes, count = ndimage.label(weak, structure=eight)
    kept = [k for k in range(1, count + 1) if strong[strokes == k].any()]
    # Light ink however far from darker ink, in a stroke of a digit's size inside the frame
    # that reaches beyond LIGHT_REACH.
    boxes = {k: ndimage.find_objects((strokes == k).astype(int))[0] for k in kept}
    height = {k: boxes[k][0].stop - boxes[k][0].start for k in kept}
    inside = [k for k in kept if not _at_border(boxes[k], ink.shape)]
    tallest = max((height[k] for k in inside or kept), default=0)
    near = ndimage.binary_dilation(weak | strong, iterations=LIGHT_REACH)
    near_light, _ = ndimage.label(light & near, structure=eight)
    lighter = np.zeros(ink.shape, bool)
    every_light, every_count = ndimage.label(light, structure=eight)
    for n in range(1, every_count + 1):
        part = every_light == n
        (box,) = ndimage.find_objects(part.astype(int))
        box_height, box_width = box[0].stop - box[0].start, box[1].stop - box[1].start
        tall = [k for k in kept if part[strokes == k].all() and height[k] >= DIGIT_TALL * tallest]
        # Two of a digit's height: one digit's pieces only if narrow and apart in near light.
        one_digit = len(tall) <= 1 or (
            len(tall) == 2
            and box_width <= ONE_DIGIT_WIDE * box_height
            and len({int(near_light[strokes == k].max()) for k in tall}) == 2
        )
        if (
            strong[part].any()
            and (part & ~near).any()
            and one_digit
            and max(box_height, box_width) <= LIGHT_SPAN * tallest
            and not _at_border(box, ink.shape)
        ):
            lighter |= part
    light &= near | lighter
    strength = {k: int(strong[strokes == k].sum()) for k in kept}
    most = max(strength.values(), default=0)
    lights, light_count = ndimage.label(light, structure=eight)
    expected = np.zeros(ink.shape, np.int64)
    for n in range(1, light_count + 1):
        inside = lights == n
        if not strong[inside].any():
            continue
        own = [k for k in kept if inside[strokes == k].all()]
        sized = [k for k in own if strength[k] >= PIECE_SHARE * most]
        if len(sized) <= 1 or lighter[inside].any():
            expected[inside] = n
        else:
            for k in own:
                expected[strokes == k] = light_count + k
    # The light ink right beside a stroke is its edge.
    expected[ndimage.binary_dilation(weak) & ~weak] = 0
    return expected


def _at_border(box: tuple[slice, slice], shape: tuple[int, ...]) -> bool:
    rows, cols = box
    return bool(
        rows.start == 0 or cols.start == 0 or rows.stop == shape[0] or cols.stop == shape[1]
    )


def test_labelling_the_inked_window_matches_labelling_the_whole_image() -> None:
    rng = np.random.default_rng(4)
    for _ in range(40):
        ink = np.zeros((120, 160), np.float32)
        for _ in range(rng.integers(1, 4)):
            y, x = rng.integers(0, 100), rng.integers(0, 140)
            ink[y : y + 20, x : x + 20] += rng.random((20, 20)) * (rng.random((20, 20)) < 0.5)
        labels = ink_labels(np.minimum(ink, 1.0))
        expected = _strokes_of_the_whole_image(np.minimum(ink, 1.0))
        np.testing.assert_array_equal(labels > 0, expected > 0)
        # The same pieces: one label here for each label there.
        pairs = np.unique(np.stack([labels[labels > 0], expected[labels > 0]]), axis=1)
        assert len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]
        # Numbered from 1 without gaps.
        assert labels.max() == len(np.unique(labels[labels > 0]))


def test_skipping_cuts_that_cannot_win_changes_no_reading(
    recognizer: Recognizer, photo: PhotoMaker
) -> None:
    for digits, step in (([4, 7], 0.6), ([3], 1.0), ([2, 0], 0.7), ([8], 1.0)):
        for options in digit_options(photo(digits, height=0.4, step=step)):
            chosen = recognizer._most_convincing(options)
            scored = recognizer._scored(options)
            best = max(
                range(len(scored)),
                key=lambda rank: scored[rank][0] - (CUT_PENALTY if rank else 0.0),
            )
            assert [r.digit for r in chosen] == [r.digit for r in scored[best][1]]


def test_a_clear_digit_is_not_cut_to_be_read_again(
    recognizer: Recognizer, photo: PhotoMaker
) -> None:
    # A wide 0 may be two digits by shape, but its reading as one is convincing.
    ((whole, *cuts),) = digit_options(photo([0], height=0.4))
    assert cuts
    assert [r.digit for r in recognizer._most_convincing([whole, *cuts])] == [0]
    assert all("digits" not in vars(cut) for cut in cuts)
