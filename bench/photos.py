"""Parametric renderer of synthetic phone photos of handwritten digits.

The handwriting comes from MNIST's test digits [0:5000] (249 writers, none in the
training data; ``HELDOUT`` indexes them).  A :class:`Condition` describes
how a photo is taken (paper, ink, stroke, size, position, rotation, slant, lighting,
background, noise, blur, JPEG quality and distractors); :func:`render_digits` turns
one or more 28x28 glyphs into a JPEG photo plus the bounding box of every digit, and
:func:`render_blank` renders a photo without any digit.  :func:`bench_cases` yields a
deterministic stream of benchmark cases.

Rendering model (all in float32, 0..255): paper colour x low-frequency unevenness,
printed grid/ruled lines and ink darken the paper multiplicatively (ink alpha comes
from a signed distance field of the glyph, so strokes stay crisp at any size), then
table edge / finger distractors, a lighting field (exposure, vignetting, gradient,
shadow), paper grain + sensor noise and finally JPEG compression.  Everything is
drawn from the ``np.random.Generator`` passed in, so the same seed gives the same
bytes.

Try it: ``python -m bench.photos --out bench/out --n 20`` writes sample photos and
contact sheets (with the digit boxes drawn) for every condition.
"""

from __future__ import annotations

import argparse
import io
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal, cast, get_args

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from model.groups import Box
from training.augment import skeleton
from training.data import MNIST_BENCHMARK, mnist_benchmark

__all__ = [
    "BASIC",
    "BLACK_BALLPOINT",
    "BLANK_CONDITIONS",
    "BLUE_BALLPOINT",
    "COMBINED",
    "CONDITIONS",
    "HELDOUT",
    "PENCIL",
    "REAL_LIKE",
    "Box",
    "Case",
    "Condition",
    "bench_cases",
    "blank_only",
    "get_condition",
    "heldout_digits",
    "heldout_indices",
    "render_blank",
    "render_digits",
]

Stroke = Literal["pen", "thin", "felt", "marker"]
Position = Literal["centre", "anywhere", "off-centre"]
Lighting = Literal["even", "gradient", "shadow", "dim"]
Background = Literal["plain", "grid", "ruled", "wall"]
Distractor = Literal["specks", "edge", "finger"]
Mark = Literal["none", "underline", "box", "circle"]
Writing = Literal["none", "printed", "handwritten"]
Objects = Literal["none", "sheets", "fan"]

Range = tuple[float, float]
RGB = tuple[int, int, int]

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]

N_MNIST = MNIST_BENCHMARK
HELDOUT = np.arange(N_MNIST)
"""Rows of MNIST's test digits [0:5000] (:func:`training.data.mnist_benchmark`), which training
never sees; the benchmark uses only these. The split is defined once, in :mod:`training.data`."""

BLACK_BALLPOINT: RGB = (30, 30, 40)
BLUE_BALLPOINT: RGB = (20, 40, 150)
PENCIL: RGB = (110, 110, 115)

_DEFAULT_STROKE_WIDTH: dict[str, Range | None] = {
    "pen": None,  # the MNIST glyph's own strokes (about 10-15 % of the digit height)
    "thin": (0.02, 0.03),
    "felt": (0.06, 0.09),
    "marker": (0.16, 0.22),
}
_TRI_SD = math.sqrt(2 * (256**2 - 1) / 12)  # sd of the difference of two uniform bytes


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Condition:
    """A named, fully parametric photo condition.

    Ranges are ``(low, high)`` and sampled uniformly per photo.  Fractions of the
    photo refer to its height unless stated otherwise.  Colours are RGB 0..255.
    Derive variants with ``dataclasses.replace(CONDITIONS["plain-black"], size=...)``.
    """

    name: str
    size: tuple[int, int] = (1280, 960)
    """Photo (width, height) in pixels."""
    paper: RGB = (236, 234, 228)
    paper_jitter: float = 8.0
    """Per-channel standard deviation of the paper colour (white balance / paper tint)."""
    ink: RGB = BLACK_BALLPOINT
    ink_jitter: float = 6.0
    ink_alpha: Range = (0.85, 0.97)
    """Ink opacity; the ink multiplies the paper by ``1 - alpha * (1 - ink / 255)``."""
    stroke: Stroke = "pen"
    """"pen": MNIST strokes; "thin"/"felt": skeleton redrawn at ``stroke_width``;
    "marker": MNIST strokes dilated to ``stroke_width``."""
    stroke_width: Range | None = None
    """Stroke width as a fraction of the digit height (None: the style's default)."""
    pressure: float = 0.15
    """Low-frequency variation of the ink density along the strokes (0..1)."""
    grain: float = 0.0
    """Per-pixel graininess of the ink (pencil), 0..1."""
    digit_height: Range = (0.25, 0.6)
    """Height of a digit's ink as a fraction of the photo height."""
    size_jitter: float = 0.08
    """Relative size variation between the digits of a number."""
    position: Position = "centre"
    jitter: float = 0.08
    """Centre jitter (fraction of the photo size) for ``position="centre"``."""
    rotation: Range = (-3.0, 3.0)
    """Page rotation in degrees (also rotates the printed lines)."""
    digit_rotation: float = 3.0
    """Extra per-digit rotation, +- degrees."""
    slant: Range = (-6.0, 6.0)
    """Shear in degrees; positive leans the digits to the right."""
    spacing: Range = (0.02, 0.35)
    """Gap between the digits of a number as a fraction of the digit height."""
    baseline_jitter: float = 0.05
    """Baseline variation between digits, fraction of the digit height."""
    lighting: Lighting = "even"
    exposure: Range = (0.82, 1.04)
    vignette: Range = (0.0, 0.2)
    gradient: Range = (0.55, 0.75)
    """For ``lighting="gradient"``: brightness at the dark end of the linear ramp."""
    shadow: Range = (0.55, 0.68)
    """For ``lighting="shadow"``: brightness factor inside the shadow polygon."""
    unevenness: float = 0.03
    """Amplitude of the low-frequency brightness variation of the paper."""
    texture: float = 2.0
    """Paper grain (standard deviation, 0..255 units, ~2 px correlation)."""
    background: Background = "plain"
    line_spacing: Range = (0.04, 0.06)
    """Distance between printed lines as a fraction of the photo height."""
    line_colour: RGB = (120, 160, 215)
    line_strength: Range = (0.35, 0.6)
    line_width: Range = (1.0, 2.0)
    """Printed line width in pixels at 960 px photo height."""
    noise: Range = (1.5, 4.0)
    """Sensor noise standard deviation (0..255 units)."""
    chroma_noise: float = 0.0
    """Colour noise standard deviation (blotchy, 4 px correlation)."""
    blur: Range = (0.4, 1.2)
    """Gaussian blur sigma in pixels (focus / motion / resampling)."""
    jpeg_quality: tuple[int, int] = (70, 92)
    distractors: tuple[Distractor, ...] = ()
    mark: Mark = "none"
    """A line the writer adds with the same pen: under the number, or a box or ring around it."""
    mark_gap: Range = (0.0, 0.2)
    """Space between the digits' ink and the mark, fraction of the digit height (negative:
    the mark runs into the digits)."""
    ring_overlap: Range = (0.0, 0.4)
    """How far a ring's end runs past its start, in radians (negative: a gap is left open)."""
    writing: Writing = "none"
    """Lines of words on a photo without digits: "printed" in a typeface, "handwritten" in the
    same typeface bent, slanted and re-stroked as a hand would write it (the blanks that matter:
    a page of words must not be read as digits)."""
    writing_lines: tuple[int, int] = (2, 6)
    """How many lines of words (at most; a line that would leave the page is not written)."""
    sideways: bool = False
    """The words turned a quarter turn: a note photographed with the phone held across it."""
    length: tuple[int, int] = (2, 4)
    """How many digits a number has (for the "number" kind)."""
    lines: tuple[int, int] = (1, 1)
    """How many lines a number is written in, one under the other (read top to bottom)."""
    crop: Range | None = None
    """Cropped around the writing, this fraction of its height above and below it (negative:
    into the ink) and up to CROP_SIDES of it left and right, as people crop a photo tightly
    before sending it; None: the whole photo."""
    objects: Objects = "none"
    """A photo without a digit of sheets of paper on a table ("sheets") or a fan of them
    ("fan"): their edges and corners, which are no digits."""

    def __post_init__(self) -> None:
        _check_choice("stroke", self.stroke, Stroke)
        _check_choice("position", self.position, Position)
        _check_choice("lighting", self.lighting, Lighting)
        _check_choice("background", self.background, Background)
        _check_choice("mark", self.mark, Mark)
        _check_choice("writing", self.writing, Writing)
        _check_choice("objects", self.objects, Objects)
        for d in self.distractors:
            _check_choice("distractor", d, Distractor)
        w, h = self.size
        if w < 64 or h < 64:
            raise ValueError(f"{self.name}: photo size {self.size} is too small")
        for attr in (
            "ink_alpha",
            "digit_height",
            "rotation",
            "slant",
            "spacing",
            "exposure",
            "vignette",
            "gradient",
            "shadow",
            "line_spacing",
            "line_strength",
            "line_width",
            "noise",
            "blur",
            "jpeg_quality",
            "mark_gap",
            "ring_overlap",
            "writing_lines",
            "length",
            "lines",
        ):
            lo, hi = getattr(self, attr)
            if lo > hi:
                raise ValueError(f"{self.name}: {attr} range {lo} > {hi}")
        if self.stroke_width is not None and self.stroke_width[0] > self.stroke_width[1]:
            raise ValueError(f"{self.name}: stroke_width range is reversed")
        if not (self.digit_height[0] > 0 and self.digit_height[1] <= 0.95):
            raise ValueError(f"{self.name}: digit_height must lie in (0, 0.95]")
        if not (self.jpeg_quality[0] >= 1 and self.jpeg_quality[1] <= 100):
            raise ValueError(f"{self.name}: jpeg_quality must lie in 1..100")
        if self.length[0] < 1 or self.lines[0] < 1:
            raise ValueError(f"{self.name}: a number has at least one digit on one line")
        if self.crop is not None and self.crop[0] > self.crop[1]:
            raise ValueError(f"{self.name}: crop range is reversed")

    @property
    def width_range(self) -> Range | None:
        """Effective stroke width range (fraction of digit height), None for native."""
        return self.stroke_width or _DEFAULT_STROKE_WIDTH[self.stroke]


