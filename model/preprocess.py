"""Photo bytes → one 8x8 optdigits grid per handwritten digit, in reading order.

The training data (`load_digits`) was made by NIST's normalizer: crop to the ink, scale width to
20 and height to 32 independently, centre in 32x32, normalize the stroke width by the number of
ink pixels, then count the ink in 4x4 blocks. Photos only look like the training data if they go
through the same steps, so this module reproduces them and is used for training data too.
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from model.errors import ImageTooLarge, NotAnImage
from model.marks import EIGHT_NEIGHBOURS, without_marks

ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "GIF"})
# A legal 8000x6000 photo is fine (JPEG decodes it at reduced scale); a PNG that declares
# 50,000 x 50,000 pixels is a decompression bomb and is refused before decoding.
MAX_PIXELS = 64_000_000
# Long side, in pixels, at which photos are analysed. A digit a tenth of the photo's height
# is then still about 50 px tall, enough for the 32x32 normalization.
WORK_SIDE = 640
MIN_WORK_SIDE = 96
# When the tallest digit found at half resolution is shorter than this (in pixels at half
# resolution), the photo is analysed again at full resolution.
DETAIL_BELOW = 40
# Ink shorter than this fraction of the image's long side is a speck or texture, not a digit
# (the bench's smallest digits are 6 % of the photo's height, about 4.5 % of its long side).
MIN_DIGIT_HEIGHT = 0.025

# NIST's box: width 20 and height 32, centred in 32x32; ink-pixel count kept in [256, 412].
BOX_W, BOX_H, FRAME = 20, 32, 32
MIN_INK, MAX_INK = 256, 412

# A pixel is ink when it is this much darker than the paper around it (relative contrast).
STRONG_INK = 0.30
WEAK_INK_FRACTION = 0.45
MIN_WEAK_INK = 0.10
# A faint pencil line can stay below STRONG_INK everywhere (the bench's pencil digits peak at
# 0.22-0.26 one time in a hundred). At half resolution, paper grain and thin printed lines are
# averaged away (no bench blank photo exceeds 0.16 there, a ruled page's margin line reaches
# 0.27 at full resolution), while a pencil stroke several pixels wide keeps its contrast; so a
# half-resolution analysis that finds no digit at STRONG_INK looks again at this level. What
# it did find may be junk at the border, a shadow's corner or a finger, far darker than the
# pencil: a faint stroke is then measured against the faint ink, not against the junk.
FAINT_INK = 0.20

Box = tuple[int, int, int, int]

# The paper estimate's closing, as a fraction of the shorter side: wider than the thickest
# marker stroke of a digit of ordinary size, or its inside would be taken for paper, and no
# wider, as a wide closing takes the paper beside a hard shadow's edge for ink.
CLOSING = 0.25
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


def decode_grey(data: bytes, work_side: int = WORK_SIDE) -> tuple[np.ndarray, float]:
    """Decode image bytes to grey values 0..1 with the long side near `work_side`.

    Returns the grey image and the factor from analysis pixels to original pixels.
    """
    try:
        with warnings.catch_warnings():
            # The pixel count is checked below, against our own, lower limit.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge("the image declares far too many pixels") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise NotAnImage("not an image in a format I can read") from exc
    if img.format not in ACCEPTED_FORMATS:
        raise NotAnImage(f"{img.format} images are not supported")
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(f"{width}x{height} pixels is more than {MAX_PIXELS:,}")
    try:
        if img.format in ("JPEG", "MPO"):
            # Decoding at 1/2, 1/4 or 1/8 scale skips most of the JPEG's work.
            scale = work_side / max(width, height)
            img.draft("L", (math.ceil(width * scale), math.ceil(height * scale)))
        ImageOps.exif_transpose(img, in_place=True)
        grey = _grey_image(img)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise NotAnImage("the image data is damaged or truncated") from exc
    orig_long = max(width, height)
    long_side = max(grey.size)
    target = min(work_side, max(long_side, MIN_WORK_SIDE))
    if long_side != target:
        factor = target / long_side
        new_size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
        grey = grey.resize(new_size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = np.asarray(grey, dtype=np.float32) / np.float32(255.0)
    return pixels, orig_long / max(grey.size)


def _grey_image(img: Image.Image) -> Image.Image:
    """Return an 8-bit grey image, with transparency flattened onto white paper."""
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(img, dtype=np.float64)
        top = 65535.0 if values.max() > 255 else 255.0
        return Image.fromarray(np.clip(values / top * 255.0, 0, 255).astype(np.uint8), "L")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if not has_alpha:
        return img.convert("L")
    rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3]
    luma = rgba[..., 0] * 0.299 + rgba[..., 1] * 0.587 + rgba[..., 2] * 0.114
    over_white = luma * alpha + (1.0 - alpha)
    if over_white.std() < 0.02 < alpha.std():
        # Light ink on a transparent background: the alpha channel is the drawing.
        over_white = 1.0 - alpha
    return Image.fromarray((over_white * 255.0 + 0.5).astype(np.uint8), "L")


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
    return np.clip(contrast, 0.0, 1.0, out=contrast).astype(np.float32, copy=False)


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
    return rows


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

    A stroke is every connected pixel at least WEAK_INK_FRACTION as dark as typical strong ink,
    provided it holds some strong ink: faint printed lines and paper texture never do.
    `faint` (for half-resolution analysis only) takes FAINT_INK as strong, and the ink below
    STRONG_INK, if any, as typical: a light pencil.
    """
    strong = ink >= (FAINT_INK if faint else STRONG_INK)
    if not strong.any():
        return np.zeros(ink.shape, np.int32)
    typical = ink[strong]
    if faint:
        fainter = typical[typical < STRONG_INK]
        typical = fainter if fainter.size else typical
    (level,) = _quantiles(typical, (0.9,))
    weak = ink >= max(MIN_WEAK_INK, WEAK_INK_FRACTION * level)
    labels = np.zeros(ink.shape, np.int32)
    # Only the part of the photo with ink is labelled: a tenth of it, for most photos.
    window = _window(weak)
    if window is None:
        return labels
    found, count = ndimage.label(weak[window], structure=EIGHT_NEIGHBOURS)
    keep = np.zeros(count + 1, bool)
    keep[found[strong[window]]] = True
    if not keep[1:].all():
        # Renumbering through a lookup table is one pass over the window, not three.
        found = np.take(np.arange(count + 1, dtype=found.dtype) * keep, found)
    labels[window] = found
    return labels


