"""Stage 2 of reading a photo: the paper and the ink.

The paper's brightness is estimated around each pixel (a closing, with hard shadows followed);
a pixel's ink strength is how much darker it is than that paper. `ink_labels` then labels the
strokes: ink at STRONG_INK, grown into the weaker ink around it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from PIL import Image
from scipy import ndimage

from model.marks import EIGHT_NEIGHBOURS

# A pixel is ink when it is this much darker than the paper around it (relative contrast).
STRONG_INK = 0.30
WEAK_INK_FRACTION = 0.45
# A thin ballpoint's pressure varies along a stroke: the lightly drawn loop of a 9 falls to a
# third of the page's strongest ink, and at WEAK_INK_FRACTION broke into specks (real photos: a
# 9 read as the 1 of its stem, a first digit written lighter lost). Ink down to this fraction
# joins such pieces to the stroke they belong to, unless it bridges two strokes of some size
# (each with PIECE_SHARE as much strong ink as the photo's most): two digits touching through
# the blur between them.
LIGHT_INK_FRACTION = 0.3
PIECE_SHARE = 0.25
# Light ink counts only within this many pixels of darker ink: a gap in a stroke, not a ruled
# line drawn at that contrast through a digit and on to the frame's border.
LIGHT_REACH = 3
# Further than that, light ink still joins a stroke's pieces when it is one stroke of a digit's
# size: a pencil pressed harder on a 7's bar and crossbar than along its stem, whose stem stays
# light for longer than LIGHT_REACH (the bar and the crossbar, each too short for a digit, were
# dropped, and the 7 vanished). Such light ink lies inside the frame and is at most LIGHT_SPAN
# as long as the tallest stroke: a ruled line runs to the border, or across the page, far
# longer than a digit. It holds at most two strokes DIGIT_TALL of that stroke's height or more,
# and two only when they are no wider together than ONE_DIGIT_WIDE of their height and light
# ink near darker ink does not join them (a 4's L and stem, its crossbar light where it reaches
# the stem): digits side by side, or touching through the blur between them, are two.
LIGHT_SPAN = 1.5
DIGIT_TALL = 0.45
ONE_DIGIT_WIDE = 1.0
MIN_WEAK_INK = 0.10
# A faint pencil line can stay below STRONG_INK everywhere (the bench's pencil digits peak at
# 0.22-0.26 one time in a hundred). At half resolution, paper grain and thin printed lines are
# averaged away (no bench blank photo exceeds 0.16 there, a ruled page's margin line reaches
# 0.27 at full resolution), while a pencil stroke several pixels wide keeps its contrast; so a
# half-resolution analysis that finds no digit at STRONG_INK looks again at this level. What
# it did find may be junk at the border, a shadow's corner or a finger, far darker than the
# pencil: a faint stroke is then measured against the faint ink, not against the junk.
FAINT_INK = 0.20


# The paper estimate's closing, as a fraction of the shorter side: wider than the thickest
# marker stroke of a digit of ordinary size, or its inside would be taken for paper, and no
# wider, as a wide closing takes the paper beside a hard shadow's edge for ink.
CLOSING = 0.25


def ink_map(grey: np.ndarray) -> np.ndarray:
    """Return each pixel's ink strength 0..1: how much darker it is than the paper around it.

    Light ink on dark paper is recognised and inverted. The paper is estimated by a
    morphological closing, which follows gradients and keeps the edges of hard shadows.
    """
    return _ink_of_dark_ink(dark_ink(grey))


def dark_ink(grey: np.ndarray) -> np.ndarray:
    """The grey image with its ink dark: light ink on dark paper (chalk, a screen) inverted."""
    return 1.0 - grey if _ink_is_light(grey) else grey


def _ink_of_dark_ink(grey: np.ndarray, closing: float = CLOSING) -> np.ndarray:
    """`ink_map` of a grey image whose ink is dark; `closing` as in `_paper_brightness`."""
    paper = _paper_brightness(grey, closing)
    # In place, as each whole-image pass costs as much as the arithmetic on a small photo.
    contrast = paper - grey
    contrast /= np.maximum(paper, 0.05, out=paper)
    # Most pixels are paper: their contrast is sensor noise and paper texture. Take that floor
    # off, so the paper around a stroke does not count as faint ink.
    sample = contrast[::4, ::4]
    (median,) = _quantiles(sample, (0.5,))
    (mad,) = _quantiles(np.abs(sample - np.float32(median)), (0.5,))
    spread = 3.0 * 1.4826 * mad
    if spread > TEXTURE_LIMIT:
        # The picture varies as much from pixel to pixel as ink differs from paper (static,
        # gravel, foliage): nothing in it stands out as writing.
        return np.zeros(grey.shape, np.float32)
    floor = min(median + spread, 0.5)
    contrast -= floor
    contrast /= 1.0 - floor
    return np.asarray(np.clip(contrast, 0.0, 1.0, out=contrast).astype(np.float32, copy=False))


# Paper's texture and noise in the bench's photos spread at most 0.18 (a dim photo); beyond this
# a picture is texture, not paper (a photo cropped tight around a fat digit spreads little:
# most of its pixels are ink, all alike).
TEXTURE_LIMIT = 0.5


def _quantiles(values: np.ndarray, fractions: tuple[float, ...]) -> list[float]:
    """`np.percentile(values, 100 * fractions)` (linear interpolation), by one partition.

    NumPy's percentile spends more on its generality than on the partition for a few thousand
    values, and this runs several times per photo.
    """
    flat = values.ravel()
    last = flat.size - 1
    positions = [f * last for f in fractions]
    lows = [math.floor(p) for p in positions]
    ordered = np.partition(flat, sorted({k for low in lows for k in (low, min(low + 1, last))}))
    return [
        float(ordered[low]) + (p - low) * (float(ordered[min(low + 1, last)]) - float(ordered[low]))
        for p, low in zip(positions, lows, strict=True)
    ]


def _block_means(image: np.ndarray, block: int) -> np.ndarray:
    """Average `block` x `block` tiles (PIL's reduce: far faster than a numpy reshape-mean)."""
    reduced = Image.fromarray(image.astype(np.float32, copy=False), "F").reduce(block)
    return np.asarray(reduced)


def _ink_is_light(grey: np.ndarray) -> bool:
    # Dark ink on light paper is the rule; only a clearly dark picture whose few outliers are
    # bright (chalk on a board, white digits on black) counts as light ink. A dim photo of
    # paper stays dark ink: its darkest pixels still stand out below the paper.
    sample = grey[::4, ::4]
    low, median, high = _quantiles(sample, (0.005, 0.5, 0.995))
    return bool(median < 0.4 and high - median > 0.3 and median - low < 0.5 * (high - median))


def _paper_brightness(grey: np.ndarray, closing: float = CLOSING) -> np.ndarray:
    """The paper's brightness at each pixel, by a closing `closing` of the shorter side wide."""
    block = max(1, max(grey.shape) // 80)
    # Block means rather than maxima: a maximum would pick the noise's bright peaks.
    coarse = _block_means(grey, block) if block > 1 else grey
    size = max(3, round(min(coarse.shape) * closing) | 1)
    closed = _closing(coarse, size).astype(np.float32, copy=False)
    # Hard shadows are followed at half resolution: as sharp as a thin stroke needs, and cheap.
    half = _block_means(grey, 2)
    paper = _upsampled(closed, half.shape)
    _follow_hard_shadows(paper, closed, half)
    return _upsampled(paper, grey.shape)


def _closing(image: np.ndarray, size: int) -> np.ndarray:
    """Grey closing by an odd `size` square: removes dark features narrower, keeps wide ones."""
    for extreme in (np.maximum, np.minimum):
        image = _running(extreme, _running(extreme, image, size, 0), size, 1)
    return image


def _running(
    extreme: Callable[..., np.ndarray], image: np.ndarray, size: int, axis: int
) -> np.ndarray:
    """The maximum (or minimum) over `size` pixels centred on each, along `axis`; the edge
    pixels repeat beyond the border.

    By doubling: a window of 2w pixels is two of w, so log2(size) whole-array passes. This is
    ten times faster than `scipy.ndimage.maximum_filter1d` for these sizes.
    """
    lines = np.moveaxis(image, axis, 0)
    n, half = lines.shape[0], size // 2
    padded = np.concatenate([lines[:1].repeat(half, 0), lines, lines[-1:].repeat(half, 0)])
    width = 1
    while 2 * width <= size:
        padded = extreme(padded[:-width], padded[width:])
        width *= 2
    # Two overlapping windows of `width` cover each window of `size`.
    return np.moveaxis(extreme(padded[:n], padded[size - width : size - width + n]), 0, axis)


# Wider than a pencil's or a thin pen's stroke: a fraction of the photo's shorter side.
FINE_CLOSING = 0.06
# Paper, not the inside of a thick stroke, is at least this fraction of the darkest coarse
# paper within NEAR_BLOCKS.
SHADOW_LEVEL = 0.9
NEAR_BLOCKS = 5


def _follow_hard_shadows(paper: np.ndarray, closed: np.ndarray, grey: np.ndarray) -> None:
    """Where a finer closing of `grey` finds darker paper, take it (`paper` is changed).

    The coarse estimate blurs a hard shadow's edge over a few blocks and fills the shadow's
    sharp corners and narrow bands, so a strip of shadowed paper looks like a stroke and a
    digit crossing the edge is joined to it. A closing only a little wider than a pencil's
    stroke keeps the shadow's shape. It would also take the inside of a thick stroke for
    paper, so it is used only where it is about as bright as the darkest coarse paper nearby:
    a shadow's paper is, ink is far darker.
    """
    size = max(3, round(FINE_CLOSING * min(grey.shape)) | 1)
    fine = _closing(grey, size)
    floor = _upsampled(ndimage.minimum_filter(closed, NEAR_BLOCKS), grey.shape)
    floor *= SHADOW_LEVEL
    np.minimum(paper, fine, out=paper, where=fine >= floor)


def _upsampled(coarse: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Bilinear resize to `shape` (pixel centres aligned, edges clamped, as Pillow's).

    Upsampling takes two source pixels per output pixel, so it is a few numpy passes: columns
    on the small image first, then whole rows, which are contiguous.
    """
    left, right, wx = _taps(shape[1], coarse.shape[1])
    columns = coarse[:, left]
    columns += (coarse[:, right] - columns) * wx
    top, bottom, wy = _taps(shape[0], coarse.shape[0])
    rows = columns[top]
    rows += (columns[bottom] - rows) * wy[:, np.newaxis]
    return np.asarray(rows)


@functools.lru_cache(maxsize=64)  # photo sizes vary; a few are common
def _taps(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of `n_out` pixels, the two of `n_in` it lies between and the second's weight."""
    centre = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    low = np.floor(centre)
    weight = (centre - low).astype(np.float32)
    low_index = low.astype(np.intp)
    taps = np.clip(low_index, 0, n_in - 1), np.clip(low_index + 1, 0, n_in - 1), weight
    for array in taps:
        array.flags.writeable = False
    return taps


def ink_labels(ink: np.ndarray, faint: bool = False) -> np.ndarray:
    """Label connected strokes of ink (0 is paper), by hysteresis relative to the strongest ink.

    The strokes of `ink_strokes`, without those weak ink shows apart.
    """
    labels, _ = ink_strokes(ink, faint)
    return labels


def ink_strokes(ink: np.ndarray, faint: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Label connected strokes of ink (0 is paper), by hysteresis relative to the strongest ink;
    and, labelled apart, the strokes weak ink alone shows (before light ink joins them).

    A stroke is every connected pixel at least WEAK_INK_FRACTION as dark as typical strong ink,
    provided it holds some strong ink: faint printed lines and paper texture never do. Lighter
    ink, down to LIGHT_INK_FRACTION and within LIGHT_REACH pixels of darker ink (further in a
    light stroke of a digit's size, `_lighter_strokes`), joins a stroke's pieces and the specks
    around it into one stroke, but does not join strokes of some size to each other
    (`_joined_by_light_ink`).
    `faint` (for half-resolution analysis only) takes FAINT_INK as strong, and the ink below
    STRONG_INK, if any, as typical: a light pencil.
    """
    strong = ink >= (FAINT_INK if faint else STRONG_INK)
    if not strong.any():
        return np.zeros(ink.shape, np.int32), np.zeros(ink.shape, np.int32)
    typical = ink[strong]
    if faint:
        fainter = typical[typical < STRONG_INK]
        typical = fainter if fainter.size else typical
    (level,) = _quantiles(typical, (0.9,))
    light = ink >= max(MIN_WEAK_INK, LIGHT_INK_FRACTION * level)
    labels = np.zeros(ink.shape, np.int32)
    weak_strokes = np.zeros(ink.shape, np.int32)
    # Only the part of the photo with ink is labelled: a tenth of it, for most photos.
    window = _window(light)
    if window is None:
        return labels, weak_strokes
    weak = ink[window] >= max(MIN_WEAK_INK, WEAK_INK_FRACTION * level)
    seeds = weak | strong[window]
    near = seeds
    for _ in range(LIGHT_REACH):
        near = grown(near)
    rows, cols = window
    edges = (rows.start == 0, cols.start == 0, rows.stop == ink.shape[0], cols.stop == ink.shape[1])
    labels[window], weak_strokes[window] = _joined_by_light_ink(
        weak, light[window], near, strong[window], edges
    )
    return labels, weak_strokes


def _joined_by_light_ink(
    weak: np.ndarray,
    light: np.ndarray,
    near: np.ndarray,
    strong: np.ndarray,
    edges: tuple[bool, bool, bool, bool],
) -> tuple[np.ndarray, np.ndarray]:
    """The strokes of `weak` ink that hold `strong` ink, each joined to what `light` ink
    `near` darker ink, or a lighter stroke (`_lighter_strokes`), connects it to, unless that
    connects two strokes of some size (each holding PIECE_SHARE as much strong ink as the most)
    other than through a lighter stroke; and light ink holding strong ink but no stroke (a
    light loop beside a dark stem). `edges` tells which sides of these arrays (top, left,
    bottom, right) are the frame's border.

    Labels run from 1 without gaps. The light ink right beside a stroke is its blurred edge:
    it is left out, so that a stroke is as wide as at WEAK_INK_FRACTION and only light ink
    beyond its edge is added. Also returned: the strokes of `weak` ink that hold `strong` ink,
    as found (labels with gaps, 0 elsewhere).
    """
    found, count = ndimage.label(weak, structure=EIGHT_NEIGHBOURS)
    joined, light_count = ndimage.label(light & near, structure=EIGHT_NEIGHBOURS)
    lighter = _lighter_strokes(found, light, near, strong, edges, joined)
    if lighter is not None:
        joined, light_count = ndimage.label(light & (near | lighter), structure=EIGHT_NEIGHBOURS)
    # Strong ink tells which strokes are kept, how large, and which light stroke each lies in.
    strokes, lights = found[strong], joined[strong]
    strength = np.bincount(strokes, minlength=count + 1)
    strength[0] = 0
    keep = strength > 0
    within = np.zeros(count + 1, np.intp)
    within[strokes] = lights
    sized = strength >= PIECE_SHARE * strength.max()
    holds = np.bincount(lights, minlength=light_count + 1) > 0
    holds[0] = False
    one = np.bincount(within[sized], minlength=light_count + 1) <= 1
    if lighter is not None:
        one[np.unique(joined[lighter])] = True
    one &= holds
    # Renumbering through lookup tables: one pass over the window each.
    light_numbers = np.zeros(light_count + 1, np.int32)
    light_numbers[one] = np.arange(1, int(one.sum()) + 1, dtype=np.int32)
    labels: np.ndarray = np.take(light_numbers, joined)
    apart = keep & ~one[within]
    if apart.any():
        # Strokes that light ink would join to another: as found, in light ink not joined.
        stroke_numbers = np.zeros(count + 1, np.int32)
        stroke_numbers[apart] = np.arange(1, int(apart.sum()) + 1, dtype=np.int32) + int(one.sum())
        labels += np.take(stroke_numbers, found)
    labels[_edge_of(weak)] = 0
    return labels, np.where(keep[found], found, 0).astype(np.int32)


def _lighter_strokes(
    found: np.ndarray,
    light: np.ndarray,
    near: np.ndarray,
    strong: np.ndarray,
    edges: tuple[bool, bool, bool, bool],
    joined: np.ndarray,
) -> np.ndarray | None:
    """The light ink, however far from darker ink, of the strokes of light ink that hold
    strokes `found` (of weak ink holding `strong` ink) and are of a digit's size (LIGHT_SPAN,
    DIGIT_TALL, ONE_DIGIT_WIDE); None when there is none. `joined` labels the light ink near
    darker ink; `edges` as in `_joined_by_light_ink`."""
    # Only light ink that reaches beyond LIGHT_REACH makes a lighter stroke; unless it touches
    # light ink near darker ink (one of its eight neighbours), there is none: most photos.
    beyond = light & ~near
    rows_grown = beyond.copy()
    rows_grown[1:] |= beyond[:-1]
    rows_grown[:-1] |= beyond[1:]
    touching = rows_grown.copy()
    touching[:, 1:] |= rows_grown[:, :-1]
    touching[:, :-1] |= rows_grown[:, 1:]
    if not (touching & (joined > 0)).any():
        return None
    boxes = ndimage.find_objects(found)
    keep = np.bincount(found[strong], minlength=len(boxes) + 1) > 0
    keep[0] = False
    heights = np.zeros(keep.size, np.intp)
    inside = np.zeros(keep.size, bool)
    for index in np.flatnonzero(keep):
        rows, cols = boxes[index - 1]
        heights[index] = rows.stop - rows.start
        inside[index] = not _at_edges(rows, cols, light.shape, edges)
    tallest = int(heights[inside].max(initial=0)) or int(heights.max(initial=0))
    if tallest == 0:
        return None
    lights, count = ndimage.label(light, structure=EIGHT_NEIGHBOURS)
    within = np.zeros(keep.size, np.intp)
    within[found[strong]] = lights[strong]
    tall = keep & (heights >= DIGIT_TALL * tallest)
    holds = np.bincount(lights[strong], minlength=count + 1) > 0
    holds &= np.bincount(lights[beyond], minlength=count + 1) > 0
    holds[0] = False
    talls = np.bincount(within[tall], minlength=count + 1)
    # Which light ink near darker ink each stroke lies in: two strokes of a digit's height in
    # one are two digits touching through the blur between them.
    near_light = np.zeros(keep.size, np.intp)
    near_light[found[strong]] = joined[strong]
    trusted = np.zeros(count + 1, bool)
    light_boxes = ndimage.find_objects(lights)
    for index in np.flatnonzero(holds & (talls <= 2)):
        rows, cols = light_boxes[index - 1]
        height, width = rows.stop - rows.start, cols.stop - cols.start
        apart = talls[index] <= 1 or (
            width <= ONE_DIGIT_WIDE * height
            and np.unique(near_light[tall & (within == index)]).size == talls[index]
        )
        trusted[index] = (
            apart
            and max(height, width) <= LIGHT_SPAN * tallest
            and not _at_edges(rows, cols, light.shape, edges)
        )
    if not trusted.any():
        return None
    return np.asarray(trusted[lights])


def _at_edges(
    rows: slice, cols: slice, shape: tuple[int, ...], edges: tuple[bool, bool, bool, bool]
) -> bool:
    """Whether a box touches one of the `edges` (top, left, bottom, right) of an array."""
    top, left, bottom, right = edges
    return (
        (top and rows.start == 0)
        or (left and cols.start == 0)
        or (bottom and rows.stop == shape[0])
        or (right and cols.stop == shape[1])
    )


def grown(mask: np.ndarray) -> np.ndarray:
    """`mask` and the pixels next to it (above, below, left or right): `ndimage.binary_dilation`
    by a cross, nothing beyond the border, by slicing."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def _edge_of(mask: np.ndarray) -> np.ndarray:
    """The pixels next to `mask` (above, below, left or right) and not in it."""
    edge = grown(mask)
    edge &= ~mask
    return edge


def _window(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The smallest rectangle holding every non-zero pixel of `mask`; None when there is none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)
