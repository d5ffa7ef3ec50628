"""Photo bytes → one 8x8 optdigits grid per handwritten digit, in reading order.

Runs the stages: `model.decode` (bytes → grey), `model.ink` (paper, ink and strokes),
`model.marks` (ticks and underlines off), `model.groups` (digit-sized groups, lines),
`model.cuts` (touching digits apart) and `model.normalize` (NIST's 8x8 grid), at half and, when
the digits are small, at full resolution (`digit_options`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from model.cuts import cut_apart, digit_counts, stroke_columns
from model.decode import WORK_SIDE, decode_grey
from model.groups import (
    MAYBE_LEFTOVER,
    Box,
    _shortest_digit,
    _touches_border,
    digit_groups,
    line_numbers,
)
from model.ink import (
    FAINT_INK,
    _ink_of_dark_ink,
    _quantiles,
    _window,
    dark_ink,
    grown,
    ink_labels,
    ink_strokes,
)
from model.marks import EIGHT_NEIGHBOURS, without_marks
from model.normalize import optdigits_grid_and_aspect

# When the tallest digit found at half resolution is shorter than this (in pixels at half
# resolution), the photo is analysed again at full resolution.
DETAIL_BELOW = 40

# A group's strokes before light ink joined them (`separate_strokes`) count from this fraction
# of its height, long or wide: as `model.groups` keeps pieces of a fifth of the tallest.
SEPARATE_SIDE = 0.2

# A photo cropped tight around a digit: the digit fills the frame and a marker's stroke can be
# wider than CLOSING. Such a photo is dark (ink below half the paper's brightness) over more than
# TIGHT_DARK of it, which the bench's photos of whole pages pass only with a dark table at the
# border (up to 0.22), and the digit found with WIDE_CLOSING is at least TIGHT_CROP of the
# frame's height, which a digit of ordinary size never is.
TIGHT_DARK = 0.2
TIGHT_CROP = 0.6
WIDE_CLOSING = 1.0


@dataclass(frozen=True)
class DigitImage:
    """One digit found in a photo: the grid the model sees and where it came from."""

    grid: np.ndarray  # (8, 8) int64, values 0..16
    box: Box  # x0, y0, x1, y1 in the (EXIF-rotated) original image's pixels
    ink: np.ndarray  # the digit's ink crop, float32 0..1, at analysis resolution
    aspect: float  # width / height of the deslanted ink


@dataclass(frozen=True)
class Cut:
    """One way to read a group of ink: as these parts, each one digit."""

    parts: tuple[tuple[Box, np.ndarray], ...]  # each part's box and own ink pixels
    ink: np.ndarray
    factor: float
    sliced: int = 0  # how many strokes the cut goes through (digits touching, or one cut up)
    # Read without a line that may be an underline or the digit's own stroke (MAYBE_RULE).
    unmarked: bool = False
    line: int = 0  # the group's line of writing (`line_numbers`), 0 at the top
    # How many separate strokes the whole group holds: as its ink is labelled, or as weak ink
    # alone shows them (`separate_strokes`), whichever is more.
    strokes: int = 1

    @functools.cached_property
    def digits(self) -> list[DigitImage]:
        """The parts normalized to grids: the costly step, so done only for cuts that are read."""
        return [_digit_image(self.ink, box, own, self.factor) for box, own in self.parts]


Options = list[Cut]


def digit_options(data: bytes, work_side: int = WORK_SIDE, reduced: bool = True) -> list[Options]:
    """Read image bytes and return, for each group of ink left to right, ways to read it.

    Each option is a cut of the group into digits (the group as one digit, or cut into two,
    three...), the likeliest by shape first. Returns [] when the image shows no digit.

    The photo is first analysed at half of `work_side`, where a JPEG decodes at a quarter of
    a phone photo's size, and where ink fainter than STRONG_INK is looked for too (FAINT_INK).
    When that finds only small digits, or none, or writing beside them that only FAINT_INK
    shows (a digit written more lightly), it is analysed again at `work_side`.
    `reduced=False` analyses at `work_side` only.
    """
    fainter = False
    if reduced:
        grey, factor = decode_grey(data, work_side // 2)
        seen = _options_in(grey, factor, faint=True)
        fainter = seen is None
        found = seen or []
        tallest = max((o[0].digits[0].box[3] - o[0].digits[0].box[1] for o in found), default=0)
        # Nothing found is looked for again too: a small digit written with a thin pen fades
        # at half resolution. The texture of a wall or of paper that then shows up is
        # speck-sized, below MIN_DIGIT_HEIGHT.
        if tallest / factor >= DETAIL_BELOW or max(grey.shape) < work_side // 2:
            return found
    grey, factor = decode_grey(data, work_side)
    return _options_in(grey, factor, fainter=fainter) or []


def _options_in(
    grey: np.ndarray, factor: float, faint: bool = False, fainter: bool = False
) -> list[Options] | None:
    """The options of each group (`digit_options`); None when `faint` (half resolution) finds
    writing that only FAINT_INK shows beside what it found (`_fainter_writing`). With
    `fainter`, such writing is looked for beside the strokes found (`_with_fainter_strokes`).
    """
    grey = dark_ink(grey)
    ink, groups, maybe, weak = (
        _tight_crop_reading(grey, faint) if _cropped_tight(grey) else (None, [], None, None)
    )
    if ink is None:
        ink = _ink_of_dark_ink(grey)
        seen, maybe, weak = _groups_of(ink, grey, faint, fainter)
        if seen is None:
            return None
        groups = seen
    found = []
    # The groups are in reading order, by these lines (`digit_groups`).
    lines = line_numbers([box for box, _ in groups])
    for (group, pieces), line in zip(groups, lines, strict=True):
        options = _cuts(group, pieces, ink, factor, line, weak=weak)
        if maybe is not None:
            options += _without_line(group, pieces, ink, maybe, factor, line)
        found.append(options)
    return found


def group_cuts(group: Box, pieces: np.ndarray, ink: np.ndarray) -> Options:
    """The ways to cut a group of `digit_groups(labels)` of `ink` into digits, as photos are."""
    return _cuts(group, pieces, ink, 1.0, 0)


def _cuts(
    group: Box,
    pieces: np.ndarray,
    ink: np.ndarray,
    factor: float,
    line: int,
    unmarked: bool = False,
    weak: np.ndarray | None = None,
) -> Options:
    """The ways to cut a group (`pieces` labelled in its box) into one or more digits.

    `weak` labels the strokes weak ink shows in the whole photo (`ink_strokes`), if known.
    """
    own = pieces > 0
    columns = stroke_columns(pieces)
    # One digit is always among the counts, and never fails to cut.
    cuts = [
        (count, cut_apart(group, own, count, pieces, columns))
        for count in digit_counts(group, len(columns))
    ]
    strokes = int(pieces.max(initial=0))
    if weak is not None:
        x0, y0, x1, y1 = group
        strokes = max(strokes, separate_strokes(weak[y0:y1, x0:x1], pieces > 0))
    return [
        Cut(
            tuple(parts),
            ink,
            factor,
            _sliced(group, pieces, parts),
            unmarked=unmarked,
            line=line,
            strokes=strokes,
        )
        for count, parts in cuts
        if len(parts) == count
    ]


def _without_line(
    group: Box, pieces: np.ndarray, ink: np.ndarray, maybe: np.ndarray, factor: float, line: int
) -> Options:
    """The group's cuts without the line in `maybe` that may be an underline, or [] if none.

    `line` is the group's line of writing (`Cut.line`).
    """
    x0, y0, x1, y1 = group
    rule = maybe[y0:y1, x0:x1] & (pieces > 0)
    if not rule.any():
        return []
    kept, count = ndimage.label((pieces > 0) & ~rule, structure=EIGHT_NEIGHBOURS)
    sizes = np.bincount(kept.ravel(), minlength=count + 1)
    small = sizes < MAYBE_LEFTOVER * sizes[1:].sum()
    small[0] = True
    kept[small[kept]] = 0
    window = _window(kept)
    if window is None:
        return []
    without = ink.copy()
    without[y0:y1, x0:x1][rule] = 0.0
    rows, cols = window
    box = (x0 + cols.start, y0 + rows.start, x0 + cols.stop, y0 + rows.stop)
    return _cuts(box, kept[window], without, factor, line, unmarked=True)


def _cropped_tight(grey: np.ndarray) -> bool:
    """Whether more than TIGHT_DARK of the photo is darker than half the paper's brightness."""
    sample = grey[::4, ::4]
    (paper,) = _quantiles(sample, (0.9,))
    return float(np.count_nonzero(sample < 0.5 * paper)) > TIGHT_DARK * sample.size


