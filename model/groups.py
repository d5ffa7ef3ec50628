"""Stage 3 of reading a photo: strokes → digit-sized groups in reading order.

Strokes stacked above one another are grouped into one digit; what lies at the border, on a
table, along an edge of the paper or is a speck is dropped. `line_numbers` numbers the lines of
writing the groups stand on.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from model.ink import _quantiles, _window

# Ink shorter than this fraction of the image's long side is a speck or texture, not a digit
# (the bench's smallest digits are 6 % of the photo's height, about 4.5 % of its long side).
MIN_DIGIT_HEIGHT = 0.025


Box = tuple[int, int, int, int]
"""A box in photo pixels: (left, top, right, bottom), right/bottom exclusive."""


def digit_groups(
    labels: np.ndarray, grey: np.ndarray | None = None
) -> list[tuple[Box, np.ndarray]]:
    """Group ink into digit-sized groups in reading order (lines top to bottom, each left to
    right): each box and its strokes.

    A group's strokes are its own ink pixels, labelled 1, 2, ... (0 is paper or another
    group's ink). Specks, paper edges and fingers at the border of the frame are dropped; given
    the photo's `grey` (ink dark, see `dark_ink`), so are the edges of hard shadows and the
    grain of a table beside the page. Pieces of one digit (the flag of a 5, a broken stroke)
    are joined. Digits that touch stay one group; `digit_counts` and `cut_apart` propose how
    to cut it.
    """
    window = _window(labels)
    if window is None:
        return []
    inked = labels[window]
    top, left = window[0].start, window[1].start
    areas = np.bincount(inked.ravel())
    pieces = [
        (index, (left + sl[1].start, top + sl[0].start, left + sl[1].stop, top + sl[0].stop))
        for index, sl in enumerate(ndimage.find_objects(inked), start=1)
        if sl is not None
    ]
    junk_pieces = [(i, box) for i, box in pieces if _border_junk(box, areas[i], labels.shape)]
    cropped = _cropped_row(pieces, junk_pieces, areas, labels.shape)
    junk_pieces = [(i, box) for i, box in junk_pieces if i not in cropped]
    junk = [box for _, box in junk_pieces]
    pieces = [
        (i, box)
        for i, box in pieces
        if box not in junk and not _edge_sliver(box, junk, labels.shape)
    ]
    if not pieces:
        return _found(_cropped_groups(junk_pieces, areas, labels, grey), labels)
    if grey is not None:  # in photos only: the check's training examples stay as they were
        pieces = _without_tall_edges(pieces, labels, grey)
        if not pieces:
            return []
    tallest = _tallest(pieces, labels.shape)
    pieces = [(i, box) for i, box in pieces if _side(box) >= max(3, 0.2 * tallest)]
    pieces = sorted(pieces, key=lambda p: -areas[p[0]])[:MAX_PIECES]
    if grey is not None:  # only now: each check reads the grey values around a piece
        (page,) = _quantiles(grey[::8, ::8], (0.5,))
        pieces = [
            (i, box)
            for i, box in pieces
            if not _on_table(box, labels, grey, page) and not _an_edge(i, box, labels, grey)
        ]
        if not pieces:
            return []
        tallest = _tallest(pieces, labels.shape)
    groups = [
        (box, indices)
        for box, indices in _grouped(pieces, tallest)
        if not _edge_line(box, int(areas[indices].sum()), labels.shape)
    ]
    at_border = [
        _touches_border(box, labels.shape) and cropped.isdisjoint(indices)
        for box, indices in groups
    ]
    inside_groups = [g for g, border in zip(groups, at_border, strict=True) if not border]
    if inside_groups:
        border_groups = [g for g, border in zip(groups, at_border, strict=True) if border]
        inside_groups += _beside_border(border_groups, dict(pieces), tallest, labels.shape)
    # Writing lies inside the frame; what touches its border beside it is a finger, a shadow,
    # the table or the paper's edge. A photo cropped tight to the digit has nothing inside,
    # and then what touches the border is read if it is digit-sized.
    full_height = [g for g in groups if g[0][3] - g[0][1] >= 0.5 * labels.shape[0]]
    groups = inside_groups or full_height
    groups = groups or _cropped_groups(junk_pieces, areas, labels, grey)
    return _found(groups, labels)


def _found(groups: list[tuple[Box, list[int]]], labels: np.ndarray) -> list[tuple[Box, np.ndarray]]:
    """The digit-sized groups in reading order, each box with its strokes labelled 1, 2, ..."""
    if not groups:
        return []
    digit_sized = _digit_sized(groups, labels.shape)
    found = []
    renumbered = np.zeros(int(labels.max()) + 1, np.int32)
    for (x0, y0, x1, y1), indices in _reading_order(digit_sized):
        renumbered[:] = 0
        renumbered[indices] = np.arange(1, len(indices) + 1)
        found.append(((x0, y0, x1, y1), renumbered[labels[y0:y1, x0:x1]]))
    return found


def _digit_sized(
    groups: list[tuple[Box, list[int]]], shape: tuple[int, ...]
) -> list[tuple[Box, list[int]]]:
    """The groups tall enough to be digits beside the writing of their own line
    (`_shortest_digit`) and at least SMALLEST_LINE as tall as the tallest writing.

    Lines of one photo differ in size (a page seen at an angle, a hand that writes larger
    further down): a line of small digits is still digits beside a line of large ones.
    """
    heights = [box[3] - box[1] for box, _ in groups]
    tallest = max(heights)
    lines = line_numbers([box for box, _ in groups])
    line_tallest: dict[int, int] = {}
    for line, height in zip(lines, heights, strict=True):
        line_tallest[line] = max(line_tallest.get(line, 0), height)
    return [
        group
        for group, line, height in zip(groups, lines, heights, strict=True)
        if height >= max(_shortest_digit(line_tallest[line], shape), SMALLEST_LINE * tallest)
    ]


def _cropped_groups(
    junk: list[tuple[int, Box]], areas: np.ndarray, labels: np.ndarray, grey: np.ndarray | None
) -> list[tuple[Box, list[int]]]:
    """When nothing else is found: the writing in `junk` (border junk) cropped so tight that it
    spans the frame (`_cropped_stroke`), unless it is an edge (`_an_edge`)."""
    cropped = [
        (i, box)
        for i, box in junk
        if _cropped_stroke(box, int(areas[i]), labels.shape)
        and (grey is None or not _an_edge(i, box, labels, grey))
    ]
    return _grouped(cropped, _tallest(cropped, labels.shape)) if cropped else []


def _reading_order(groups: list[tuple[Box, list[int]]]) -> list[tuple[Box, list[int]]]:
    """The groups in reading order: lines top to bottom, each line left to right."""
    lines = line_numbers([box for box, _ in groups])
    return [g for _, g in sorted(zip(lines, groups, strict=True), key=lambda p: (p[0], p[1][0][0]))]


def _root(parent: list[int], k: int) -> int:
    """The representative of `k`'s set in a union-find `parent` list, halving paths."""
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k