def _check_choice(what: str, value: str, options: object) -> None:
    if value not in get_args(options):
        raise ValueError(f"unknown {what} {value!r}; expected one of {get_args(options)}")


CONDITIONS: dict[str, Condition] = {
    c.name: c
    for c in [
        Condition("plain-black"),
        Condition("plain-blue", ink=BLUE_BALLPOINT),
        Condition("thin-ballpoint", stroke="thin", ink=(28, 32, 60), ink_alpha=(0.8, 0.95)),
        Condition(
            "felt-pen", stroke="felt", ink=(22, 22, 28), ink_alpha=(0.92, 0.99), pressure=0.06
        ),
        Condition(
            "marker", stroke="marker", ink=(18, 18, 22), ink_alpha=(0.95, 1.0), pressure=0.05
        ),
        Condition(
            "pencil",
            stroke="thin",
            stroke_width=(0.03, 0.05),
            ink=PENCIL,
            ink_alpha=(0.75, 0.92),
            pressure=0.25,
            grain=0.45,
        ),
        Condition("grid-paper", background="grid"),
        Condition("ruled-paper", background="ruled", line_spacing=(0.06, 0.09)),
        Condition("gradient", lighting="gradient"),
        Condition("shadow", lighting="shadow"),
        Condition(
            "dim",
            lighting="dim",
            exposure=(0.28, 0.42),
            paper=(236, 226, 200),
            noise=(6.0, 11.0),
            chroma_noise=4.0,
            blur=(0.8, 1.6),
            jpeg_quality=(70, 85),
        ),
        Condition("small", digit_height=(0.06, 0.1), jitter=0.15, blur=(0.3, 0.8)),
        # Both at once: what decides how small a photo size the bot can download.
        Condition(
            "small-thin",
            stroke="thin",
            ink=(28, 32, 60),
            ink_alpha=(0.8, 0.95),
            digit_height=(0.06, 0.1),
            jitter=0.15,
            blur=(0.3, 0.8),
        ),
        Condition("off-centre", position="off-centre", digit_height=(0.15, 0.3)),
        Condition("rotated", rotation=(-15.0, 15.0)),
        Condition("slanted", slant=(15.0, 30.0)),
        Condition("specks-and-edges", distractors=("specks", "edge", "finger")),
    ]
}
"""Digit photo conditions, by name."""

BASIC: list[str] = ["plain-black", "plain-blue", "gradient", "small", "off-centre"]
"""The easy conditions."""

BLANK_CONDITIONS: dict[str, Condition] = {
    "wall": Condition(
        "wall",
        background="wall",
        paper=(214, 208, 196),
        paper_jitter=22.0,
        unevenness=0.08,
        texture=5.0,
        lighting="gradient",
        gradient=(0.6, 0.9),
        distractors=("specks",),
    ),
}
"""Extra conditions used only for photos without a digit (a textured non-paper surface)."""

_MARKED = (0.15, 0.35)
COMBINED: dict[str, Condition] = {
    c.name: c
    for c in [
        replace(CONDITIONS["pencil"], name="pencil-shadow", lighting="shadow"),
        replace(CONDITIONS["thin-ballpoint"], name="thin-shadow", lighting="shadow"),
        # Smaller digits than usual, so that the mark fits in the frame.
        Condition("underlined", mark="underline", mark_gap=(0.03, 0.2), digit_height=_MARKED),
        Condition(
            "underlined-touching", mark="underline", mark_gap=(-0.06, 0.0), digit_height=_MARKED
        ),
        Condition("boxed", mark="box", digit_height=_MARKED),
        Condition("circled", mark="circle", digit_height=_MARKED),
        Condition("circled-open", mark="circle", ring_overlap=(-0.6, -0.15), digit_height=_MARKED),
        # Blanks that hold writing (their digit photos are plain-black ones).
        Condition("words-printed", writing="printed"),
        Condition("words-handwritten", writing="handwritten", ink=BLUE_BALLPOINT),
        # What real photos show that the conditions above lack (`REAL_LIKE`).
        Condition("long-number", length=(5, 12), lines=(1, 4), digit_height=(0.08, 0.25)),
        Condition("tight-crop", crop=(-0.03, 0.02)),
        Condition("blurred", blur=(2.5, 5.0)),
        Condition("words-few", writing="handwritten", writing_lines=(1, 2)),
        Condition("words-sideways", writing="handwritten", writing_lines=(1, 4), sideways=True),
        Condition("paper-sheets", objects="sheets"),
        Condition("paper-fan", objects="fan"),
    ]
}
"""Asked for by name (not part of "all"). Two hazards at once: faint ink beside a hard shadow
is what the shadow-edge check could take for an edge. The lines people draw with their pen
to set a number apart: under it (clear of the digits, or running into them), a box, a ring.
And pages of words, printed or handwritten, for photos without a digit."""

REAL_LIKE: list[str] = [
    "long-number",
    "tight-crop",
    "blurred",
    "words-printed",
    "words-handwritten",
    "words-few",
    "words-sideways",
    "paper-sheets",
    "paper-fan",
]
"""What the real photos (`python -m bench.real`) show and the conditions of "all" lack: numbers
of 5-12 digits in 1-4 lines, crops tight around the writing (ink touching the frame), strong
blur; and for photos without a digit, pages of printed and handwritten words, a scrap with a
few words, words photographed sideways, sheets of paper on a table and a fan of them. Their
digit photos are plain-black ones where the condition is about blanks only."""


def get_condition(name: str) -> Condition:
    """Look a condition up in :data:`CONDITIONS`, :data:`BLANK_CONDITIONS` or :data:`COMBINED`."""
    try:
        return CONDITIONS.get(name) or BLANK_CONDITIONS.get(name) or COMBINED[name]
    except KeyError:
        raise KeyError(f"unknown condition {name!r}") from None