def _window(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The smallest rectangle holding every non-zero pixel of `mask`; None when there is none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


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
    junk = [box for _, box in junk_pieces]
    pieces = [
        (i, box)
        for i, box in pieces
        if box not in junk and not _edge_sliver(box, junk, labels.shape)
    ]
    if not pieces:
        return _found(_cropped_groups(junk_pieces, areas, labels, grey), labels)
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
    at_border = [_touches_border(box, labels.shape) for box, _ in groups]
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
    return ndimage.label(own, structure=EIGHT_NEIGHBOURS)[0]


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


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def deslanted(ink: np.ndarray) -> np.ndarray:
    """Shear the ink so that its main axis is vertical, as NIST's slant correction does."""
    weights = np.asarray(ink, dtype=np.float64)
    rows = weights.sum(axis=1)
    total = float(rows.sum())
    if total <= 0:
        return ink
    # The moments from the ink's row sums and one matrix product, not from coordinate images.
    ys = np.arange(ink.shape[0], dtype=np.float64)
    xs = np.arange(ink.shape[1], dtype=np.float64)
    ybar = float(ys @ rows / total)
    xbar = float(xs @ weights.sum(axis=0) / total)
    mu02 = float((ys - ybar) ** 2 @ rows)
    mu11 = float((ys - ybar) @ weights @ (xs - xbar))
    if mu02 <= 0:
        return ink
    shear = float(np.clip(mu11 / mu02, -1.0, 1.0))
    if abs(shear) < 0.02:
        return ink
    return sheared(ink, shear, ybar, pad=math.ceil(abs(shear) * ink.shape[0] / 2) + 1)


def sheared(ink: np.ndarray, shear: float, ybar: float, pad: int) -> np.ndarray:
    """Shift each row by `shear` per row from `ybar`, widened by `pad` on both sides.

    Output pixel (y, x) samples input (y, x - pad + shear * (y - ybar)), linearly between the
    two nearest pixels of its row; outside the row it is paper. Rows only shift, so this is
    `ndimage.affine_transform(..., order=1)` at a fraction of its cost.
    """
    h, w = ink.shape
    ys = np.arange(h, dtype=np.float64)
    source = np.arange(w + 2 * pad) + (shear * (ys - ybar) - pad)[:, np.newaxis]
    left = np.clip(source.astype(np.intp), 0, max(w - 2, 0))
    fraction = source - left
    flat = np.ravel(ink)
    index = left + (np.arange(h) * w)[:, np.newaxis]
    a = flat.take(index)
    out = a + (flat.take(np.minimum(index + 1, flat.size - 1)) - a) * fraction
    out[(source < 0) | (source > w - 1)] = 0.0
    return out.astype(ink.dtype, copy=False)


def to_optdigits_grid(ink: np.ndarray) -> np.ndarray:
    """Normalize one digit's ink (float, ink high) to an 8x8 grid of 0..16 ink counts.

    The caller passes the ink of exactly one digit; slant is corrected here.
    """
    return optdigits_grid_and_aspect(ink)[0]


def optdigits_grid_and_aspect(ink: np.ndarray) -> tuple[np.ndarray, float]:
    """Return the 8x8 grid of one digit's ink and the width/height of its deslanted ink.

    The aspect ratio is what the normalization throws away (every digit is stretched to the
    same box), and what tells a single digit from two squeezed together.
    """
    ink = np.asarray(ink, dtype=np.float32)
    if ink.shape[0] > 2 * FRAME:
        # Twice the frame's resolution is plenty for the 32x32 bitmap, and much cheaper.
        h, w = ink.shape
        size = (max(1, round(w * 2 * FRAME / h)), 2 * FRAME)
        ink = np.asarray(Image.fromarray(ink, "F").resize(size, Image.Resampling.BILINEAR))
    frame, aspect = frame_and_aspect(deslanted(ink))
    return frame.reshape(8, 4, 8, 4).sum(axis=(1, 3)).astype(np.int64), aspect


def frame_and_aspect(ink: np.ndarray) -> tuple[np.ndarray, float]:
    """Return the 32x32 binary bitmap NIST's normalizer would make, and the ink's aspect."""
    frame = np.zeros((FRAME, FRAME), dtype=bool)
    if ink.size == 0 or float(ink.max()) <= 0:
        return frame, 1.0
    level = float(ink.max())
    rows = np.flatnonzero(ink.max(axis=1) > 0.25 * level)
    cols = np.flatnonzero(ink.max(axis=0) > 0.25 * level)
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] / level
    h, w = crop.shape
    # A narrow digit (a plain "1") keeps a narrow shape instead of being stretched into a block.
    width = int(np.clip(round(2.0 * BOX_H * w / h), 1, BOX_W))
    scaled = np.asarray(
        Image.fromarray(crop.astype(np.float32), "F").resize(
            (width, BOX_H), Image.Resampling.BILINEAR
        )
    )
    left = (FRAME - width) // 2
    frame[:, left : left + width] = _stroke_normalized(scaled)
    return frame, w / h


