"""The whole-digit check's examples, and how touching digits are cut and chosen."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from model.cuts import cut_apart, digit_counts, stroke_columns, strokes
from model.network import Network
from model.pipeline import digit_options
from model.recognize import Recognizer, probabilities
from tests.digit_photos import PhotoMaker, encode
from training.segment import segmentation_examples, side_by_side


def test_side_by_side_is_wider_than_either() -> None:
    a = np.zeros((28, 28), np.float32)
    a[4:24, 10:18] = 1
    pair = side_by_side(a, a, gap=2, dy=0)
    assert pair.shape[1] == 8 + 2 + 8


def test_side_by_side_with_an_empty_glyph_returns_the_other() -> None:
    a = np.zeros((28, 28), np.float32)
    a[4:24, 10:18] = 1
    assert side_by_side(a, np.zeros_like(a), gap=0, dy=0) is a


def test_examples_have_both_labels() -> None:
    rng = np.random.default_rng(0)
    glyphs = rng.random((5, 28, 28)).astype(np.float32) * (rng.random((5, 28, 28)) > 0.7)
    inks, labels = segmentation_examples(glyphs, rng, 200)
    assert len(inks) == 200
    assert 0.2 < labels.mean() < 0.8


def test_digit_counts_by_shape() -> None:
    assert digit_counts((0, 0, 10, 100))[0] == 1  # a narrow 1
    assert digit_counts((0, 0, 70, 100))[0] == 1
    assert digit_counts((0, 0, 300, 100))[0] == 4 or digit_counts((0, 0, 300, 100))[0] == 3
    # A 2 with a long sweep can be twice as wide as tall: one digit stays an option, last.
    assert digit_counts((0, 0, 210, 100))[-1] == 1
    assert digit_counts((0, 0, 400, 100))[0] == 4


def test_cut_apart_cuts_at_the_thin_join() -> None:
    own = np.zeros((40, 60), bool)
    own[:, 0:25] = True
    own[18:20, 25:35] = True  # a thin bridge between two blocks
    own[:, 35:60] = True
    parts = cut_apart((100, 10, 160, 50), own, 2)
    assert len(parts) == 2
    (left, _), (right, _) = parts
    assert left[0] == 100 and right[2] == 160
    assert 120 <= left[2] <= 140


def test_side_by_side_strokes_are_likeliest_that_many_digits() -> None:
    # A 1 close beside a 4 is narrower than most single digits, yet two strokes side by side.
    assert digit_counts((0, 0, 70, 100), strokes=2)[0] == 2
    assert 3 in digit_counts((0, 0, 120, 100), strokes=3)


def test_stroke_columns_finds_tall_strokes_side_by_side() -> None:
    bars = np.zeros((40, 30), bool)
    bars[:, 2:6] = True
    bars[:, 20:24] = True
    bars[20:22, 9:14] = True  # a short dash between them, not a digit of its own
    assert [(x0, x1) for x0, x1, _ in stroke_columns(strokes(bars))] == [(2, 6), (20, 24)]
    # A 4 in two strokes: the bar of the first crosses under the second, so they are one digit.
    four = np.zeros((40, 30), bool)
    four[0:26, 0:4] = True
    four[22:26, 0:30] = True
    four[0:40, 20:24] = True
    four[22:26, 20:24] = False
    four[21:27, 19:25] = False  # keep the two strokes apart
    assert len(stroke_columns(strokes(four))) == 1


def test_cut_apart_keeps_separate_strokes_whole() -> None:
    own = np.zeros((40, 60), bool)
    own[:, 0:6] = True
    own[0:4, 0:36] = True  # a flag reaching over the middle, beyond any cut near it
    own[8:40, 30:36] = True  # a second stroke, below the flag and apart from it
    own[6:40, 50:56] = True
    parts = cut_apart((0, 0, 60, 40), own, 3)
    assert len(parts) == 3
    # The flag stays with its stroke; the stroke under it is a part of its own.
    assert parts[0][0] == (0, 0, 36, 40)
    assert parts[1][0] == (30, 8, 36, 40)


def _stretched_photo(glyph: np.ndarray, stretch: float) -> bytes:
    """A photo of one glyph written `stretch` times as wide as tall."""
    h = 300
    w = int(h * stretch)
    alpha = np.asarray(Image.fromarray((glyph * 255).astype(np.uint8)).resize((w, h))) / 255.0
    canvas = np.full((960, 1280), 225.0)
    y, x = (960 - h) // 2, (1280 - w) // 2
    canvas[y : y + h, x : x + w] = 225.0 * (1 - alpha) + 30.0 * alpha
    return encode(Image.fromarray(canvas.astype(np.uint8)).convert("RGB"))


def test_a_wide_digit_in_one_stroke_is_not_cut(
    recognizer: Recognizer, glyphs: dict[int, np.ndarray]
) -> None:
    photo = _stretched_photo(glyphs[2], 1.6)
    (options,) = digit_options(photo)
    # Cutting one stroke into two digits is possible, but pays for slicing it.
    assert all(option.sliced == 1 for option in options if len(option.parts) == 2)
    assert recognizer.read(photo).text == "2"


@pytest.mark.parametrize("digits", [[5, 1], [0, 1], [9, 1]])
def test_digits_written_close_are_read_apart(
    recognizer: Recognizer, photo: PhotoMaker, digits: list[int]
) -> None:
    # Closer than the gap that joins a digit's broken strokes, but not touching.
    reading = recognizer.read(photo(digits, height=0.4, step=0.4))
    assert reading.text == "".join(map(str, digits))


def test_touching_digits_are_read_as_two(recognizer: Recognizer, photo: PhotoMaker) -> None:
    # Drawn with 60 % of a digit's width as spacing: neighbours overlap and touch.
    reading = recognizer.read(photo([4, 7], height=0.4, step=0.6))
    assert reading.text == "47"


def test_fast_probabilities_match_scikit_learns() -> None:
    rng = np.random.default_rng(0)
    grids = rng.integers(0, 17, (20, 64)).astype(np.float64)
    labels = np.arange(20) % 10
    for classes in (labels, labels % 2):  # softmax, and one logistic output for two classes
        estimator = MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=20, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(grids, classes)
        for weights in (estimator, Network.of(estimator)):
            np.testing.assert_allclose(
                probabilities(weights, grids), estimator.predict_proba(grids)
            )
    # Anything else (a Pipeline, another activation) is asked the usual way.
    pipeline = make_pipeline(FunctionTransformer(), estimator)
    np.testing.assert_allclose(probabilities(pipeline, grids), pipeline.predict_proba(grids))
