"""Tests for the synthetic phone-photo renderer used by the accuracy benchmark."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from bench import photos
from bench.photos import (
    BASIC,
    BLANK_CONDITIONS,
    COMBINED,
    CONDITIONS,
    HELDOUT,
    Condition,
    bench_cases,
    get_condition,
    heldout_digits,
    heldout_indices,
    render_blank,
    render_digits,
)

SMALL = (640, 480)  # renders at a quarter of the default area keep the tests fast


def _gray(jpeg: bytes) -> np.ndarray:
    im = Image.open(io.BytesIO(jpeg))
    assert im.format == "JPEG"
    return np.asarray(im.convert("L"), dtype=np.float32)


def _dark_fraction(gray: np.ndarray) -> float:
    """Fraction of pixels much darker than their surroundings (ink-like strokes)."""
    local = ndimage.uniform_filter(gray, 3)  # suppress single-pixel noise
    background = ndimage.gaussian_filter(gray, 15)
    return float(np.mean(local < 0.6 * background))


@pytest.fixture(scope="module")
def glyphs() -> np.ndarray:
    return heldout_digits()[0][:40]


def test_registry_has_the_required_conditions() -> None:
    required = {
        "plain-black",
        "plain-blue",
        "thin-ballpoint",
        "felt-pen",
        "marker",
        "pencil",
        "grid-paper",
        "ruled-paper",
        "gradient",
        "shadow",
        "dim",
        "small",
        "off-centre",
        "rotated",
        "slanted",
        "specks-and-edges",
    }
    assert required <= set(CONDITIONS)
    assert set(BASIC) <= set(CONDITIONS)
    assert all(name == cond.name for name, cond in CONDITIONS.items())
    assert get_condition("wall") is BLANK_CONDITIONS["wall"]
    # Combined hazards are found by name but stay out of "all" and its figures.
    assert get_condition("pencil-shadow") is COMBINED["pencil-shadow"]
    assert COMBINED["pencil-shadow"].lighting == "shadow"
    assert COMBINED["pencil-shadow"].grain == CONDITIONS["pencil"].grain
    assert not set(COMBINED) & set(CONDITIONS)
    with pytest.raises(KeyError, match="unknown condition"):
        get_condition("no-such-condition")
    with pytest.raises(ValueError):
        Condition("bad", stroke="crayon")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Condition("bad", rotation=(5.0, -5.0))
    with pytest.raises(ValueError):
        Condition("bad", mark="star")  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "where"), [("underlined", "below"), ("boxed", "around")])
def test_marks_are_drawn_in_ink_outside_the_digits_boxes(
    glyphs: np.ndarray, name: str, where: str
) -> None:
    plain = replace(COMBINED[name], mark="none")
    marked, boxes = render_digits([glyphs[0], glyphs[1]], COMBINED[name], np.random.default_rng(4))
    bare, same = render_digits([glyphs[0], glyphs[1]], plain, np.random.default_rng(4))
    assert boxes == same
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    difference = (
        np.abs(
            np.asarray(Image.open(io.BytesIO(marked)).convert("L"), np.float32)
            - np.asarray(Image.open(io.BytesIO(bare)).convert("L"), np.float32)
        )
        > 60
    )
    # The same photo but for the mark: it differs only where the mark is, darkly.
    below = difference[y1:, x0:x1].any()
    above = difference[:y0, x0:x1].any()
    assert below and above == (where == "around")


def test_heldout_only() -> None:
    assert np.array_equal(heldout_indices(), np.arange(5000)[HELDOUT])
    x, y = heldout_digits()
    assert x.shape == (len(heldout_indices()), 28, 28) and y.shape == (len(x),)
    assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0
    allowed = set(heldout_indices().tolist())
    _, labels = photos._mnist()
    for kind in ("single", "number"):
        for case in bench_cases(kind, 4, seed=3, conditions=["small"]):
            assert case.indices and set(case.indices) <= allowed
            assert case.label == "".join(str(labels[i]) for i in case.indices)
            assert len(case.boxes) == len(case.label)
    blank = next(bench_cases("blank", 1, seed=3, conditions=["small"]))
    assert blank.label == "" and blank.indices == () and blank.boxes == ()


def test_same_seed_same_bytes(glyphs: np.ndarray) -> None:
    cond = replace(CONDITIONS["specks-and-edges"], size=SMALL)
    a = render_digits([glyphs[0], glyphs[1]], cond, np.random.default_rng(11))
    b = render_digits([glyphs[0], glyphs[1]], cond, np.random.default_rng(11))
    c = render_digits([glyphs[0], glyphs[1]], cond, np.random.default_rng(12))
    assert a == b
    assert a[0] != c[0]
    first = next(bench_cases("number", 1, seed=5, conditions=["small"]))
    longer = list(bench_cases("number", 3, seed=5, conditions=["small"]))
    assert len(longer) == 3 and longer[0] == first  # case i does not depend on n


@pytest.mark.parametrize("size", [(640, 480), (480, 640), (1280, 960)])
def test_jpeg_of_requested_size(glyphs: np.ndarray, size: tuple[int, int]) -> None:
    cond = replace(CONDITIONS["plain-blue"], size=size)
    jpeg, boxes = render_digits([glyphs[2]], cond, np.random.default_rng(0))
    im = Image.open(io.BytesIO(jpeg))
    assert im.format == "JPEG" and im.mode == "RGB" and im.size == size
    assert len(boxes) == 1


@pytest.mark.parametrize("name", sorted(CONDITIONS))
def test_box_inside_and_ink_darker_than_paper(glyphs: np.ndarray, name: str) -> None:
    cond = replace(CONDITIONS[name], size=SMALL)
    w, h = SMALL
    for k in range(2):
        jpeg, boxes = render_digits([glyphs[k]], cond, np.random.default_rng(k))
        (box,) = boxes
        x0, y0, x1, y1 = box
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        gray = _gray(jpeg)
        ink = np.percentile(gray[y0:y1, x0:x1], 2)
        # Paper reference: a ring around the box.
        m = max(4, (y1 - y0) // 4)
        ring = np.zeros(gray.shape, dtype=bool)
        ring[max(0, y0 - m) : y1 + m, max(0, x0 - m) : x1 + m] = True
        ring[y0:y1, x0:x1] = False
        paper = np.median(gray[ring])
        assert ink < 0.7 * paper, (name, k, ink, paper)


@pytest.mark.parametrize("name", ["plain-black", "rotated", "marker"])
def test_number_boxes_left_to_right(glyphs: np.ndarray, name: str) -> None:
    cond = CONDITIONS[name]
    w, h = cond.size
    jpeg, boxes = render_digits(list(glyphs[5:9]), cond, np.random.default_rng(4))
    assert len(boxes) == 4
    centres = [(b[0] + b[2]) / 2 for b in boxes]
    assert centres == sorted(centres)
    for x0, y0, x1, y1 in boxes:
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert _dark_fraction(_gray(jpeg)) > 0.002  # the detector used below does see ink


@pytest.mark.parametrize(
    "name", ["plain-black", "grid-paper", "ruled-paper", "gradient", "shadow", "dim", "wall"]
)
def test_blank_has_no_dark_strokes(name: str) -> None:
    cond = replace(get_condition(name), size=SMALL, distractors=())
    for seed in range(2):
        jpeg = render_blank(cond, np.random.default_rng(seed))
        gray = _gray(jpeg)
        assert gray.shape == (SMALL[1], SMALL[0])
        assert _dark_fraction(gray) < 1e-4, name


def test_bench_cases_cycle_conditions_and_reject_unknown_kind() -> None:
    cases = list(bench_cases("blank", 3, seed=0, conditions=["grid-paper", "wall"]))
    assert [c.condition for c in cases] == ["grid-paper", "wall", "grid-paper"]
    assert len({c.name for c in cases}) == 3
    with pytest.raises(ValueError):
        next(bench_cases("poster", 1, seed=0))
    with pytest.raises(KeyError):
        next(bench_cases("single", 1, seed=0, conditions=["nope"]))


@pytest.mark.slow  # renders pages of words
@pytest.mark.parametrize("name", ["words-printed", "words-handwritten"])
def test_pages_of_words_hold_lines_of_ink_and_no_digit(name: str) -> None:
    cond = replace(get_condition(name), size=SMALL)
    jpeg = render_blank(cond, np.random.default_rng(0))
    gray = _gray(jpeg)
    rows = (gray < 0.6 * np.median(gray)).any(axis=1)
    # Two or more lines of writing: runs of inked rows with paper between them.
    starts = np.flatnonzero(rows[1:] & ~rows[:-1])
    assert len(starts) >= 2
    assert _dark_fraction(gray) > 1e-3
    (case,) = bench_cases("blank", 1, seed=0, conditions=[name])
    assert case.label == "" and case.boxes == ()
    # Photos with digits under these conditions are plain ones: no words beside the digits.
    digits = render_digits(list(heldout_digits()[0][:1]), cond, np.random.default_rng(0))[0]
    assert (
        render_digits(
            list(heldout_digits()[0][:1]), replace(cond, writing="none"), np.random.default_rng(0)
        )[0]
        == digits
    )


def test_long_numbers_are_written_in_several_lines(glyphs: np.ndarray) -> None:
    cond = replace(get_condition("long-number"), size=SMALL, lines=(3, 3), rotation=(0.0, 0.0))
    _, boxes = render_digits(list(glyphs[:9]), cond, np.random.default_rng(0))
    centres = sorted({round((b[1] + b[3]) / 2 / 10) for b in boxes})
    tops = [b[1] for b in boxes]
    # Three lines of three digits, read top to bottom: each line below the one before.
    assert tops[0] < tops[3] < tops[6] and len(centres) >= 3
    for line in range(3):
        lefts = [b[0] for b in boxes[3 * line : 3 * line + 3]]
        assert lefts == sorted(lefts)
    cases = list(bench_cases("number", 6, seed=0, conditions=["long-number"]))
    assert all(5 <= len(c.label) <= 12 for c in cases)


def test_a_tight_crop_ends_at_the_ink(glyphs: np.ndarray) -> None:
    cond = replace(get_condition("tight-crop"), size=SMALL, crop=(-0.02, -0.01))
    jpeg, boxes = render_digits(list(glyphs[:1]), cond, np.random.default_rng(1))
    gray = _gray(jpeg)
    assert gray.shape[0] < SMALL[1] and gray.shape[1] < SMALL[0]
    ink = gray < 0.6 * np.median(gray)
    # Ink touches the frame at the top and bottom, and the digit's box lies in the photo.
    assert ink[0].any() and ink[-1].any()
    ((x0, y0, x1, y1),) = boxes
    assert 0 <= x0 < x1 <= gray.shape[1] and 0 <= y0 < y1 <= gray.shape[0]


def test_words_sideways_run_down_the_page() -> None:
    cond = replace(get_condition("words-sideways"), size=SMALL, writing_lines=(3, 3))
    gray = _gray(render_blank(cond, np.random.default_rng(0)))
    ink = gray < 0.6 * np.median(gray)
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    # Lines of words turned on their side: the writing is taller than it is wide.
    assert rows[-1] - rows[0] > 2 * (columns[-1] - columns[0])


@pytest.mark.parametrize("name", ["paper-sheets", "paper-fan"])
def test_sheets_of_paper_show_edges_and_no_digit(name: str) -> None:
    cond = replace(get_condition(name), size=SMALL)
    gray = [_gray(render_blank(cond, np.random.default_rng(seed))) for seed in range(4)]
    # Surfaces of different brightness meet along the sheets' edges.
    assert max(float(np.ptp(ndimage.uniform_filter(g, 9))) for g in gray) > 40
    (case,) = bench_cases("blank", 1, seed=0, conditions=[name])
    assert case.label == "" and case.boxes == ()
    assert photos.blank_only(cond) and not photos.blank_only(get_condition("long-number"))
