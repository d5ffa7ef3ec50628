"""Lines a writer draws with the digits to set a number apart: a ring, a box, an underline.

They are ink like the digits, often touch them, and join a whole number into one stroke, so
they are taken out of the labelled ink before the digits are grouped:

- an enclosure (ring or box) is a stroke around a hole that holds writing; what of it lies
  within a stroke's width of the outside is the enclosure, the rest is the writing it touches.
  A ring left open has no hole: a stroke that keeps to the ellipse of its box most of the way
  round, with other strokes inside, is one too;
- an underline is a straight stroke along the bottom of the ink: on its own right under
  writing, or joined to the writing and longer than any digit's straight edge (RULE_LENGTH),
  or reaching past the writing on both sides (BEYOND). Where a digit's stroke meets it, the
  digit keeps its ink above it.

Both are judged by shape alone, and a digit must never pass for a mark (a 2 whose flat base
has a tail looks like writing on a line), so the rules leave some real marks in: the README
has the figures.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

# Pixels touching at a corner belong to one stroke: a thin diagonal line is connected only so.
# (Strokes are labelled so in `model.ink` too, and relabelled so here.)
EIGHT_NEIGHBOURS = np.ones((3, 3), bool)

# A straight stroke this many times as long as the writing beside it is tall is a rule. A 2's
# base or a 7's bar is at most about as long as the digit is tall.
RULE_LENGTH = 1.5
# An underline on its own, under writing, can be as short as this times the writing's height:
# a single digit's.
UNDERLINE_ALONE = 0.6
# How far past the writing on each side a line under it reaches, at least, to be a rule when
# shorter than RULE_LENGTH (fractions of the writing's height). A 2's base with a tail reaches
# past its body on both sides too, but is shorter.
BEYOND = 0.08
BEYOND_LENGTH = 1.2
# A line joined to writing, shorter than those but at least this share of the writing's
# height, may be an underline or the digit's own stroke (a 2's flat base, with a tail): which
# one is left to the classifier (`without_marks`'s `maybe`).
MAYBE_RULE = 0.55
MAYBE_BEYOND = 0.03
# Pixels: in a shorter run, a pixel's step hides whether a stroke is straight or curved.
SHORTEST_RULE = 24
# Steepest rule looked for: the page rotated by up to about 15 degrees, and a hand's tilt.
RULE_SLOPES = np.linspace(-0.3, 0.3, 31)
# Writing inside an enclosure is at least this share of the hole's height (not a speck in a 0).
INSIDE_HEIGHT = 0.3
# Pixels: the smallest ring or underline looked for (an underline is SHORTEST_RULE long).
MARK_SIZE = 16
# A ring keeps to the ellipse in its box: most of its ink lies beyond this share of the way
# from the centre to the ellipse, round this share of the whole turn at least (a C, too).
RING_EDGE = 0.7
RING_AROUND = 0.75
# Share of an enclosure's box that its hole covers, at least (a ring's hole is most of it).
ENCLOSED = 0.35
# Ink inside an enclosure, at least this share of the enclosure's own ink: a digit, not where
# an 8's strokes cross.
INSIDE_INK = 0.25
# Up to this share of a ring's stroke lying within RING_EDGE is its hand's wobble. Up to
# RING_JOINED is a digit the ring runs into: that ink stays as writing, and the ring is what
# lies within RING_NEAR pen widths of the ellipse.
RING_WOBBLE = 0.1
RING_JOINED = 0.5
RING_NEAR = 1.5


def without_marks(
    labels: np.ndarray, ink: np.ndarray, maybe: np.ndarray | None = None
) -> np.ndarray | None:
    """The labels with enclosures and rules removed and relabelled; None if there are none.

    `labels` are connected strokes (0 is paper), `ink` the ink strength of the same pixels;
    the ink of removed pixels is set to 0 in place, so that no digit's crop takes it in.
    The pixels of lines that may be underlines or a digit's own stroke (MAYBE_RULE) are set
    in `maybe`, a boolean image like `labels`, when it is given; they are kept.
    """
    slices = ndimage.find_objects(labels)
    # Specks are neither marks nor writing that a mark is drawn around: only strokes as big as
    # the smallest mark are compared with each other, which keeps a speckled photo cheap.
    boxes = [
        (i, sl)
        for i, sl in enumerate(slices, start=1)
        if sl is not None and max(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start) >= MARK_SIZE
    ]
    heights = sorted(((sl[0].stop - sl[0].start, i) for i, sl in boxes), reverse=True)
    removed = np.zeros(labels.shape, bool)
    for index, sl in boxes:
        own = labels[sl] == index
        mark = _enclosure(own, labels[sl])
        if mark is None and _holds_writing(index, sl, boxes):
            mark = _open_ring(own, labels[sl])
        if mark is None:
            # The tallest other stroke.
            others = next((height for height, i in heights if i != index), 0)
            shortest = UNDERLINE_ALONE if _under_writing(sl, boxes, others) else RULE_LENGTH
            mark, sure = _underline(own, others, shortest)
            if not sure:
                if mark is not None and maybe is not None:
                    maybe[sl] |= mark
                mark = None
        if mark is not None:
            removed[sl] |= mark
    if not removed.any():
        return None
    ink[removed] = 0.0
    kept = (labels > 0) & ~removed
    relabelled, _ = ndimage.label(kept, structure=EIGHT_NEIGHBOURS)
    return np.asarray(relabelled)


def _enclosure(own: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
    """The pixels of a ring or box around writing, or None when `own` encloses none."""
    h, w = own.shape
    # Cheap first: a line through the middle of a ring or box crosses it twice, both ways.
    if min(h, w) < 8 or not (_two_runs(own[h // 2]) and _two_runs(own[:, w // 2])):
        return None
    padded = np.pad(own, 1)
    outside, _ = ndimage.label(~padded)
    exterior = outside == outside[0, 0]
    hole = ~padded & ~exterior
    # A ring or box holds a hole most of its size (split where the writing touches it on
    # two sides); digits' loops beside a rule do not.
    if np.count_nonzero(hole) < ENCLOSED * h * w:
        return None
    # The enclosure is drawn with the same pen as the digits.
    width = _pen_width(padded)
    from_outside = ndimage.distance_transform_edt(~exterior)
    ring = padded & (from_outside <= width + 1.5)
    # What is inside: the stroke's own ink beyond the ring, and other strokes in the hole.
    within = (padded & ~ring) | (hole & (np.pad(labels, 1) > 0))
    if np.count_nonzero(within) < INSIDE_INK * np.count_nonzero(padded):
        return None  # only where strokes merge into blots is ink that far from the outside
    rows = np.flatnonzero(within.any(axis=1))
    hole_rows = np.flatnonzero(hole.any(axis=1))
    if rows.size == 0 or rows[-1] - rows[0] < INSIDE_HEIGHT * (hole_rows[-1] - hole_rows[0]):
        return None
    return np.asarray(ring[1:-1, 1:-1])


def _pen_width(stroke: np.ndarray) -> float:
    """The pen's width in pixels, from the thickest parts of `stroke` (a boolean image)."""
    depth = ndimage.distance_transform_edt(stroke)
    return 2.0 * float(np.quantile(depth[stroke], 0.9))


