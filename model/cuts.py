"""Stage 4 of reading a photo: cutting a group of touching digits apart.

`digit_counts` says how many digits a group's shape may hold, `stroke_columns` and `cut_apart`
propose where to cut it: between strokes first, then at the thinnest columns.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import ndimage

from model.groups import Box
from model.marks import EIGHT_NEIGHBOURS


def digit_counts(box: Box, strokes: int = 1) -> list[int]:
    """How many digits a group of this shape may hold, the likeliest first.

    One handwritten digit can be 1.5 times as wide as tall (a 2 with a long tail), and a
    narrow 1 beside another digit is barely wider than one, so shape alone rarely decides:
    the recognizer reads each option and keeps the most convincing. `strokes` digit-tall
    strokes standing apart side by side (see `stroke_columns`) are likeliest that many digits.
    """
    width, height = box[2] - box[0], box[3] - box[1]
    ratio = width / height
    likeliest = 1 if ratio <= 1.5 else max(2, round(ratio / 0.8))
    # A 2 or a 7 with a long sweep can be twice as wide as tall: one digit is always an option.
    counts = [c for c in (1, 2, 3, 4) if c == 1 or 0.45 * c - 0.1 < ratio < 1.9 * c]
    if strokes > 1:
        likeliest = strokes
        counts = sorted({*counts, strokes})
    return sorted(counts, key=lambda c: (abs(c - likeliest), c))


# A stroke at least this fraction of its group's height can be a digit of its own; shorter
# ones are the flag of a 5, the bar of a 4 or a fragment.
TALL_STROKE = 0.6
# Two tall strokes sharing more than this fraction of the narrower one's columns are one digit
# (a 4 or a 7 written in two strokes), not two written side by side.
SHARED_COLUMNS = 0.3


def strokes(own: np.ndarray) -> np.ndarray:
    """Label the separate strokes (connected ink) of a group's own ink, 0 is paper."""
    return np.asarray(ndimage.label(own, structure=EIGHT_NEIGHBOURS)[0])


def stroke_columns(pieces: np.ndarray) -> list[tuple[int, int, list[int]]]:
    """The digit-tall strokes standing side by side, left to right: columns and labels.

    Digits written close together are grouped (their gap is no wider than a break in one
    stroke), but each is still its own tall stroke; this finds them.
    """
    height = pieces.shape[0]
    tall = sorted(
        (sl[1].start, sl[1].stop, label)
        for label, sl in enumerate(ndimage.find_objects(pieces), start=1)
        if sl is not None and sl[0].stop - sl[0].start >= TALL_STROKE * height
    )
    columns: list[tuple[int, int, list[int]]] = []
    for x0, x1, label in tall:
        if columns:
            c0, c1, labels = columns[-1]
            if min(x1, c1) - x0 > SHARED_COLUMNS * min(x1 - x0, c1 - c0):
                columns[-1] = (c0, max(c1, x1), [*labels, label])
                continue
        columns.append((x0, x1, [label]))
    return columns


def cut_apart(
    box: Box,
    own: np.ndarray,
    count: int,
    pieces: np.ndarray | None = None,
    columns: list[tuple[int, int, list[int]]] | None = None,
) -> list[tuple[Box, np.ndarray]]:
    """Cut a group into `count` digits, left to right: each part's box and own ink.

    When the group holds `count` tall strokes side by side, each is one digit. Otherwise the
    cuts go through the thinnest ink near even spacing; strokes that lie mostly on one side
    of a cut go whole to it. `pieces` is `strokes(own)` and `columns` is
    `stroke_columns(pieces)`, when already known.
    """
    if count == 1:
        return [(box, own)]
    x0, y0, _, _ = box
    width = own.shape[1]
    if width < 3 * count:
        return [(box, own)]
    pieces = strokes(own) if pieces is None else pieces
    columns = stroke_columns(pieces) if columns is None else columns
    if len(columns) == count:
        cuts = [0, *((a[1] + b[0]) // 2 for a, b in itertools.pairwise(columns)), width]
        given = {label: k for k, (_, _, labels) in enumerate(columns) for label in labels}
    else:
        cuts = _thinnest_cuts(own, count)
        given = {}
    if not cuts:
        return [(box, own)]
    parts = []
    for part in _parts_by_piece(own, pieces, cuts, given):
        rows = np.flatnonzero(part.any(axis=1))
        cols = np.flatnonzero(part.any(axis=0))
        if rows.size == 0:
            continue
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        parts.append(((x0 + c0, y0 + r0, x0 + c1, y0 + r1), part[r0:r1, c0:c1]))
    return parts


def _thinnest_cuts(own: np.ndarray, count: int) -> list[int]:
    """Columns 0, ..., width cutting `own` into `count` at the thinnest ink near even spacing.

    Returns [] when there is no room for the cuts.
    """
    width = own.shape[1]
    profile = ndimage.uniform_filter1d(own.sum(axis=0).astype(np.float64), 3)
    cuts = [0]
    for k in range(1, count):
        expected = k * width / count
        lo = max(cuts[-1] + 1, int(expected - 0.3 * width / count))
        hi = min(width - 1, max(lo + 1, int(expected + 0.3 * width / count)))
        if lo >= hi:
            return []
        cuts.append(lo + int(np.argmin(profile[lo:hi])))
    cuts.append(width)
    return cuts


# A separate stroke with at least this fraction of its ink on one side of a cut goes whole to
# that side: digits a gap apart (grouped only because the gap is narrow) overlap in columns when
# slanted or when a 5's flag reaches over a 1, and a straight cut would slice a piece off one.
WHOLE_PIECE = 0.6


def _parts_by_piece(
    own: np.ndarray, pieces: np.ndarray, cuts: list[int], given: dict[int, int]
) -> list[np.ndarray]:
    """Split a group's ink at the columns `cuts` (0, ..., width) into full-size part masks.

    Strokes in `given` go whole to that part. Any other stroke that lies mostly on one side
    goes whole to it; only strokes that straddle a cut (digits that really touch) are cut.
    """
    n_parts = len(cuts) - 1
    column_part = np.searchsorted(np.asarray(cuts[1:-1]), np.arange(own.shape[1]), side="right")
    part_of = np.broadcast_to(column_part, own.shape)
    count = int(pieces.max(initial=0))
    if count > 1:
        inked = pieces > 0
        ink_in = np.bincount(
            pieces[inked] * n_parts + part_of[inked], minlength=(count + 1) * n_parts
        ).reshape(count + 1, n_parts)
        main = ink_in.argmax(axis=1)
        whole = ink_in.max(axis=1) >= WHOLE_PIECE * np.maximum(ink_in.sum(axis=1), 1)
        for label, k in given.items():
            main[label], whole[label] = k, True
        part_of = np.where(whole[pieces], main[pieces], part_of)
    return [own & (part_of == k) for k in range(n_parts)]