def same_line(a: Box, b: Box) -> bool:
    """Whether two digits' boxes overlap in height by half the smaller one's at least."""
    return min(a[3], b[3]) - max(a[1], b[1]) >= 0.5 * min(a[3] - a[1], b[3] - b[1])


def line_numbers(boxes: list[Box]) -> list[int]:
    """Which line of writing each box is on, numbered 0, 1, ... from the top.

    Boxes are on one line when they are on the `same_line`, directly or through others: a
    line follows a rotated page or a rising hand from one digit to the next.
    """
    line = list(range(len(boxes)))
    for a, box in enumerate(boxes):
        for b in range(a + 1, len(boxes)):
            if same_line(box, boxes[b]):
                line[_root(line, a)] = _root(line, b)
    members: dict[int, list[int]] = {}
    for k in range(len(boxes)):
        members.setdefault(_root(line, k), []).append(k)
    # Lines from the top: by the mean height of their boxes' centres.
    tops = sorted(
        members.values(), key=lambda m: float(np.mean([boxes[k][1] + boxes[k][3] for k in m]))
    )
    number = [0] * len(boxes)
    for n, ks in enumerate(tops):
        for k in ks:
            number[k] = n
    return number


MAX_PIECES = 200
# Pieces one above the other are one digit when the gap between them is below this fraction
# of the tallest digit's height.
STACKED_GAP = 0.15
# Read without a line that may be an underline, pieces of a group smaller than this share of
# its ink are left out: a stub of the line, not writing.
MAYBE_LEFTOVER = 0.05