def _stroke_normalized(scaled: np.ndarray) -> np.ndarray:
    """Binarize so that the ink-pixel count lands in NIST's range, thinning or thickening."""
    bitmap = scaled > 0.35
    count = int(bitmap.sum())
    if count > MAX_INK:
        # Thinner strokes: keep only the strongest pixels, like an erosion keeps stroke centres.
        threshold = np.partition(scaled.ravel(), -MAX_INK)[-MAX_INK]
        bitmap = scaled >= max(threshold, 0.35)
        if int(bitmap.sum()) > MAX_INK:
            eroded = ndimage.binary_erosion(bitmap)
            bitmap = eroded if eroded.sum() >= MIN_INK else bitmap
    elif count < MIN_INK:
        positive = scaled[scaled > 0.08]
        if positive.size >= MIN_INK:
            threshold = np.partition(positive, -MIN_INK)[-MIN_INK]
            bitmap = scaled >= threshold
        else:
            bitmap = scaled > 0.08
        for _ in range(3):
            if int(bitmap.sum()) >= MIN_INK:
                break
            bitmap = ndimage.binary_dilation(bitmap)
    return bitmap


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
    if reduced:
        grey, factor = decode_grey(data, work_side // 2)
        found = _options_in(grey, factor, faint=True)
        tallest = max((o[0].digits[0].box[3] - o[0].digits[0].box[1] for o in found), default=0)
        # Nothing found is looked for again too: a small digit written with a thin pen fades
        # at half resolution. The texture of a wall or of paper that then shows up is
        # speck-sized, below MIN_DIGIT_HEIGHT.
        if tallest / factor >= DETAIL_BELOW or max(grey.shape) < work_side // 2:
            return found
    grey, factor = decode_grey(data, work_side)
    return _options_in(grey, factor)


def _options_in(grey: np.ndarray, factor: float, faint: bool = False) -> list[Options]:
    grey = dark_ink(grey)
    ink, groups, maybe = (
        _tight_crop_reading(grey, faint) if _cropped_tight(grey) else (None, [], None)
    )
    if ink is None:
        ink = _ink_of_dark_ink(grey)
        groups, maybe = _groups_of(ink, grey, faint)
    found = []
    # The groups are in reading order, by these lines (`digit_groups`).
    lines = line_numbers([box for box, _ in groups])
    for (group, pieces), line in zip(groups, lines, strict=True):
        options = _cuts(group, pieces, ink, factor, line)
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
) -> Options:
    """The ways to cut a group (`pieces` labelled in its box) into one or more digits."""
    own = pieces > 0
    columns = stroke_columns(pieces)
    # One digit is always among the counts, and never fails to cut.
    cuts = [
        (count, cut_apart(group, own, count, pieces, columns))
        for count in digit_counts(group, len(columns))
    ]
    return [
        Cut(tuple(parts), ink, factor, _sliced(group, pieces, parts), unmarked=unmarked, line=line)
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
) -> tuple[np.ndarray | None, list[tuple[Box, np.ndarray]], np.ndarray | None]:
    """The ink, groups and maybe-underlines seen with WIDE_CLOSING, if they hold a digit
    TIGHT_CROP tall."""
    ink = _ink_of_dark_ink(grey, WIDE_CLOSING)
    groups, maybe = _groups_of(ink, grey, faint)
    if max((box[3] - box[1] for box, _ in groups), default=0) >= TIGHT_CROP * grey.shape[0]:
        return ink, groups, maybe
    return None, [], None