def blank_only(condition: Condition) -> bool:
    """Whether the condition is about photos without a digit (words, sheets of paper): its
    digit photos would be plain ones."""
    return condition.writing != "none" or condition.objects != "none"


# ------------------------------------------------------------------------------ MNIST


@lru_cache(maxsize=1)
def _mnist() -> tuple[F32, NDArray[np.int64]]:
    x, y = mnist_benchmark()
    glyphs = np.asarray(x, dtype=np.float32)
    labels = np.asarray(y, dtype=np.int64)
    glyphs.flags.writeable = False
    labels.flags.writeable = False
    return glyphs, labels


def heldout_indices() -> NDArray[np.int64]:
    """Row indices of the held-out MNIST digits."""
    return np.arange(N_MNIST, dtype=np.int64)[HELDOUT]


def heldout_digits() -> tuple[F32, NDArray[np.int64]]:
    """The held-out glyphs, shape (n, 28, 28), float 0..1 (white ink on black), and labels."""
    glyphs, labels = _mnist()
    idx = heldout_indices()
    return glyphs[idx].copy(), labels[idx].copy()


# ----------------------------------------------------------------------- glyph shapes

_UP = 6  # magnification of the 28x28 glyph for the shape work
_PAD = 3  # MNIST pixels of margin around the glyph's ink (room for dilation)
_FAR = 1000.0  # signed distance outside the source field
_LEVEL = 0.4  # intensity of the smoothed, upsampled MNIST glyph taken as the stroke outline


@dataclass(frozen=True)
class _Shape:
    sdf: F32
    """Signed distance to the stroke outline in work pixels (negative on ink)."""
    points: F64
    """(n, 2) x, y work coordinates of (a subsample of) the ink pixels."""
    centre: F64
    """Centre of the ink box in work coordinates."""
    height: float
    """Ink height in work pixels."""