def _tallest(pieces: list[tuple[int, Box]], shape: tuple[int, ...]) -> int:
    """The height of the tallest piece inside the frame (of any, when none is inside)."""
    inside = [box for _, box in pieces if not _touches_border(box, shape)]
    return max(box[3] - box[1] for box in inside or [box for _, box in pieces])


# The writing's size is that of its tallest piece, once the edges taller than it are taken
# out: an edge would make the writing beside it specks, and be read as a 1. A thin line
# (LONE_LINE_THIN as wide as tall or less) LONE_LINE times as tall as the tallest of
# LONE_LINE_COMPANY other pieces or more (each MIN_DIGIT_HEIGHT of the frame or more) is the
# edge of a paper or of a laptop beside a note, not a 1 written among them. EDGE_TRIES edges
# are looked for at most.
LONE_LINE_THIN = 0.1
LONE_LINE = 2.5
LONE_LINE_COMPANY = 3
EDGE_TRIES = 3


def _without_tall_edges(
    pieces: list[tuple[int, Box]], labels: np.ndarray, grey: np.ndarray
) -> list[tuple[int, Box]]:
    """`pieces` without the tallest pieces inside the frame while they are edges: no darker
    than the paper beside them (`_an_edge`) or a lone line (see LONE_LINE)."""
    shortest = MIN_DIGIT_HEIGHT * max(labels.shape)
    edges: set[int] = set()
    for _ in range(EDGE_TRIES):
        inside = sorted(
            (
                (box[3] - box[1], i, box)
                for i, box in pieces
                if i not in edges and not _touches_border(box, labels.shape)
            ),
            reverse=True,
        )
        if not inside:
            break
        height, index, box = inside[0]
        others = [h for h, _, _ in inside[1:] if h >= shortest]
        lone_line = (
            box[2] - box[0] <= LONE_LINE_THIN * height
            and len(others) >= LONE_LINE_COMPANY
            and height >= LONE_LINE * others[0]
        )
        if not (lone_line or _an_edge(index, box, labels, grey)):
            break
        edges.add(index)
    return [(i, box) for i, box in pieces if i not in edges]


def _side(box: Box) -> int:
    return max(box[2] - box[0], box[3] - box[1])


# A digit is at least this fraction of the height of the tallest writing in the photo; shorter
# ink is a speck, a dot or a fragment of a stroke.
SHORTEST_DIGIT = 0.45
# A line of writing is at least this fraction of the height of the tallest writing.
SMALLEST_LINE = 0.3


def _shortest_digit(tallest: int, shape: tuple[int, ...]) -> float:
    """The height below which ink is not a digit, beside writing `tallest` pixels tall."""
    return max(SHORTEST_DIGIT * tallest, MIN_DIGIT_HEIGHT * max(shape))


def _beside_border(
    border_groups: list[tuple[Box, list[int]]],
    boxes: dict[int, Box],
    tallest: int,
    shape: tuple[int, ...],
) -> list[tuple[Box, list[int]]]:
    """The groups that the pieces inside the frame form, in `border_groups` (groups that
    touch its border).

    A digit written close to something that runs to the border (a finger, the table beside
    the page, a 1 drawn across the paper's edge) is joined to it and would go with it.
    """
    found = []
    for _, indices in border_groups:
        inside = [(i, boxes[i]) for i in indices if not _touches_border(boxes[i], shape)]
        if inside and len(inside) < len(indices):
            found += _grouped(inside, tallest)
    return found


# A number cropped tight to its height: digits this much of the frame's height or more, of
# which some touch its top or bottom (and so look like border junk), at least ROW_DIGITS of
# them in all.
ROW_HEIGHT = 0.5
ROW_DIGITS = 2
# A thick pen's digit cropped tight fills more of its box than SOLID; a finger or a table
# fills nearly all of it.
ROW_SOLID = 0.7


