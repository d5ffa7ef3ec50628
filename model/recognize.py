"""Image bytes → the digits they show, with confidences and what the model saw."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

from model.decode import WORK_SIDE
from model.groups import Box
from model.network import Network, is_relu_mlp, relu_mlp_probabilities
from model.nondigit import DIGIT, MARK, WRITING, load_check
from model.pipeline import DigitImage, Options, digit_options
from model.store import load_stored_model
from model.verifier import verifier_features

# Below this probability the answer is given as a guess, with the runner-up.
UNSURE_BELOW = 0.80
# A reading other than the likeliest-by-shape must be this much surer (in mean log-probability
# per digit) to be preferred.
CUT_PENALTY = 1.0
# Digits of a number are written apart far more often than touching: a reading that cuts
# through a stroke pays this (in log-probability) for each stroke cut, so a wide 0 or 2 in
# one stroke is not read as the two halves "17" or "21".
SLICE_PENALTY = 2.5
# A group read without a line under it that may be an underline or the digit's own stroke
# (a 2's base) must be this much surer (total log-probability) to be read that way. 0.1 read
# two 2s of the README's benchmark, standing on a base reaching past them, as 7; 0.15 none.
UNMARKED_MARGIN = 0.15
# The digit/writing/mark check (`model.nondigit`) judges each group of ink by the mean of its
# pieces' probabilities; a group is digit-like from DIGIT_LIKE. A 1 is also an l, an I or any
# straight stroke, so groups read as 1s only are left out of what tells writing from digits.
# - A page of writing: WRITTEN_PAGE groups or more, and more than WRITTEN_SHARE of the telling
#   ones not digit-like. Digits are rare there: a line is read only when every piece of it is
#   digit-like and NUMBER_RUN of them are not 1s (a number written among words).
# - Anywhere else nothing is dropped: the check takes some digits for marks (a felt pen's 7
#   for a corner, a 2 for a scribble; even when 90 % sure, 2 of 400 rendered single digits),
#   and doubts more of a thin pen's digits.
DIGIT_LIKE = 0.5
WRITTEN_SHARE = 0.5
NUMBER_RUN = 2
WRITTEN_PAGE = 5
# - An object: a group at least OBJECT_WIDTH of the frame's width or OBJECT_HEIGHT of its height,
#   of OBJECT_STROKES strokes or more, that the check finds under NO_DIGIT likely a digit (a fan
#   of paper sheets, the corner of a stack of them: the edges of several sheets) is dropped
#   wherever it is. Of 340 rendered photos of single digits, 113 of numbers and the 109 real
#   photos with digits, no group that large scored under 0.3; but 2 of 40 rendered tight crops
#   did (a thick 4, a 7 cut short), each one stroke, as most digits are (of 347 rendered
#   groups, 2 had 3 strokes or more).
OBJECT_WIDTH = 0.5
OBJECT_HEIGHT = 0.7
OBJECT_STROKES = 3
NO_DIGIT = 0.2
# - A line of writing on its side (a note photographed sideways): its letters, stacked, make one
#   group ON_SIDE times as tall as it is wide or more, of LINE_STROKES separate strokes or more.
#   A digit that narrow is a 1, in one stroke (two or three with a flag and a base): of 238
#   rendered photos' groups and the real photos' digits, none that narrow had more than one.
#   Such a group is writing, and the photo is then read as a page of writing.
ON_SIDE = 3.0
LINE_STROKES = 4
# `Recognizer(check=...)`'s default: the shipped check.
SHIPPED_CHECK: Any = object()


Verdict = Literal["digits", "writing", "nothing"]


@dataclass(frozen=True)
class DigitReading:
    """One digit as read: the answer, the runner-up, and the grid and crop behind them."""

    digit: int
    confidence: float
    runner_up: int
    runner_up_confidence: float
    box: Box
    grid: np.ndarray  # (8, 8) values 0..16
    ink: np.ndarray  # the crop the grid was made from, ink 0..1
    line: int = 0  # the line of writing it is on, 0 at the top
    aspect: float = 1.0  # width / height of its deslanted ink

    @property
    def unsure(self) -> bool:
        """Whether the model's confidence is too low to state the digit as fact."""
        return self.confidence < UNSURE_BELOW