def _tight_crop_reading(
    grey: np.ndarray, faint: bool
) -> tuple[np.ndarray | None, list[tuple[Box, np.ndarray]], np.ndarray | None, np.ndarray | None]:
    """The ink, groups, maybe-underlines and weak ink's strokes seen with WIDE_CLOSING, if
    they hold a digit TIGHT_CROP tall."""
    ink = _ink_of_dark_ink(grey, WIDE_CLOSING)
    seen, maybe, weak = _groups_of(ink, grey, faint)
    groups = seen or []
    if max((box[3] - box[1] for box, _ in groups), default=0) >= TIGHT_CROP * grey.shape[0]:
        return ink, groups, maybe, weak
    return None, [], None, None


def _groups_of(
    ink: np.ndarray, grey: np.ndarray, faint: bool, fainter: bool = False
) -> tuple[list[tuple[Box, np.ndarray]] | None, np.ndarray | None, np.ndarray | None]:
    """`digit_groups` of the ink, the lines in them that may be underlines (`_unmarked`), and
    the strokes weak ink alone shows (`ink_strokes`).

    With `faint` (half resolution), looked for at FAINT_INK when none is found; and None is
    returned when writing that only FAINT_INK shows lies beside what is found
    (`_fainter_writing`), so that the photo is looked at again at full resolution, there
    `fainter`: the strokes that only FAINT_INK shows apart from the others are added.
    """
    labels, weak = ink_strokes(ink)
    if fainter:
        labels = _with_fainter_strokes(labels, ink)
    # The strokes before rings and underlines are taken out of the labels (`_fainter_writing`).
    strokes = labels > 0 if faint else None
    labels, maybe = _unmarked(labels, ink)
    groups = digit_groups(labels, grey)
    if strokes is not None and groups and _fainter_writing(ink, strokes, groups):
        return None, None, None
    if faint and not groups:
        labels, weak = ink_strokes(ink, faint=True)
        labels, maybe = _unmarked(labels, ink)
        groups = digit_groups(labels, grey)
    return groups, maybe, weak


