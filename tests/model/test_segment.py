"""The whole-digit check's examples, and how touching digits are cut and chosen."""

from __future__ import annotations

import numpy as np
from digit_photos import PhotoMaker
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from model.preprocess import cut_apart, digit_counts
from model.recognize import Recognizer, probabilities
from model.segment import segmentation_examples, side_by_side


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


def test_touching_digits_are_read_as_two(recognizer: Recognizer, photo: PhotoMaker) -> None:
    # Drawn with 60 % of a digit's width as spacing: neighbours overlap and touch.
    reading = recognizer.read(photo([4, 7], height=0.4, step=0.6))
    assert reading.text == "47"


def test_fast_probabilities_match_scikit_learns(recognizer: Recognizer) -> None:
    rng = np.random.default_rng(0)
    grids = rng.integers(0, 17, (20, 64)).astype(np.float64)
    features = rng.normal(size=(20, recognizer.verifier.coefs_[0].shape[0]))
    for estimator, x in ((recognizer.estimator, grids), (recognizer.verifier, features)):
        np.testing.assert_allclose(probabilities(estimator, x), estimator.predict_proba(x))
    # Anything else (a Pipeline, another activation) is asked the usual way.
    pipeline = make_pipeline(FunctionTransformer(), recognizer.estimator)
    np.testing.assert_allclose(probabilities(pipeline, grids), pipeline.predict_proba(grids))