@dataclass(frozen=True)
class Reading:
    """All digits found in one image, in reading order (lines top to bottom, each left to
    right); empty when there is none."""

    digits: tuple[DigitReading, ...]
    # No digit was found, and the picture shows writing: letters and words, not digits.
    writing: bool = False

    @property
    def verdict(self) -> Verdict:
        """ "digits" when digits were read; else "writing" (words, no digit) or "nothing"."""
        if self.digits:
            return "digits"
        return "writing" if self.writing else "nothing"

    @property
    def text(self) -> str:
        """The digits as a string, e.g. "2025"; "" when no digit was found."""
        return "".join(str(d.digit) for d in self.digits)

    @property
    def lines(self) -> tuple[str, ...]:
        """The digits of each line of writing, top to bottom: ("12", "34"); () for none."""
        lines: dict[int, str] = {}
        for d in self.digits:
            lines[d.line] = lines.get(d.line, "") + str(d.digit)
        return tuple(lines.values())

    @property
    def confidence(self) -> float:
        """The confidence that every digit is right (the product of their confidences)."""
        return float(np.prod([d.confidence for d in self.digits])) if self.digits else 0.0

    @property
    def unsure(self) -> bool:
        """Whether any digit is read with low confidence."""
        return any(d.unsure for d in self.digits)


def probabilities(estimator: Any, x: np.ndarray) -> np.ndarray:
    """`estimator.predict_proba(x)`; for a plain ReLU MLP computed here, without the checks.

    A photo holds one to a few digits: scikit-learn's input validation costs far more than the
    arithmetic for so few rows, and this runs on every photo. A `model.network.Network` (the
    same weights as arrays, in worker processes) gives the same numbers.
    """
    if isinstance(estimator, Network) or is_relu_mlp(estimator):
        return relu_mlp_probabilities(estimator, x)
    return np.asarray(estimator.predict_proba(x))


class Weights(NamedTuple):
    """What a `Recognizer` reads with, its networks as plain arrays where they are ReLU MLPs:
    picklable to a worker process that then needs no scikit-learn (`Recognizer.weights`)."""

    estimator: Any
    verifier: Any
    check: Any
    work_side: int
    reduced: bool