def _with_fainter_strokes(labels: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """`labels` and, numbered after them, the strokes FAINT_INK shows that touch none of them.

    A digit written more lightly than the others beside it: its stroke never reaches
    STRONG_INK, even at full resolution. The strokes seen at FAINT_INK around the darker ones
    are their blurred edges, and are left to them; those that run to the frame's border are
    edges of the paper or of the photo.
    """
    faint = ink_labels(ink, faint=True)
    apart = np.ones(int(faint.max(initial=0)) + 1, bool)
    apart[np.unique(faint[grown(labels > 0)])] = False
    # Lines run to the frame's border (as in `_fainter_writing`): the paper's or the photo's edge.
    for index, (rows, cols) in enumerate(ndimage.find_objects(faint), start=1):
        if rows is not None:
            box = (cols.start, rows.start, cols.stop, rows.stop)
            apart[index] &= not _touches_border(box, ink.shape)
    apart[0] = False
    if not apart.any():
        return labels
    numbers = np.zeros(apart.size, labels.dtype)
    numbers[apart] = np.arange(1, int(apart.sum()) + 1) + int(labels.max(initial=0))
    return np.where(labels > 0, labels, numbers[faint])


def _fainter_writing(
    ink: np.ndarray, strokes: np.ndarray, groups: list[tuple[Box, np.ndarray]]
) -> bool:
    """Whether a stroke as tall as a digit shows at FAINT_INK but holds none of `strokes`.

    A pencil digit written more lightly than the others beside it: at half resolution its
    thin stroke fades below STRONG_INK, at full resolution it does not. Printed lines and
    shadows' edges run to the frame's border and do not count.
    """
    faint = ink >= FAINT_INK
    window = _window(faint)  # a tenth of the photo or less, as for `ink_labels`
    if window is None:
        return False
    found, count = ndimage.label(faint[window], structure=EIGHT_NEIGHBOURS)
    known = np.zeros(count + 1, bool)
    known[found[strokes[window]]] = True
    shortest = _shortest_digit(max(b[3] - b[1] for b, _ in groups), ink.shape)
    top, left = window[0].start, window[1].start
    for index, (rows, cols) in enumerate(ndimage.find_objects(found), start=1):
        box = (left + cols.start, top + rows.start, left + cols.stop, top + rows.stop)
        height = box[3] - box[1]
        if known[index] or height < shortest or _touches_border(box, ink.shape):
            continue
        # A pixel-wide sliver along a dark line (a box drawn round the digits) is its fringe.
        if np.count_nonzero(found[rows, cols] == index) >= 2 * height:
            return True
    return False


def _unmarked(labels: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The labels without a ring, box or underline drawn with the digits (`model.marks`), and
    the lines kept that may be underlines or a digit's own stroke (None when there are none)."""
    window = _window(labels)
    if window is None:
        return labels, None
    maybe = np.zeros(labels[window].shape, bool)
    relabelled = without_marks(labels[window], ink[window], maybe)
    if relabelled is not None:
        labels[window] = relabelled
    if not maybe.any():
        return labels, None
    everywhere = np.zeros(labels.shape, bool)
    everywhere[window] = maybe
    return labels, everywhere


def separate_strokes(weak: np.ndarray, own: np.ndarray) -> int:
    """How many of the strokes `weak` labels (in a group's box) lie in its `own` pixels and are
    at least SEPARATE_SIDE of its height long or wide (3 pixels at least): the group's strokes
    before light ink joined them (`model.ink.ink_strokes`), without the specks it joined.
    """
    mine = np.where(own, weak, 0)
    found = np.unique(mine)
    found = found[found > 0]
    if found.size < 2:
        return int(found.size)
    numbers = np.zeros(int(found[-1]) + 1, np.int32)
    numbers[found] = np.arange(1, found.size + 1, dtype=np.int32)
    shortest = max(3.0, SEPARATE_SIDE * own.shape[0])
    return sum(
        1
        for rows, cols in ndimage.find_objects(numbers[mine])
        if rows is not None and max(rows.stop - rows.start, cols.stop - cols.start) >= shortest
    )


def _sliced(group: Box, pieces: np.ndarray, parts: list[tuple[Box, np.ndarray]]) -> int:
    """How many of the group's strokes (`pieces`, labelled) are shared by several parts."""
    if len(parts) < 2:
        return 0
    count = int(pieces.max(initial=0))
    if count == 1:
        return 1  # one stroke, cut into several parts
    shared = np.zeros(count + 1, np.int64)
    for (x0, y0, x1, y1), own in parts:
        region = pieces[y0 - group[1] : y1 - group[1], x0 - group[0] : x1 - group[0]]
        shared += np.bincount(region[own], minlength=count + 1) > 0
    return int((shared[1:] > 1).sum())


def digit_images(data: bytes, work_side: int = WORK_SIDE) -> list[DigitImage]:
    """Read image bytes and return the digits found, left to right, cut by shape alone."""
    return [digit for options in digit_options(data, work_side) for digit in options[0].digits]


def _digit_image(ink: np.ndarray, box: Box, own: np.ndarray, factor: float) -> DigitImage:
    x0, y0, x1, y1 = box
    near = grown(grown(own))
    crop = np.where(near, ink[y0:y1, x0:x1], 0.0)
    grid, aspect = optdigits_grid_and_aspect(crop)
    return DigitImage(
        grid=grid,
        aspect=aspect,
        box=(
            math.floor(x0 * factor),
            math.floor(y0 * factor),
            math.ceil(x1 * factor),
            math.ceil(y1 * factor),
        ),
        ink=crop.astype(np.float32),
    )