def _cropped_row(
    pieces: list[tuple[int, Box]],
    junk: list[tuple[int, Box]],
    areas: np.ndarray,
    shape: tuple[int, ...],
) -> set[int]:
    """The pieces of `junk` that are digits of a number cropped tight to its height.

    A digit that touches the frame's top and bottom spans its height, as a paper edge or a
    finger does; but those are solid (ROW_SOLID), thin lines (`_edge_line`) or wider than tall, or
    run to the frame's left or right side. When two or more pieces of digit height stand in a
    row and each spans the frame only from top to bottom, they are the number's digits.
    """
    h, w = shape
    candidates = set()
    for i, (x0, y0, x1, y1) in junk:
        bw, bh = x1 - x0, y1 - y0
        area = int(areas[i])
        if (
            x0 > 0
            and x1 < w
            and bh >= ROW_HEIGHT * h
            and bw <= bh
            and area / (bw * bh) <= ROW_SOLID
            and not _edge_line((x0, y0, x1, y1), area, shape)
        ):
            candidates.add(i)
    if not candidates:
        return set()
    junk_ids = {i for i, _ in junk}
    tall_writing = [
        i for i, box in pieces if i not in junk_ids and box[3] - box[1] >= ROW_HEIGHT * h
    ]
    return candidates if len(candidates) + len(tall_writing) >= ROW_DIGITS else set()


def _touches_border(box: Box, shape: tuple[int, ...]) -> bool:
    h, w = shape
    x0, y0, x1, y1 = box
    return x0 == 0 or y0 == 0 or x1 == w or y1 == h


def _cropped_stroke(box: Box, area: int, shape: tuple[int, ...]) -> bool:
    """Border junk (`_border_junk`) only for spanning the frame one way: a stroke of writing
    cropped tight, not a paper edge (`_edge_line`), a finger or a table (solid)."""
    h, w = shape
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    one_way = (bw > 0.9 * w) != (bh > 0.9 * h)
    return one_way and area / (bw * bh) <= SOLID and not _edge_line(box, area, shape)


def _edge_line(box: Box, area: int, shape: tuple[int, ...]) -> bool:
    """A long thin line across most of the frame to its border: the edge of the paper, not a 1.

    Large digits written with a thin pen are long and thin too, but lie inside the frame.
    """
    h, w = shape
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    long = _touches_border(box, shape) and (bh > 0.75 * h or bw > 0.75 * w)
    return long and area < 0.05 * max(bw, bh) ** 2


def _edge_sliver(box: Box, junk: list[Box], shape: tuple[int, ...]) -> bool:
    """A thin line right beside a table or paper edge: its shadow or the paper's rim."""
    x0, y0, x1, y1 = box
    thin = min(x1 - x0, y1 - y0) <= max(3, 0.1 * max(x1 - x0, y1 - y0))
    margin = 0.08 * min(shape)
    return thin and any(
        x0 < jx1 + margin and jx0 - margin < x1 and y0 < jy1 + margin and jy0 - margin < y1
        for jx0, jy0, jx1, jy1 in junk
    )


# A table seen beside the page is far darker than the page; a shadow on the page is not.
TABLE_DARKER = 0.5
# How close to the frame's border (a fraction of its shorter side) a table can reach.
TABLE_REACH = 0.15