class Recognizer:
    """Reads digits from image bytes with a fitted estimator taking `(n, 64)` grids on 0..16."""

    def __init__(
        self,
        estimator: Any,
        verifier: Any = None,
        work_side: int = WORK_SIDE,
        reduced: bool = True,
        check: Any = SHIPPED_CHECK,
    ) -> None:
        self.estimator = estimator
        self.verifier = verifier
        self.work_side = work_side
        self.reduced = reduced
        # None reads every group as digits.
        self.check = shipped_check() if check is SHIPPED_CHECK else check

    def weights(self) -> Weights:
        """Its networks as arrays (`model.network.Network`), for `Recognizer.from_weights`."""
        return Weights(
            Network.of(self.estimator),
            None if self.verifier is None else Network.of(self.verifier),
            None if self.check is None else Network.of(self.check),
            self.work_side,
            self.reduced,
        )

    @classmethod
    def from_weights(cls, weights: Weights) -> Recognizer:
        """A recognizer reading as the one `weights` came from, bit for bit."""
        return cls(
            weights.estimator,
            weights.verifier,
            work_side=weights.work_side,
            reduced=weights.reduced,
            check=weights.check,
        )

    def read(self, data: bytes) -> Reading:
        """Return the digits in the image; raises `model.errors.ImageError` for bad input."""
        groups: list[list[DigitReading]] = []
        strokes: list[int] = []
        frame = (0.0, 0.0)
        for options in digit_options(data, self.work_side, self.reduced):
            first = options[0]
            # The photo's height and width, in the pixels of the digits' boxes.
            frame = (first.ink.shape[0] * first.factor, first.ink.shape[1] * first.factor)
            read = [replace(d, line=first.line) for d in self._most_convincing(options)]
            if read:
                groups.append(read)
                strokes.append(first.strokes)
        if self.check is None or not groups:
            return Reading(digits=tuple(d for g in groups for d in g))
        kept, writing = self._not_writing(groups, frame, strokes)
        return Reading(digits=tuple(d for g in kept for d in g), writing=writing)

    def _not_writing(
        self, groups: list[list[DigitReading]], frame: tuple[float, float], strokes: list[int]
    ) -> tuple[list[list[DigitReading]], bool]:
        """The groups read as digits, and whether what is not read is writing.

        All of them but objects (see OBJECT_WIDTH) and lines of writing on their side (see
        ON_SIDE), unless the photo is a page of writing (see WRITTEN_PAGE; a line on its side
        makes one too): then only its lines of digits, and when there is none, the verdict is
        writing if the check finds its groups likelier writing than marks. The groups are in
        reading order; each group's digits share one line. `frame` is the photo's (height,
        width) in the pixels of the digits' boxes, `strokes` how many strokes each group holds.
        """
        flat = [d for g in groups for d in g]
        features = verifier_features(
            np.stack([d.grid.reshape(-1) for d in flat]), np.array([d.aspect for d in flat])
        )
        probs = probabilities(self.check, features)
        bounds = np.cumsum([0, *(len(g) for g in groups)])
        pairs = list(itertools.pairwise(bounds))
        means = [probs[a:b].mean(axis=0) for a, b in pairs]
        on_side = [
            n >= LINE_STROKES and _height(g) >= ON_SIDE * _width(g)
            for g, n in zip(groups, strokes, strict=True)
        ]
        dropped = [
            side or (n >= OBJECT_STROKES and float(m[DIGIT]) < NO_DIGIT and _spans(g, frame))
            for g, m, n, side in zip(groups, means, strokes, on_side, strict=True)
        ]
        if any(dropped):
            groups = [g for g, o in zip(groups, dropped, strict=True) if not o]
            pairs = [p for p, o in zip(pairs, dropped, strict=True) if not o]
            means = [m for m, o in zip(means, dropped, strict=True) if not o]
            if not groups:
                return [], any(on_side)
        digit_like = [float(m[DIGIT]) >= DIGIT_LIKE for m in means]
        # Each piece of each group, digit-like or not.
        every_piece = [bool((probs[a:b, DIGIT] >= DIGIT_LIKE).all()) for a, b in pairs]
        # A 1 is also an l, an I or a stroke: what the page is, its other groups tell.
        telling = [k for k, g in enumerate(groups) if any(d.digit != 1 for d in g)]
        letters = sum(not digit_like[k] for k in telling)
        page_of_writing = any(on_side) or (
            len(groups) >= WRITTEN_PAGE and letters > WRITTEN_SHARE * len(telling)
        )
        if not page_of_writing:
            return groups, False
        kept: list[int] = []
        for line in dict.fromkeys(g[0].line for g in groups):
            members = [k for k, g in enumerate(groups) if g[0].line == line]
            others = sum(d.digit != 1 for k in members for d in groups[k])
            if all(every_piece[k] for k in members) and others >= NUMBER_RUN:
                kept += members
        if kept:
            return [groups[k] for k in sorted(kept)], False
        written = sum(float(m[WRITING]) for m in means) > sum(float(m[MARK]) for m in means)
        return [], any(on_side) or written

    def _most_convincing(self, options: Options) -> list[DigitReading]:
        """Read each way of cutting a group and keep the most convincing one.

        Each digit of an option scores the log-probability of its class plus, with a
        verifier, the log-probability that it is one whole digit (not a fragment or two digits
        squeezed together); the option with the highest total wins. Options other than the
        likeliest by shape pay a penalty, and so does each stroke an option cuts through.
        Options without a line that may be an underline (`Cut.unmarked`) are read too, and win
        when UNMARKED_MARGIN more convincing than the group read with it.
        """
        score, best = self._convincing([o for o in options if not o.unmarked])
        unmarked = [o for o in options if o.unmarked]
        if unmarked:
            other_score, other = self._convincing(unmarked)
            if other_score > score + UNMARKED_MARGIN:
                return other
        return best

    def _convincing(self, options: Options) -> tuple[float, list[DigitReading]]:
        """The most convincing of `options` (see `_most_convincing`), with its score."""
        ((best_score, best),) = self._scored(options[:1])
        # Other options score at most -CUT_PENALTY, so they are read only when they could win.
        if best_score < -CUT_PENALTY:
            for score, readings in self._scored(options[1:]):
                if score - CUT_PENALTY > best_score:
                    best, best_score = readings, score - CUT_PENALTY
        return best_score, best

    def _scored(self, options: Options) -> list[tuple[float, list[DigitReading]]]:
        """Each option's readings and score, read in one batch.

        The score is the total log-probability, less SLICE_PENALTY per stroke the option cuts.
        """
        flat = [digit for option in options for digit in option.digits]
        readings = self._classified(flat)
        logs = np.log(np.maximum([r.confidence for r in readings], 1e-6)) + np.log(
            np.maximum(self._wholeness(flat), 1e-6)
        )
        scored = []
        start = 0
        for option in options:
            end = start + len(option.digits)
            score = float(np.sum(logs[start:end])) - SLICE_PENALTY * option.sliced
            scored.append((score, readings[start:end]))
            start = end
        return scored

    def _wholeness(self, found: list[DigitImage]) -> np.ndarray:
        """The verifier's probability that each image is one whole digit (1.0 without one)."""
        if self.verifier is None or not found:
            return np.ones(len(found))
        features = verifier_features(
            np.stack([f.grid.reshape(-1) for f in found]), np.array([f.aspect for f in found])
        )
        return probabilities(self.verifier, features)[:, 1]

    def _classified(self, found: list[DigitImage]) -> list[DigitReading]:
        if not found:
            return []
        grids = np.stack([f.grid.reshape(-1) for f in found]).astype(np.float64)
        found_probabilities = probabilities(self.estimator, grids)
        classes = np.asarray(self.estimator.classes_)
        order = np.argsort(found_probabilities, axis=1)
        return [
            DigitReading(
                digit=int(classes[ranked[-1]]),
                confidence=float(probs[ranked[-1]]),
                runner_up=int(classes[ranked[-2]]),
                runner_up_confidence=float(probs[ranked[-2]]),
                box=digit.box,
                grid=digit.grid,
                ink=digit.ink,
                aspect=digit.aspect,
            )
            for digit, probs, ranked in zip(found, found_probabilities, order, strict=True)
        ]


def _width(group: list[DigitReading]) -> int:
    return max(d.box[2] for d in group) - min(d.box[0] for d in group)


def _height(group: list[DigitReading]) -> int:
    return max(d.box[3] for d in group) - min(d.box[1] for d in group)


def _spans(group: list[DigitReading], frame: tuple[float, float]) -> bool:
    """Whether the group is at least OBJECT_WIDTH as wide or OBJECT_HEIGHT as tall as the frame."""
    height, width = frame
    return _width(group) >= OBJECT_WIDTH * width or _height(group) >= OBJECT_HEIGHT * height


@functools.cache
def shipped_check() -> Any:
    """The shipped digit/writing/mark check (`model.nondigit`), loaded once."""
    return load_check()


def load_recognizer(path: Path | None = None, sha256: str | None = None) -> Recognizer:
    """A recognizer using the shipped model, or the model file at `path` with that hash."""
    stored = load_stored_model(path, sha256)
    return Recognizer(stored.estimator, stored.verifier)