def _groups_of(
    ink: np.ndarray, grey: np.ndarray, faint: bool
) -> tuple[list[tuple[Box, np.ndarray]], np.ndarray | None]:
    """`digit_groups` of the ink, and the lines in them that may be underlines (`_unmarked`).

    With `faint` (half resolution), looked for at FAINT_INK when none is found; and none is
    returned when writing that only FAINT_INK shows lies beside what is found
    (`_fainter_writing`), so that the photo is looked at again at full resolution.
    """
    labels = ink_labels(ink)
    # The strokes before rings and underlines are taken out of the labels (`_fainter_writing`).
    strokes = labels > 0 if faint else None
    labels, maybe = _unmarked(labels, ink)
    groups = digit_groups(labels, grey)
    if strokes is not None and groups and _fainter_writing(ink, strokes, groups):
        return [], None
    if faint and not groups:
        labels, maybe = _unmarked(ink_labels(ink, faint=True), ink)
        groups = digit_groups(labels, grey)
    return groups, maybe


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


def _grown(mask: np.ndarray) -> np.ndarray:
    """`ndimage.binary_dilation(mask)` (by a cross, nothing beyond the border), by slicing."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    return grown


def _digit_image(ink: np.ndarray, box: Box, own: np.ndarray, factor: float) -> DigitImage:
    x0, y0, x1, y1 = box
    near = _grown(_grown(own))
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