def _on_table(box: Box, labels: np.ndarray, grey: np.ndarray, page: float) -> bool:
    """Near the frame's border, on a surface under TABLE_DARKER of the page's brightness.

    The grain of a wooden table beside the page is ink to the paper estimate, which follows
    the table. The surface is the median grey of what is not ink in and around the box.
    """
    h, w = grey.shape
    x0, y0, x1, y1 = box
    if min(x0, y0, w - x1, h - y1) > TABLE_REACH * min(h, w):
        return False
    near, seen = _around(box, max(2, (y1 - y0) // 4), labels, grey)
    surface = seen[near == 0]
    return surface.size > 0 and _quantiles(surface, (0.5,))[0] < TABLE_DARKER * page


def _region(box: Box, margin: int) -> tuple[slice, slice]:
    """The rows and columns of the box and `margin` around it, clipped at 0."""
    x0, y0, x1, y1 = box
    return slice(max(0, y0 - margin), y1 + margin), slice(max(0, x0 - margin), x1 + margin)


def _around(
    box: Box, margin: int, labels: np.ndarray, grey: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The labels and grey values of the box and a margin, sampled down to about 600 pixels.

    A median needs no more, and a digit's box can hold 50,000 pixels. Whole lines across the
    box's long side are kept, so that every one of them crosses a thin stroke along it.
    """
    rows, columns = _region(box, margin)
    height, width = rows.stop - rows.start, columns.stop - columns.start
    step = max(1, height * width // 600)
    if height >= width:
        rows = slice(rows.start, rows.stop, step)
    else:
        columns = slice(columns.start, columns.stop, step)
    return labels[rows, columns], grey[rows, columns]


# Ink is darker than the paper on each side of the stroke. A piece no darker than this
# fraction of the darker paper right beside it is the edge of a shadow or of a table.
EDGE_DARKNESS = 0.9


def _an_edge(index: int, box: Box, labels: np.ndarray, grey: np.ndarray) -> bool:
    """No darker than the paper right beside it: an edge between two surfaces, not ink.

    Where the paper estimate misses a hard shadow's edge (or a table's), a strip of the
    darker side looks like a stroke: a straight line, a 1, or at the shadow's corner a 7.
    Most pieces are far darker than any paper near them and are settled on a sample. In the
    rest (a pencil stroke near a shadow is about as dark as the shadow), each pixel is
    compared with the darkest paper within reach on either side of the stroke. Ink is darker
    than the paper on both sides; along an edge one side is the shadow, as dark as the strip.
    Judged by the typical pixel, a pencil digit that crosses a shadow's edge is still ink.
    """
    near, seen = _around(box, 2, labels, grey)
    surface, stroke = seen[near == 0], seen[near == index]
    if surface.size == 0 or stroke.size == 0:
        return False
    (darker,) = _quantiles(surface, (0.1,))
    (ink,) = _quantiles(stroke, (0.5,))
    if ink <= EDGE_DARKNESS * darker:
        return False
    # Each pixel of the piece against the darkest paper within reach across the stroke.
    half_width = float(ndimage.distance_transform_edt(labels[_region(box, 1)] == index).max())
    reach = math.ceil(half_width) + 2
    region = _region(box, reach)
    own = labels[region] == index
    seen = grey[region]
    paper = np.where(labels[region] == 0, seen, np.float32(np.inf))
    darkest = ndimage.minimum_filter(paper, 2 * reach + 1)[own]
    (typical,) = _quantiles(seen[own] / np.maximum(darkest, np.float32(1e-3)), (0.5,))
    return typical > EDGE_DARKNESS


# More than this share of its box inked: a solid thing (a finger, a table), not a stroke.
SOLID = 0.45


def _border_junk(box: Box, area: int, shape: tuple[int, ...]) -> bool:
    """A paper edge, a finger or a table at the frame's border: touches it and is solid or huge."""
    h, w = shape
    x0, y0, x1, y1 = box
    if not _touches_border(box, shape):
        return False
    bw, bh = x1 - x0, y1 - y0
    return bw > 0.9 * w or bh > 0.9 * h or area / (bw * bh) > SOLID


def _grouped(pieces: list[tuple[int, Box]], tallest: int) -> list[tuple[Box, list[int]]]:
    """Join pieces stacked above each other or separated by a gap far thinner than a digit."""
    parent = list(range(len(pieces)))

    def root(k: int) -> int:
        return _root(parent, k)

    near = 0.06 * tallest
    for a in range(len(pieces)):
        for b in range(a + 1, len(pieces)):
            (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = pieces[a][1], pieces[b][1]
            overlap = min(ax1, bx1) - max(ax0, bx0)
            gap = max(bx0 - ax1, ax0 - bx1, by0 - ay1, ay0 - by1)
            # One above the other and close: the flag of a 5, the loops of a broken 8 (not a
            # digit above a table's edge further down).
            stacked = overlap > 0.5 * min(ax1 - ax0, bx1 - bx0) and gap < STACKED_GAP * tallest
            if stacked or gap < near:
                parent[root(a)] = root(b)
    groups: dict[int, tuple[Box, list[int]]] = {}
    for k, (index, box) in enumerate(pieces):
        top = root(k)
        if top in groups:
            old_box, indices = groups[top]
            groups[top] = (_union(old_box, box), [*indices, index])
        else:
            groups[top] = (box, [index])
    return list(groups.values())


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