def _holds_writing(
    index: int, sl: tuple[slice, slice], boxes: list[tuple[int, tuple[slice, slice]]]
) -> bool:
    """Whether another stroke, INSIDE_HEIGHT of this one's height, lies within its box."""
    height = sl[0].stop - sl[0].start
    return any(
        i != index
        and rows.start >= sl[0].start
        and rows.stop <= sl[0].stop
        and cols.start >= sl[1].start
        and cols.stop <= sl[1].stop
        and rows.stop - rows.start >= INSIDE_HEIGHT * height
        for i, (rows, cols) in boxes
    )


def _open_ring(own: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
    """The ring in the stroke `own` when it rings writing apart from it, closed or not; else None.

    A ring drawn by hand often stops short of its start, so it has no hole. It is a stroke
    that keeps to the ellipse in its box, most of the way round (RING_AROUND), with other
    strokes inside that ellipse. A digit the ring runs into is part of the same stroke: its
    ink inside the ellipse (up to RING_JOINED of the stroke) is not part of the ring.
    """
    h, w = own.shape
    if min(h, w) < MARK_SIZE:
        return None
    ys, xs = np.nonzero(own)
    dy, dx = (ys + 0.5) / (h / 2) - 1, (xs + 0.5) / (w / 2) - 1
    radius = np.hypot(dx, dy)
    edge = radius >= RING_EDGE
    within = np.count_nonzero(~edge)
    if within > RING_JOINED * radius.size:
        return None
    if not _around(dy[edge], dx[edge]):
        return None
    # The writing inside the ellipse, other strokes than this one.
    iy, ix = np.nonzero((labels > 0) & ~own)
    inside = np.hypot((iy + 0.5) / (h / 2) - 1, (ix + 0.5) / (w / 2) - 1) < RING_EDGE
    if np.count_nonzero(inside) < INSIDE_INK * np.count_nonzero(edge):
        return None
    if within <= RING_WOBBLE * radius.size:
        return own
    # Each pixel's distance from the ellipse, along the ray from its centre.
    along = (1.0 - radius) * np.hypot(dx * w / 2, dy * h / 2) / np.maximum(radius, 1e-9)
    on = edge & (np.abs(along) <= RING_NEAR * _pen_width(own) + 2.0)
    # Digits along an underline also reach the ellipse's top, bottom and sides, but not its
    # diagonals: a ring is on the ellipse itself all the way round.
    if not _around(dy[on], dx[on]):
        return None
    ring = np.zeros_like(own)
    ring[ys[on], xs[on]] = True
    return ring


def _around(dy: np.ndarray, dx: np.ndarray) -> bool:
    """Whether points at (dy, dx) from a centre lie in RING_AROUND of 36 directions at least."""
    angles = ((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * 36).astype(np.intp) % 36
    return bool(np.unique(angles).size >= RING_AROUND * 36)


def _under_writing(
    sl: tuple[slice, slice], boxes: list[tuple[int, tuple[slice, slice]]], tallest: int
) -> bool:
    """Whether the stroke in `sl` lies right under a digit-sized stroke that it spans."""
    for _, (rows, cols) in boxes:
        height, width = rows.stop - rows.start, cols.stop - cols.start
        overlap = min(cols.stop, sl[1].stop) - max(cols.start, sl[1].start)
        gap = sl[0].start - rows.stop
        close = -0.1 * height <= gap <= 0.5 * height
        if height >= 0.5 * tallest and overlap >= 0.8 * width and close:
            return True
    return False


def _underline(own: np.ndarray, others: int, shortest: float) -> tuple[np.ndarray | None, bool]:
    """The pixels of a straight rule forming the bottom edge of the stroke `own`, and whether
    it is surely one; (None, False) when there is none.

    The lowest ink of each column is fitted by a line (the slope most columns agree on);
    the rule is the longest run of columns whose lowest ink is on that line. `others` is the
    height of the tallest other stroke; `shortest` is how long, as a share of it, a rule with
    nothing above it must be (see `_long_enough`). A rule joined to writing and MAYBE_RULE as
    long as the writing is tall is returned as not sure.
    """
    none = (None, False)
    h, w = own.shape
    if w < max(SHORTEST_RULE, 0.8 * min(h, others or h)):
        return none
    columns = np.flatnonzero(own.any(axis=0))
    lowest = h - 1 - np.argmax(own[::-1, columns], axis=0)
    tolerance = max(2.0, 0.015 * w)
    # For every slope at once, how many columns' lowest ink lies in each band `tolerance` high
    # (two neighbouring bands, so that a line on a band's edge counts whole).
    offsets = lowest[np.newaxis, :] - RULE_SLOPES[:, np.newaxis] * columns[np.newaxis, :]
    bands = np.floor((offsets - offsets.min()) / tolerance).astype(np.intp)
    width = int(bands.max()) + 2
    counts = np.bincount(
        (bands + width * np.arange(len(RULE_SLOPES))[:, np.newaxis]).ravel(),
        minlength=width * len(RULE_SLOPES),
    ).reshape(len(RULE_SLOPES), width)
    pairs = counts[:, :-1] + counts[:, 1:]
    best_slope, band = np.unravel_index(int(np.argmax(pairs)), pairs.shape)
    if pairs[best_slope, band] < SHORTEST_RULE:
        return none
    line = float(RULE_SLOPES[best_slope])
    chosen = offsets[best_slope]
    centre = float(np.median(chosen[(bands[best_slope] == band) | (bands[best_slope] == band + 1)]))
    # Ink merely crossing the line is not enough: a thick stroke curving along it would be a
    # rule, so the lowest ink has to be on it.
    on = np.zeros(w, bool)
    on[columns] = np.abs(lowest - (centre + line * columns)) <= tolerance
    first, last = _longest_run(on)
    length = last - first + 1
    if length < SHORTEST_RULE:
        return none
    xs = np.arange(w)
    base = np.clip(np.round(centre + line * xs).astype(np.intp), 0, h - 1)
    base[columns] = np.where(on[columns], lowest, base[columns])
    rows = np.arange(h)[:, np.newaxis]
    # Each column's run of ink up from the rule's bottom edge.
    above = base[np.newaxis, :] - rows
    column = np.where(above >= 0, own[np.maximum(above, 0), xs], False)
    up = np.argmin(np.vstack([column, np.zeros((1, w), bool)]), axis=0)
    span = slice(first, last + 1)
    # The rule's thickness: the run up where nothing meets it, which is most of its length.
    thickness = float(np.median(up[span]))
    rule = (rows <= base) & (rows > base - thickness - 1)
    rule[:, :first] = False
    rule[:, last + 1 :] = False
    # Where the ink runs on far above the rule's thickness, a digit meets it and keeps the ink
    # above the rule; elsewhere the whole run goes, the rule being a little thicker there.
    alone = np.zeros(w, bool)
    alone[span] = up[span] <= 1.5 * thickness + 1
    mark = own & (rows <= base) & (rule | ((rows > base - up) & alone))
    # The writing is what lies clearly above the rule. A rule has little other ink beside it:
    # a 5's flag, slanting up from its body, has the body below it.
    rest = own & ~mark
    writing = rest & (rows < base - thickness - 2)
    beside = np.count_nonzero(rest & ~writing)
    if thickness > 0.35 * length or beside > 0.25 * max(int(np.count_nonzero(rest)), 4 * length):
        return none
    # The columns the writing covers: where it is clearly above the rule, or where more than
    # a sliver of the rule's thickness is left (a 2's stroke joining its base).
    left = np.count_nonzero(rest, axis=0)
    covered = np.flatnonzero(writing.any(axis=0) | (left >= max(3.0, thickness)))
    tall = int(base[span].max()) + 1  # the stroke's height down to the rule
    if _long_enough((first, last), writing, covered, tall, others, shortest):
        return mark, True
    beyond = min(int(covered[0]) - first, last - int(covered[-1])) if covered.size else 0
    joined = writing.any() and length >= MAYBE_RULE * tall and beyond >= MAYBE_BEYOND * tall
    return (mark, False) if joined else none


def _long_enough(
    run: tuple[int, int],
    writing: np.ndarray,
    covered: np.ndarray,
    tall: int,
    others: int,
    shortest: float,
) -> bool:
    """Whether a straight run of columns along a stroke's bottom is a rule under `writing`.

    `covered` are the columns the writing covers, `tall` the stroke's height down to the
    rule, `others` the tallest other stroke's height. A line with nothing above it is a rule
    when `shortest` times as long as `others`. A line with writing joined to it is one when
    RULE_LENGTH times as long as the writing is tall, or when it reaches BEYOND the writing on
    both sides and is BEYOND_LENGTH as long: a 2's base starts where its stroke comes down, a
    1's foot is short.
    """
    first, last = run
    length = last - first + 1
    rows = np.flatnonzero(writing.any(axis=1))
    if rows.size == 0 or rows[-1] - rows[0] + 1 <= 0.1 * length:
        return length >= shortest * others
    if length >= RULE_LENGTH * max(tall, others):
        return True
    beyond = min(int(covered[0]) - first, last - int(covered[-1])) if covered.size else 0
    return length >= BEYOND_LENGTH * tall and beyond >= BEYOND * tall


def _two_runs(line: np.ndarray) -> bool:
    """Whether a line of pixels holds at least two separate runs of ink."""
    return int(np.count_nonzero(line[1:] & ~line[:-1])) + int(line[0]) >= 2


def _longest_run(on: np.ndarray, gap: int = 2) -> tuple[int, int]:
    """First and last index of the longest run of True (some is), bridging gaps up to `gap`."""
    where = np.flatnonzero(on)
    breaks = np.flatnonzero(np.diff(where) > gap + 1)
    starts = np.concatenate([[0], breaks + 1])
    stops = np.concatenate([breaks, [where.size - 1]])
    k = int(np.argmax(where[stops] - where[starts]))
    return int(where[starts[k]]), int(where[stops[k]])