def _shape(glyph: NDArray[np.floating], stroke: Stroke, width: float | None) -> _Shape:
    """Signed distance field of a glyph drawn with the given stroke style.

    ``width`` is the stroke width as a fraction of the digit height (None: native).
    """
    g = np.asarray(glyph, dtype=np.float32)
    if g.ndim != 2:
        raise ValueError(f"glyph must be a 2-D array, got shape {g.shape}")
    if g.max() > 1.5:  # tolerate 0..255 input
        g = g / 255.0
    ys, xs = np.nonzero(g > 0.2)
    if ys.size == 0:
        raise ValueError("glyph has no ink")
    g = np.pad(g, _PAD)
    crop = np.ascontiguousarray(
        g[ys.min() : ys.max() + 1 + 2 * _PAD, xs.min() : xs.max() + 1 + 2 * _PAD]
    )
    h, w = crop.shape
    up = np.asarray(Image.fromarray(crop).resize((w * _UP, h * _UP), Image.Resampling.BICUBIC))
    # Smooth away MNIST's pixel staircase before thresholding: crisp but natural outlines.
    smooth = ndimage.gaussian_filter(up, 0.6 * _UP)
    mask = smooth > _LEVEL
    if not mask.any():
        raise ValueError("glyph has no ink")
    inside = ndimage.distance_transform_edt(mask)
    outside = ndimage.distance_transform_edt(~mask)
    sdf = np.where(mask, 0.5 - inside, outside - 0.5).astype(np.float32)
    # Near the outline, replace the pixel-quantised distance by a sub-pixel first-order
    # estimate (level - I) / |grad I|, so that strokes stay smooth at any magnification.
    gy, gx = np.gradient(smooth)
    linear = (_LEVEL - smooth) / np.maximum(np.hypot(gx, gy), 1e-3)
    near = np.abs(sdf) < 1.5
    sdf[near] = np.clip(linear[near], -1.5, 1.5)
    rows = np.flatnonzero(mask.any(axis=1))
    height = float(rows[-1] - rows[0] + 1)
    if width is not None:
        target = width * height
        skel = skeleton(mask)
        if stroke in ("thin", "felt"):
            # Smooth the distance to the skeleton (removes its pixel kinks) and pick the level
            # at which a straight stroke keeps exactly the target width: for a line, the
            # smoothed distance at offset x is E|x + N(0, sigma^2)|.
            sigma, half_w = 1.5, target / 2
            dist = ndimage.gaussian_filter(ndimage.distance_transform_edt(~skel), sigma)
            level = sigma * math.sqrt(2 / math.pi) * math.exp(
                -(half_w**2) / (2 * sigma**2)
            ) + half_w * math.erf(half_w / (sigma * math.sqrt(2)))
            sdf = (dist - level).astype(np.float32)
        else:
            native = float(mask.sum()) / max(int(skel.sum()), 1)
            grow = (target - native) / 2
            if stroke == "marker":
                grow = max(grow, 0.0)
            sdf = sdf - np.float32(grow)
    iy, ix = np.nonzero(sdf < 0)
    if iy.size == 0:
        raise ValueError("glyph has no ink")
    step = max(1, iy.size // 3000)
    points = np.stack([ix[::step], iy[::step]], axis=1).astype(np.float64)
    centre = np.array([(ix.min() + ix.max()) / 2, (iy.min() + iy.max()) / 2])
    return _Shape(sdf, points, centre, float(iy.max() - iy.min() + 1))


# ----------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Placed:
    shape: _Shape
    a: F64
    """2x2 linear part of the work -> photo map."""
    t: F64
    """Translation of the work -> photo map (photo = a @ work + t)."""
    scale: float
    """Photo pixels per work pixel (isotropic part of ``a``)."""


def _rot(angle: float) -> F64:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def _layout(
    shapes: Sequence[_Shape],
    cond: Condition,
    rng: np.random.Generator,
    theta: float,
    pad: float,
    breaks: frozenset[int] = frozenset(),
) -> list[_Placed]:
    """Write the shapes left to right as a number and place the number in the photo.

    The shapes whose index is in `breaks` begin a new line, under the one before.
    """
    w_img, h_img = cond.size
    base_h = rng.uniform(*cond.digit_height) * h_img
    slant = rng.uniform(*cond.slant)
    mats: list[F64] = []
    offsets: list[F64] = []
    scales: list[float] = []
    local_pts: list[F64] = []
    cursor = 0.0
    baseline = 0.0
    for index, shape in enumerate(shapes):
        if index in breaks:
            cursor = rng.uniform(-0.5, 0.5) * base_h
            baseline += rng.uniform(1.3, 1.8) * base_h
        h = base_h * (1 + cond.size_jitter * rng.uniform(-1, 1))
        s = h / shape.height
        sl = math.radians(slant + rng.normal(0.0, 2.0))
        dr = math.radians(rng.uniform(-cond.digit_rotation, cond.digit_rotation))
        m = _rot(dr) @ np.array([[1.0, -math.tan(sl)], [0.0, 1.0]]) * s
        q = (shape.points - shape.centre) @ m.T
        ox = cursor - q[:, 0].min()
        oy = baseline - q[:, 1].max() + cond.baseline_jitter * base_h * rng.uniform(-1, 1)
        cursor = ox + q[:, 0].max() + rng.uniform(*cond.spacing) * base_h
        mats.append(m)
        offsets.append(np.array([ox, oy]))
        scales.append(s)
        local_pts.append(q + offsets[-1])
    allp = np.concatenate(local_pts)
    gc = (allp.min(axis=0) + allp.max(axis=0)) / 2
    rot = _rot(theta)
    rp = (allp - gc) @ rot.T
    lo, hi = rp.min(axis=0), rp.max(axis=0)
    margin = 0.02 * min(w_img, h_img) + pad
    avail = np.array([w_img, h_img]) - 2 * margin
    k = float(min(1.0, *(avail / np.maximum(hi - lo, 1.0))))
    lo, hi = lo * k, hi * k
    pmin = margin - lo
    pmax = np.array([w_img, h_img]) - margin - hi
    pmax = np.maximum(pmax, pmin)
    mid = np.array([w_img, h_img]) / 2
    if cond.position == "centre":
        p = mid + cond.jitter * np.array([w_img, h_img]) * rng.uniform(-1, 1, 2)
    elif cond.position == "anywhere":
        p = rng.uniform(pmin, pmax)
    else:  # off-centre: anywhere, but clearly away from the middle
        best, best_d = mid, -1.0
        for _ in range(30):
            cand = rng.uniform(pmin, pmax)
            d = float(np.max(np.abs(cand - mid) / np.array([w_img, h_img])))
            if d > best_d:
                best, best_d = cand, d
            if d > 0.18:
                break
        p = best
    p = np.clip(p, pmin, pmax)
    placed = []
    for m, off, s, shape in zip(mats, offsets, scales, shapes, strict=True):
        a = rot @ m * k
        t = p + rot @ ((off - gc) * k) - a @ shape.centre
        placed.append(_Placed(shape, a, t, s * k))
    return placed


# -------------------------------------------------------------------------- rendering


def _smooth_field(rng: np.random.Generator, cells: tuple[int, int], size: tuple[int, int]) -> F32:
    """Smooth random field, zero mean and roughly unit amplitude, of (width, height) ``size``."""
    src = rng.standard_normal((cells[1], cells[0])).astype(np.float32)
    return np.asarray(Image.fromarray(src).resize(size, Image.Resampling.BICUBIC))


def _tri_noise(rng: np.random.Generator, shape: tuple[int, int]) -> F32:
    """Fast, roughly Gaussian (triangular) noise with unit standard deviation."""
    b = np.frombuffer(rng.bytes(2 * shape[0] * shape[1]), dtype=np.uint8).reshape(2, *shape)
    out = b[0].astype(np.float32)
    out -= b[1]
    out *= np.float32(1 / _TRI_SD)
    return cast(F32, out)


def _jitter_rgb(rng: np.random.Generator, rgb: RGB, sd: float) -> F32:
    common = rng.normal(0.0, sd * 0.8)
    jittered = np.array(rgb) + common + rng.normal(0.0, sd * 0.4, 3)
    return np.clip(jittered, 0, 255).astype(np.float32)


_SUB = 8  # sub-pixel steps of the line profile lookup table


def _line_alpha(
    size: tuple[int, int], theta: float, spacing: float, phase: float, width: float, vertical: bool
) -> NDArray[np.uint8]:
    """Alpha (0..255) of parallel printed lines in page coordinates rotated by ``theta``."""
    w_img, h_img = size
    half = math.hypot(w_img, h_img) / 2 + 4
    c, s = math.cos(theta), math.sin(theta)
    if vertical:  # page x' = c (x - cx) + s (y - cy)
        ax, ay = c, s
    else:  # page y' = -s (x - cx) + c (y - cy)
        ax, ay = -s, c
    # A 1-D profile over page coordinate u, looked up at u(x, y) = ax (x - cx) + ay (y - cy).
    u = np.arange(int(2 * half * _SUB) + 2, dtype=np.float32) / _SUB - half - phase
    r = np.abs(np.remainder(u, spacing) - spacing / 2)  # spacing/2 - distance to a line
    table = np.clip((width / 2 + 0.5 - spacing / 2 + r) * 255, 0, 255).astype(np.uint8)
    xs = np.rint((ax * (np.arange(w_img) - w_img / 2)) * _SUB).astype(np.int32)
    ys = np.rint((ay * (np.arange(h_img) - h_img / 2) + half) * _SUB).astype(np.int32)
    return cast(NDArray[np.uint8], np.take(table, np.add.outer(ys, xs)))


def _lined_paper(
    paper: F32, cond: Condition, rng: np.random.Generator, theta: float, blur: float
) -> F32:
    """Paper with printed grid / ruled lines, as a planar float32 (3, H, W) image."""
    w_img, h_img = cond.size
    sp = rng.uniform(*cond.line_spacing) * h_img
    lw = rng.uniform(*cond.line_width) * h_img / 960
    weff = math.hypot(lw, 2.35 * blur)
    strength = rng.uniform(*cond.line_strength) * min(1.0, lw / weff)
    alpha = _line_alpha(cond.size, theta, sp, rng.uniform(0, sp), weff, vertical=False)
    if cond.background == "grid":
        other = _line_alpha(cond.size, theta, sp, rng.uniform(0, sp), weff, vertical=True)
        np.maximum(alpha, other, out=alpha)
    colour = _jitter_rgb(rng, cond.line_colour, 10.0)
    dark = paper * (1 - colour / 255) * np.float32(strength)
    levels = np.arange(256, dtype=np.float32)[None, :] / 255
    lut = (paper[:, None] - dark[:, None] * levels).astype(np.float32)  # (3, 256)
    img = np.empty((3, h_img, w_img), dtype=np.float32)
    for c in range(3):
        np.take(lut[c], alpha, out=img[c])
    if cond.background == "ruled" and rng.random() < 0.5:  # red margin line
        x_margin = rng.uniform(0.08, 0.16) * w_img - w_img / 2
        red = _line_alpha(cond.size, theta, 4 * w_img, x_margin, weff, vertical=True)
        cols = np.flatnonzero(red.any(axis=0))
        if cols.size:
            band = slice(int(cols[0]), int(cols[-1]) + 1)
            red_rgb = _jitter_rgb(rng, (225, 110, 120), 10.0)
            tint = paper * (1 - red_rgb / 255) * np.float32(strength * 1.2 / 255)
            img[:, :, band] -= red[None, :, band] * tint[:, None, None]
    return img


def _draw_digit(
    img: F32,
    placed: _Placed,
    cond: Condition,
    rng: np.random.Generator,
    blur: float,
    ink_alpha: float,
    ink_rgb: F32,
) -> Box:
    h_img, w_img = img.shape[1:]
    sdf = placed.shape.sdf
    sh, sw = sdf.shape
    corners = np.array([[-0.5, -0.5], [sw - 0.5, -0.5], [-0.5, sh - 0.5], [sw - 0.5, sh - 0.5]])
    pc = corners @ placed.a.T + placed.t
    pad = math.ceil(3 * blur) + 2
    x0 = max(0, math.floor(pc[:, 0].min()) - pad)
    y0 = max(0, math.floor(pc[:, 1].min()) - pad)
    x1 = min(w_img, math.ceil(pc[:, 0].max()) + pad)
    y1 = min(h_img, math.ceil(pc[:, 1].max()) + pad)
    inv = np.linalg.inv(placed.a)
    # Pillow samples at pixel centres (+0.5); our work/photo coordinates put centres at 0.
    off = inv @ (np.array([x0 - 0.5, y0 - 0.5]) - placed.t) + 0.5
    coeffs = (inv[0, 0], inv[0, 1], off[0], inv[1, 0], inv[1, 1], off[1])
    field = Image.fromarray(sdf).transform(
        (x1 - x0, y1 - y0),
        Image.Transform.AFFINE,
        coeffs,
        Image.Resampling.BILINEAR,
        fillcolor=_FAR,
    )
    alpha = np.asarray(field) * np.float32(-placed.scale)
    alpha += 0.5
    np.clip(alpha, 0.0, 1.0, out=alpha)
    ink = alpha > 0.5
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size:
        box = (x0 + int(cols[0]), y0 + int(rows[0]), x0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1)
    else:  # vanishingly thin stroke: fall back to the patch
        box = (x0, y0, x1, y1)
    ph, pw = alpha.shape
    density = np.float32(ink_alpha) * (
        1 - cond.pressure * (0.5 + 0.5 * np.tanh(_smooth_field(rng, (4, 4), (pw, ph))))
    )
    alpha *= density
    if cond.grain > 0:
        alpha *= 1 - np.float32(cond.grain) * rng.random((ph, pw), dtype=np.float32)
    _ink_onto(img, alpha, (x0, y0), blur, ink_rgb)
    return box


def _draw_mark(
    img: F32,
    cond: Condition,
    rng: np.random.Generator,
    boxes: Sequence[Box],
    theta: float,
    blur: float,
    ink_alpha: float,
    ink_rgb: F32,
    stroke: float,
) -> None:
    """Draw `cond.mark` around the digits' boxes, along the page's rotation `theta`."""
    h_img, w_img = img.shape[1:]
    corners = np.array([(x, y) for x0, y0, x1, y1 in boxes for x in (x0, x1) for y in (y0, y1)])
    centre = corners.mean(axis=0)
    # The number's own frame: x along its baseline, y down, in photo pixels.
    rot = _rot(theta)
    local = (corners - centre) @ rot
    lo, hi = local.min(axis=0), local.max(axis=0)
    height = float(np.median([b[3] - b[1] for b in boxes]))
    gap = rng.uniform(*cond.mark_gap) * height
    if cond.mark == "underline":
        ends = (lo[0] - rng.uniform(-0.05, 0.3) * height, hi[0] + rng.uniform(-0.05, 0.3) * height)
        tilt = rng.uniform(-0.03, 0.03)
        t = np.linspace(0.0, 1.0, 400)
        xs = ends[0] + (ends[1] - ends[0]) * t
        ys = hi[1] + gap + tilt * (xs - xs.mean()) + 0.01 * height * np.sin(t * rng.uniform(3, 9))
    else:
        half = (hi - lo) / 2 + gap + 0.5 * stroke
        mid = (hi + lo) / 2
        t = np.linspace(0.0, 2 * math.pi, 1600)
        if cond.mark == "circle":
            # An ellipse through the box's corners is sqrt(2) times the box; rings are drawn
            # closer, clear of the digits' ink if not of their boxes' corners. A hand's ring
            # starts anywhere, and its end drifts inwards past the start or stops short of it.
            rx, ry = half * rng.uniform(1.1, 1.3)
            sweep = 2 * math.pi + rng.uniform(*cond.ring_overlap)
            t = rng.uniform(0.0, 2 * math.pi) + np.linspace(0.0, sweep, 1600)
            drift = 1 - 0.06 * np.linspace(0.0, 1.0, t.size)
            xs = mid[0] + rx * np.cos(t) * drift
            ys = mid[1] + ry * np.sin(t) * (1 + 0.05 * np.sin(t * 3)) * drift
        else:
            # Around the rectangle's edge, one side at a time, a little unsteady.
            u = (t / (2 * math.pi) * 4) % 1.0
            side = np.minimum((t / (2 * math.pi) * 4).astype(int), 3)
            px = np.choose(side, [2 * u - 1, np.ones_like(u), 1 - 2 * u, -np.ones_like(u)])
            py = np.choose(side, [-np.ones_like(u), 2 * u - 1, np.ones_like(u), 1 - 2 * u])
            xs = mid[0] + half[0] * px + 0.01 * height * np.sin(t * 7)
            ys = mid[1] + half[1] * py + 0.01 * height * np.cos(t * 5)
    path = np.stack([xs, ys], axis=1) @ rot.T + centre
    pad = math.ceil(stroke + 3 * blur) + 2
    x0 = max(0, math.floor(path[:, 0].min()) - pad)
    y0 = max(0, math.floor(path[:, 1].min()) - pad)
    x1 = min(w_img, math.ceil(path[:, 0].max()) + pad)
    y1 = min(h_img, math.ceil(path[:, 1].max()) + pad)
    if x1 <= x0 or y1 <= y0:
        return
    # The path's distance field: its points, densified to half a pixel apart, and the EDT.
    steps = np.maximum(np.ceil(np.hypot(*np.diff(path, axis=0).T) * 2), 1).astype(int)
    dense = np.concatenate(
        [
            np.linspace(a, b, n, endpoint=False)
            for a, b, n in zip(path[:-1], path[1:], steps, strict=True)
        ]
    )
    on = np.ones((y1 - y0, x1 - x0), bool)
    cols = np.clip(np.round(dense[:, 0]).astype(int) - x0, 0, x1 - x0 - 1)
    rows = np.clip(np.round(dense[:, 1]).astype(int) - y0, 0, y1 - y0 - 1)
    on[rows, cols] = False
    distance = ndimage.distance_transform_edt(on).astype(np.float32)
    alpha = np.clip(stroke / 2 - distance + 0.5, 0.0, 1.0) * np.float32(ink_alpha)
    _ink_onto(img, alpha, (x0, y0), blur, ink_rgb)


def _ink_onto(img: F32, alpha: F32, corner: tuple[int, int], blur: float, ink_rgb: F32) -> None:
    """Darken the photo by ink of opacity `alpha` (blurred by `blur`), its top left at `corner`."""
    if blur > 0.3:
        alpha = ndimage.gaussian_filter(alpha, blur, truncate=3.0)
    x0, y0 = corner
    h, w = alpha.shape
    region = img[:, y0 : y0 + h, x0 : x0 + w]
    region *= 1 - alpha[None] * (1 - ink_rgb / 255)[:, None, None]


def _room(boxes: Sequence[Box], size: tuple[int, int], margin: float) -> dict[str, float]:
    """Free depth (pixels) along each border before any digit box."""
    w_img, h_img = size
    if not boxes:
        return {
            "left": 0.4 * w_img,
            "right": 0.4 * w_img,
            "top": 0.4 * h_img,
            "bottom": 0.4 * h_img,
        }
    return {
        "left": min(b[0] for b in boxes) - margin,
        "right": w_img - max(b[2] for b in boxes) - margin,
        "top": min(b[1] for b in boxes) - margin,
        "bottom": h_img - max(b[3] for b in boxes) - margin,
    }


def _side_region(
    side: str, size: tuple[int, int], depth: int
) -> tuple[tuple[slice, slice], F32, F32, int]:
    """Region along a border: (index, across, along, length) with broadcastable coordinates.

    ``across`` is the distance from the border, ``along`` the position along it.
    """
    w_img, h_img = size
    if side in ("left", "right"):
        depth = min(depth, w_img)
        cols = np.arange(depth, dtype=np.float32)
        along = np.arange(h_img, dtype=np.float32)[:, None]
        if side == "left":
            return (slice(None), slice(0, depth)), cols[None, :], along, h_img
        return (slice(None), slice(w_img - depth, w_img)), cols[::-1][None, :], along, h_img
    depth = min(depth, h_img)
    rows = np.arange(depth, dtype=np.float32)
    along = np.arange(w_img, dtype=np.float32)[None, :]
    if side == "top":
        return (slice(0, depth), slice(None)), rows[:, None], along, w_img
    return (slice(h_img - depth, h_img), slice(None)), rows[::-1][:, None], along, w_img


_TABLES: list[RGB] = [(92, 64, 44), (70, 50, 38), (52, 52, 58), (34, 33, 35), (120, 86, 58)]
_SKIN: list[RGB] = [
    (235, 180, 160),
    (222, 165, 140),
    (200, 140, 110),
    (165, 110, 85),
    (120, 80, 62),
]


def _draw_edge(
    img: F32,
    light: F32,
    cond: Condition,
    rng: np.random.Generator,
    room: dict[str, float],
    theta: float,
) -> None:
    """A dark table surface beyond the paper's edge along one border."""
    w_img, h_img = cond.size
    sides = [s for s, r in room.items() if r >= 0.025 * h_img]
    if not sides:
        return
    side = sides[int(rng.integers(len(sides)))]
    dim = w_img if side in ("left", "right") else h_img
    slope = math.tan(theta + math.radians(rng.normal(0, 1.5)))
    reach = abs(slope) * (w_img if side in ("top", "bottom") else h_img) / 2
    depth = min(rng.uniform(0.03, 0.12) * dim, room[side] - reach)
    if depth < 0.01 * dim:
        depth = min(rng.uniform(0.01, 0.03) * dim, room[side])
        slope = 0.0
        reach = 0.0
    extent = math.ceil(depth + reach) + 2
    index, across, along, length = _side_region(side, cond.size, extent)
    edge = depth + slope * (along - length / 2)
    alpha = np.clip(edge - across + 0.5, 0.0, 1.0)
    colour = _jitter_rgb(rng, _TABLES[int(rng.integers(len(_TABLES)))], 8.0)
    shape = alpha.shape
    tex = 1 + 0.12 * _smooth_field(rng, (6, 6), (shape[1], shape[0]))
    streak = 1 + 0.05 * np.interp(
        across.ravel(), np.arange(0, extent + 4, 3), rng.standard_normal(extent // 3 + 2)
    ).astype(np.float32).reshape(across.shape)
    table = (tex * streak * light[index])[None] * colour[:, None, None]
    region = img[(slice(None), *index)]
    region += alpha[None] * (table - region)


def _draw_finger(
    img: F32, light: F32, cond: Condition, rng: np.random.Generator, room: dict[str, float]
) -> None:
    """A blurry skin-coloured fingertip intruding from one border."""
    h_img = cond.size[1]
    sides = [s for s, r in room.items() if r >= 0.05 * h_img]
    if not sides:
        return
    side = sides[int(rng.integers(len(sides)))]
    depth = min(rng.uniform(0.08, 0.25) * h_img, room[side] * 0.9)
    half_w = rng.uniform(0.08, 0.13) * h_img  # a finger close to the lens looks big
    semi = max(rng.uniform(1.2, 2.0) * depth, 1.6 * half_w)
    soft = rng.uniform(6.0, 18.0) * h_img / 960  # and out of focus
    index, across, along, length = _side_region(side, cond.size, math.ceil(depth + soft) + 2)
    c_along = rng.uniform(0.15, 0.85) * length
    c_across = depth - semi
    tilt = math.radians(rng.uniform(-25, 25))
    du = along - c_along
    dv = across - c_across
    u = du * math.cos(tilt) - dv * math.sin(tilt)
    v = du * math.sin(tilt) + dv * math.cos(tilt)
    rho = np.sqrt((u / half_w) ** 2 + (v / semi) ** 2)
    alpha = np.clip((1 - rho) * half_w / soft, 0.0, 1.0)
    alpha *= np.clip((depth - across) / soft + 0.5, 0.0, 1.0)  # tilt: keep within the room
    shade = (0.62 + 0.4 * np.sqrt(np.clip(1 - rho**2, 0.0, 1.0))) * light[index]
    colour = _jitter_rgb(rng, _SKIN[int(rng.integers(len(_SKIN)))], 10.0)
    region = img[(slice(None), *index)]
    region += alpha[None] * (shade[None] * colour[:, None, None] - region)


def _draw_specks(
    img: F32, cond: Condition, rng: np.random.Generator, boxes: Sequence[Box], blur: float
) -> None:
    w_img, h_img = cond.size
    margin = 0.03 * h_img
    unit = h_img / 960
    for _ in range(int(rng.integers(3, 11))):
        for _try in range(50):
            x, y = rng.uniform(0.02, 0.98) * w_img, rng.uniform(0.02, 0.98) * h_img
            if not any(
                b[0] - margin < x < b[2] + margin and b[1] - margin < y < b[3] + margin
                for b in boxes
            ):
                break
        else:
            continue
        r = rng.uniform(0.8, 3.0) * unit
        aspect = rng.uniform(1.0, 2.5)
        ang = rng.uniform(0, math.pi)
        half = math.ceil(r * aspect + 2 * blur + 2)
        xa, ya = max(0, int(x) - half), max(0, int(y) - half)
        xb, yb = min(w_img, int(x) + half + 1), min(h_img, int(y) + half + 1)
        gx = np.arange(xa, xb, dtype=np.float32)[None, :] - x
        gy = np.arange(ya, yb, dtype=np.float32)[:, None] - y
        u = gx * math.cos(ang) + gy * math.sin(ang)
        v = -gx * math.sin(ang) + gy * math.cos(ang)
        d = np.sqrt((u / aspect) ** 2 + v**2)
        alpha = np.clip((r - d) / (1 + blur) + 0.5, 0.0, 1.0) * rng.uniform(0.5, 0.9)
        colour = _jitter_rgb(rng, (55, 50, 45), 10.0)
        region = img[:, ya:yb, xa:xb]
        region *= 1 - alpha[None] * (1 - colour / 255)[:, None, None]


def _lighting(cond: Condition, rng: np.random.Generator) -> F32:
    """Full-size multiplicative field: exposure, vignette, unevenness, gradient, shadow, grain.

    Low-frequency parts are computed at 1/4 size, the surface grain (``texture``, ~2 px
    correlation) at 1/2 size; a single bilinear upsampling then gives the full field.
    """
    w_img, h_img = cond.size
    qw, qh = max(8, w_img // 4), max(8, h_img // 4)
    xs = np.linspace(-1, 1, qw, dtype=np.float32)[None, :]
    ys = np.linspace(-1, 1, qh, dtype=np.float32)[:, None] * np.float32(h_img / w_img)
    norm = np.float32(1 + (h_img / w_img) ** 2)
    field = 1 - np.float32(rng.uniform(*cond.vignette)) * (xs**2 + ys**2) / norm
    field *= 1 + np.float32(cond.unevenness) * _smooth_field(rng, (3, 3), (qw, qh))
    if cond.background == "wall":  # plaster / paint: blotches and a bumpy relief
        field *= 1 + 0.03 * _smooth_field(rng, (40, 30), (qw, qh))
        bump = _smooth_field(rng, (qw // 3, qh // 3), (qw, qh))
        relief = np.gradient(bump, axis=1) + 0.5 * np.gradient(bump, axis=0)
        field *= 1 + 0.05 * relief
    if cond.lighting == "gradient":
        phi = rng.uniform(0, 2 * math.pi)
        proj = xs * math.cos(phi) + ys * math.sin(phi)
        t = (proj - proj.min()) / max(float(proj.max() - proj.min()), 1e-6)
        field *= 1 - (1 - np.float32(rng.uniform(*cond.gradient))) * t
    elif cond.lighting == "shadow":
        field *= 1 - (1 - np.float32(rng.uniform(*cond.shadow))) * _shadow_mask(rng, xs, ys)
    field *= np.float32(rng.uniform(*cond.exposure))
    if cond.texture <= 0:
        return np.asarray(Image.fromarray(field).resize(cond.size, Image.Resampling.BILINEAR))
    hw, hh = max(8, w_img // 2), max(8, h_img // 2)
    half = np.array(Image.fromarray(field).resize((hw, hh), Image.Resampling.BILINEAR))
    # Relative grain; bilinear upsampling loses ~30 % of the white noise's amplitude.
    half *= 1 + _tri_noise(rng, (hh, hw)) * np.float32(1.4 * cond.texture / 230)
    return np.asarray(Image.fromarray(half).resize(cond.size, Image.Resampling.BILINEAR))


def _shadow_mask(rng: np.random.Generator, xs: F32, ys: F32) -> F32:
    """Hard-edged polygonal shadow (one bent edge) covering 20-55 % of the frame."""
    phi = rng.uniform(0, 2 * math.pi)
    n = np.array([math.cos(phi), math.sin(phi)], dtype=np.float32)
    proj = xs * n[0] + ys * n[1]
    along = -xs * n[1] + ys * n[0]
    t0 = rng.uniform(-0.6, 0.6)
    bend = rng.uniform(-0.6, 0.6)
    shaped = proj + bend * np.abs(along - t0)
    frac = rng.uniform(0.2, 0.55)
    cut = float(np.quantile(shaped, 1 - frac))
    mask = (shaped > cut).astype(np.float32)
    return cast(F32, ndimage.gaussian_filter(mask, rng.uniform(0.3, 1.0)))


def _render(
    glyphs: Sequence[NDArray[np.floating]], cond: Condition, rng: np.random.Generator
) -> tuple[bytes, list[Box]]:
    w_img, h_img = cond.size
    theta = math.radians(rng.uniform(*cond.rotation))
    blur = rng.uniform(*cond.blur)
    width_range = cond.width_range

    light = _lighting(cond, rng)
    paper = _jitter_rgb(rng, cond.paper, cond.paper_jitter)
    # The page, already lit: everything drawn later either multiplies it (ink, specks) or
    # replaces it with an equally lit colour (table, finger).
    if cond.background in ("grid", "ruled"):
        img = _lined_paper(paper, cond, rng, theta, blur)
        img *= light[None]
    elif cond.objects != "none" and not glyphs:
        img = _sheets(paper, cond, rng)
        img *= light[None]
    else:
        img = light[None] * paper[:, None, None]

    boxes: list[Box] = []
    if glyphs:
        shapes = [
            _shape(g, cond.stroke, None if width_range is None else rng.uniform(*width_range))
            for g in glyphs
        ]
        breaks: frozenset[int] = frozenset()
        if cond.lines[1] > 1 and len(glyphs) > 1:
            count = min(len(glyphs), int(rng.integers(cond.lines[0], cond.lines[1] + 1)))
            breaks = frozenset(round(len(glyphs) * k / count) for k in range(1, count))
        placed = _layout(shapes, cond, rng, theta, pad=3 * blur + 2, breaks=breaks)
        ink_rgb = _jitter_rgb(rng, cond.ink, cond.ink_jitter)
        ink_alpha = rng.uniform(*cond.ink_alpha)
        boxes = [_draw_digit(img, p, cond, rng, blur, ink_alpha, ink_rgb) for p in placed]
        if cond.mark != "none":
            # The pen's width as the digits have it (about a tenth of MNIST's digit height).
            share = rng.uniform(*(width_range or (0.07, 0.12)))
            stroke = share * float(np.median([b[3] - b[1] for b in boxes]))
            _draw_mark(img, cond, rng, boxes, theta, blur, ink_alpha, ink_rgb, stroke)

    if not glyphs and cond.writing != "none":
        _draw_writing(img, cond, rng, blur)
    if "specks" in cond.distractors:
        _draw_specks(img, cond, rng, boxes, blur)
    room = _room(boxes, cond.size, 0.02 * h_img)
    if "edge" in cond.distractors:
        _draw_edge(img, light, cond, rng, room, theta)
    if "finger" in cond.distractors:
        _draw_finger(img, light, cond, rng, room)

    noise = _tri_noise(rng, (h_img, w_img))
    noise *= np.float32(rng.uniform(*cond.noise))
    if cond.chroma_noise > 0:  # blotchy colour noise, 128-centred bytes upsampled by Pillow
        qs = (max(1, h_img // 4), max(1, w_img // 4), 3)
        chroma = np.clip(rng.normal(128, cond.chroma_noise * 1.6, qs), 0, 255).astype(np.uint8)
        up = Image.fromarray(chroma).resize(cond.size, Image.Resampling.BILINEAR)
        noise -= 128
        for c, band in enumerate(up.split()):
            img[c] += np.asarray(band)
    img += noise[None]
    if cond.crop is not None and boxes:
        img, boxes = _cropped(img, boxes, cond.crop, rng)
    planes = np.empty(img.shape, dtype=np.uint8)
    np.clip(img, 0, 255, out=planes, casting="unsafe")
    photo = Image.merge("RGB", [Image.fromarray(p) for p in planes])
    out = io.BytesIO()
    quality = int(rng.integers(cond.jpeg_quality[0], cond.jpeg_quality[1] + 1))
    photo.save(out, format="JPEG", quality=quality)
    return out.getvalue(), boxes


# A tight crop leaves up to this fraction of the writing's height beside it, left and right.
CROP_SIDES = 0.4


def _cropped(
    img: F32, boxes: list[Box], margin: Range, rng: np.random.Generator
) -> tuple[F32, list[Box]]:
    """The photo cropped around the digits' boxes, a `margin` fraction of their height above
    and below them (negative: into the ink, which then touches the frame) and up to CROP_SIDES
    of it beside them, and the boxes in it."""
    h_img, w_img = img.shape[1:]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    top, bottom = rng.uniform(*margin, 2) * (y1 - y0)
    left, right = rng.uniform(0.0, CROP_SIDES, 2) * (y1 - y0)
    cx0, cy0 = max(0, math.floor(x0 - left)), max(0, math.floor(y0 - top))
    cx1 = min(w_img, max(cx0 + 16, math.ceil(x1 + right)))
    cy1 = min(h_img, max(cy0 + 16, math.ceil(y1 + bottom)))
    inside = [
        (max(b[0], cx0) - cx0, max(b[1], cy0) - cy0, min(b[2], cx1) - cx0, min(b[3], cy1) - cy0)
        for b in boxes
    ]
    return np.ascontiguousarray(img[:, cy0:cy1, cx0:cx1]), inside


# Paper colours of sheets on a table: white and cream, and the colours of craft paper.
_SHEET_COLOURS: tuple[RGB, ...] = (
    (240, 240, 236),
    (236, 230, 212),
    (250, 200, 210),
    (250, 230, 120),
    (150, 200, 240),
    (140, 210, 150),
    (240, 150, 80),
    (200, 60, 70),
    (120, 90, 170),
    (40, 60, 120),
    (30, 110, 70),
    (60, 40, 40),
)
# Surfaces the sheets lie on: a grey desk, a light table, wood, a dark desk.
_SURFACES: tuple[RGB, ...] = ((190, 190, 186), (225, 222, 215), (150, 105, 70), (60, 58, 56))


def _sheets(paper: F32, cond: Condition, rng: np.random.Generator) -> F32:
    """Sheets of paper on a table ("sheets"), or fanned out from a corner ("fan"), with the
    soft shadow of each sheet on what lies under it, as an unlit (3, H, W) image."""
    w_img, h_img = cond.size
    img = np.empty((3, h_img, w_img), np.float32)
    img[:] = _jitter_rgb(rng, _SURFACES[int(rng.integers(len(_SURFACES)))], 8.0)[:, None, None]
    white = rng.random() < 0.5
    if cond.objects == "fan":
        count = int(rng.integers(6, 25))
        pivot = np.array([rng.uniform(0.0, 1.0) * w_img, rng.uniform(0.5, 1.1) * h_img])
        start = rng.uniform(-math.pi, 0)
        angles = start + np.sort(rng.uniform(0, rng.uniform(0.5, 1.6), count))
        size = np.array([rng.uniform(0.6, 1.1), rng.uniform(0.8, 1.4)]) * max(w_img, h_img)
        placements = [(pivot, float(a), size) for a in angles]
    else:
        count = int(rng.integers(1, 5))
        placements = []
        for _ in range(count):
            centre = rng.uniform(0.2, 0.8, 2) * np.array([w_img, h_img])
            size = rng.uniform(0.3, 0.7) * h_img * np.array([1.0, 1.414])
            placements.append((centre, float(rng.uniform(-math.pi, math.pi)), size))
    for anchor, angle, (sw, sh) in placements:
        if cond.objects == "fan":  # the sheet's corner at the pivot, long side along `angle`
            local = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float64)
        else:
            local = np.array([[-sw, -sh], [sw, -sh], [sw, sh], [-sw, sh]], np.float64) / 2
        corners = local @ _rot(angle).T + anchor
        colour = (
            paper
            if white
            else _jitter_rgb(rng, _SHEET_COLOURS[int(rng.integers(len(_SHEET_COLOURS)))], 10.0)
        )
        shadow = Image.new("L", cond.size, 0)
        offset = rng.uniform(0.002, 0.012, 2) * h_img
        ImageDraw.Draw(shadow).polygon([tuple(p) for p in (corners + offset).tolist()], fill=255)
        dark = ndimage.gaussian_filter(np.asarray(shadow, np.float32) / 255, 0.006 * h_img)
        img *= 1 - np.float32(rng.uniform(0.2, 0.45)) * dark[None]
        sheet = Image.new("L", cond.size, 0)
        ImageDraw.Draw(sheet).polygon([tuple(p) for p in corners.tolist()], fill=255)
        alpha = ndimage.gaussian_filter(np.asarray(sheet, np.float32) / 255, 0.7)
        # A sheet lit at a slant: each one a little brighter or darker than the next.
        tint = colour * np.float32(rng.uniform(0.85, 1.05))
        img += alpha[None] * (tint[:, None, None] - img)
    return img


# Words for the pages of writing: everyday notes, none of them a digit.
_NOTES = (
    "please call me back when you can",
    "shopping list eggs butter apples bread",
    "meeting moved to the blue room",
    "happy birthday to my best friend",
    "the quick brown fox jumps over the lazy dog",
    "do not forget to water the plants",
    "Chapter one The beginning",
    "Notes on the lecture about rivers",
    "Dear Sir thank you for your letter",
    "Remember the keys and the umbrella",
)


def _draw_writing(img: F32, cond: Condition, rng: np.random.Generator, blur: float) -> None:
    """Write lines of words on the page, printed or as a hand would (``cond.writing``)."""
    # Written on a page this wide and tall, turned on its side afterwards when `sideways`.
    h_img, w_img = img.shape[1:][::-1] if cond.sideways else img.shape[1:]
    size = int(min(h_img, w_img) * rng.uniform(0.035, 0.08))
    font = ImageFont.load_default(size)
    canvas = Image.new("L", (w_img, h_img), 0)
    drawing = ImageDraw.Draw(canvas)
    top = rng.uniform(0.08, 0.3) * h_img
    left = rng.uniform(0.04, 0.15) * w_img
    y = top
    for _ in range(int(rng.integers(cond.writing_lines[0], cond.writing_lines[1] + 1))):
        line = _NOTES[int(rng.integers(len(_NOTES)))]
        line = line.upper() if rng.random() < 0.2 else line
        if y > h_img - 1.5 * size:
            break
        drawing.text((left, y), line, font=font, fill=255)
        y += size * rng.uniform(1.4, 2.4)
    mask = np.asarray(canvas, dtype=np.float32) / np.float32(255.0)
    if cond.writing == "handwritten":
        # A hand's slant, a wavering line and an uneven pen.
        shear = rng.uniform(-0.3, 0.3)
        ys, xs = np.indices(mask.shape, dtype=np.float32)
        wobble = size * 0.25
        dy = ndimage.gaussian_filter(rng.uniform(-1, 1, mask.shape), size / 3) * wobble * 20
        dx = ndimage.gaussian_filter(rng.uniform(-1, 1, mask.shape), size / 3) * wobble * 20
        mask = ndimage.map_coordinates(
            mask, [ys + dy, xs + dx + shear * (ys - h_img / 2)], order=1, mode="constant"
        ).astype(np.float32)
        if rng.random() < 0.5:
            mask = ndimage.grey_dilation(mask, size=(2, 2))
    if cond.sideways:
        mask = np.ascontiguousarray(np.rot90(mask, 1 if rng.random() < 0.5 else -1))
    mask = ndimage.gaussian_filter(mask, blur)
    ink = _jitter_rgb(rng, cond.ink, cond.ink_jitter)
    alpha = rng.uniform(*cond.ink_alpha)
    for c in range(3):
        img[c] *= 1.0 - alpha * mask * (1.0 - ink[c] / 255.0)


def render_digits(
    glyphs: Sequence[NDArray[np.floating]], condition: Condition, rng: np.random.Generator
) -> tuple[bytes, list[Box]]:
    """Render glyphs (28x28, float 0..1, white ink on black) as one photo.

    Several glyphs are written left to right as a number.  Returns the JPEG bytes and
    each digit's bounding box ``(left, top, right, bottom)`` in photo pixels.
    """
    if len(glyphs) == 0:
        raise ValueError("render_digits needs at least one glyph; use render_blank")
    return _render(list(glyphs), condition, rng)


def render_blank(condition: Condition, rng: np.random.Generator) -> bytes:
    """Render a photo without any digit (paper, lines and distractors only)."""
    return _render([], condition, rng)[0]


# ------------------------------------------------------------------------------ cases


@dataclass(frozen=True)
class Case:
    """One benchmark photo with its expected answer."""

    name: str
    condition: str
    jpeg: bytes
    label: str
    """Expected digits as a string ("" for a blank photo)."""
    boxes: tuple[Box, ...]
    indices: tuple[int, ...]
    """MNIST rows the digits came from (all in :data:`HELDOUT`)."""


_KIND_CODE = {"single": 1, "number": 2, "blank": 3}


def bench_cases(
    kind: str, n: int, seed: int, conditions: Sequence[str] | None = None, start: int = 0
) -> Iterator[Case]:
    """Yield cases ``start`` to ``n - 1`` of the given kind, cycling over the conditions.

    ``kind`` is "single" (one held-out digit per photo), "number" (2-4 digits written as a
    number) or "blank" (no digit; the default conditions then include "wall").  Case ``i``
    depends only on (kind, seed, i, its condition), not on ``n`` or ``start``.
    """
    if kind not in _KIND_CODE:
        raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(_KIND_CODE)}")
    if conditions is None:
        names = list(CONDITIONS) + (list(BLANK_CONDITIONS) if kind == "blank" else [])
    else:
        names = list(conditions)
    if not names:
        raise ValueError("no conditions given")
    conds = [get_condition(name) for name in names]
    code = _KIND_CODE[kind]
    glyphs, labels = _mnist()
    pool = heldout_indices()
    order = np.random.default_rng([seed, code]).permutation(pool)
    for i in range(start, n):
        cond = conds[i % len(conds)]
        rng = np.random.default_rng([seed, code, i])
        if kind == "single":
            idx = [int(order[i % len(order)])]
        elif kind == "number":
            length = int(rng.integers(cond.length[0], cond.length[1] + 1))
            idx = [int(j) for j in rng.choice(pool, size=length)]
        else:
            idx = []
        if idx:
            jpeg, boxes = render_digits([glyphs[j] for j in idx], cond, rng)
        else:
            jpeg, boxes = render_blank(cond, rng), []
        label = "".join(str(int(labels[j])) for j in idx)
        yield Case(f"{kind}-{i:05d}-{cond.name}", cond.name, jpeg, label, tuple(boxes), tuple(idx))


# -------------------------------------------------------------------------------- CLI


def _contact_sheet(cases: Sequence[Case], cols: int = 5, thumb: int = 320) -> Image.Image:
    ims = []
    for case in cases:
        im = Image.open(io.BytesIO(case.jpeg)).convert("RGB")
        draw = ImageDraw.Draw(im)
        for box in case.boxes:
            draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), outline=(255, 0, 0), width=3)
        im.thumbnail((thumb, thumb))
        ims.append(im)
    tw = max(im.width for im in ims)
    th = max(im.height for im in ims)
    rows = math.ceil(len(ims) / cols)
    sheet = Image.new("RGB", (cols * tw, rows * th), (255, 255, 255))
    for k, im in enumerate(ims):
        sheet.paste(im, ((k % cols) * tw, (k // cols) * th))
    return sheet


def main(argv: Sequence[str] | None = None) -> None:
    """Write sample photos and contact sheets for every condition."""
    parser = argparse.ArgumentParser(prog="python -m bench.photos", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--n", type=int, default=20, help="photos per condition and kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", default="single,number,blank")
    parser.add_argument("--conditions", default=None, help="comma-separated names")
    args = parser.parse_args(argv)
    chosen = args.conditions.split(",") if args.conditions else None
    times: list[float] = []
    for kind in args.kinds.split(","):
        names = chosen or list(CONDITIONS) + (list(BLANK_CONDITIONS) if kind == "blank" else [])
        folder = args.out / kind
        folder.mkdir(parents=True, exist_ok=True)
        by_cond: dict[str, list[Case]] = {}
        gen = bench_cases(kind, args.n * len(names), args.seed, names)
        while True:
            start = time.perf_counter()
            case = next(gen, None)
            if case is None:
                break
            times.append(time.perf_counter() - start)
            label = case.label or "blank"
            (folder / f"{case.name}-{label}.jpg").write_bytes(case.jpeg)
            by_cond.setdefault(case.condition, []).append(case)
        for name, cases in by_cond.items():
            _contact_sheet(cases).save(folder / f"sheet-{name}.png")
    ms = np.array(times) * 1000
    print(
        f"{len(ms)} photos written to {args.out}; render time per photo: "
        f"median {np.median(ms):.1f} ms, mean {ms.mean():.1f} ms, max {ms.max():.1f} ms"
    )


if __name__ == "__main__":
    main()
