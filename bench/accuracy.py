"""Photo benchmark: how well the shipped model reads rendered phone photos of unseen writers.

    python -m bench.accuracy                     # the basic conditions (issue 2's benchmark)
    python -m bench.accuracy --conditions all    # every condition, reported one by one
    python -m bench.accuracy --conditions real   # what real photos show (bench.photos.REAL_LIKE)
    python -m bench.accuracy --sides 1280,800,320   # which Telegram photo size to download
    python -m bench.accuracy --crop 0.05         # each photo cropped tight around its digits
    python -m bench.accuracy --glyphs            # the same handwriting without any photo

The handwriting is MNIST's test digits [0:5000] (249 writers the model never saw).

Photos are rendered at 1280x960 and, for smaller sides, downscaled and re-encoded as JPEG the
way Telegram offers a photo at several sizes (`resized_jpeg`, from tests/fakebotapi/photos.py).
"""

from __future__ import annotations

import argparse
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from PIL import Image

from bench.photos import (
    BASIC,
    BLANK_CONDITIONS,
    CONDITIONS,
    REAL_LIKE,
    Case,
    bench_cases,
    blank_only,
    get_condition,
)
from model.errors import ImageError
from model.recognize import load_recognizer
from model.store import load_model
from tests.fakebotapi.photos import resized_jpeg
from training.data import mnist_benchmark
from training.train import grids_of


@dataclass(frozen=True)
class Outcome:
    """One case's result: which condition, what was expected and what was read."""

    kind: str
    condition: str
    expected: str
    read: str


def cropped_jpeg(case: Case, margin: float) -> bytes:
    """Return the photo cropped around its digits, `margin` of their box's size beside them.

    As a person crops a photo in Telegram before sending it. A blank photo is left whole.
    """
    if not case.boxes:
        return case.jpeg
    x0, y0 = min(b[0] for b in case.boxes), min(b[1] for b in case.boxes)
    x1, y1 = max(b[2] for b in case.boxes), max(b[3] for b in case.boxes)
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    image = Image.open(io.BytesIO(case.jpeg))
    crop = image.crop((int(x0 - mx), int(y0 - my), int(x1 + mx), int(y1 + my)))
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=87)
    return out.getvalue()


# kind, first and end case, seed, conditions, side, crop margin (None: the whole photo)
Job = tuple[str, int, int, int, list[str], int, float | None]


def _run(job: Job) -> list[Outcome]:
    kind, start, stop, seed, conditions, side, crop = job
    recognizer = load_recognizer()
    outcomes = []
    case: Case
    for case in bench_cases(kind, stop, seed, conditions, start=start):
        photo = case.jpeg if crop is None else cropped_jpeg(case, crop)
        try:
            read = recognizer.read(resized_jpeg(photo, side)).text
        except ImageError:
            read = "<error>"
        outcomes.append(Outcome(kind, case.condition, case.label, read))
    return outcomes


def jobs(
    conditions: list[str],
    n_single: int,
    n_number: int,
    n_blank: int,
    side: int,
    seed: int,
    crop: float | None = None,
) -> list[Job]:
    """One job per kind and condition, each with its own run of cases.

    One job per condition keeps each job's cases identical whatever the worker count, and its
    own run of cases makes each condition render different handwriting.
    """
    blank_conditions = conditions + [c for c in BLANK_CONDITIONS if c not in conditions]
    # Pages of words and sheets of paper are conditions of photos without a digit only.
    digit_conditions = [c for c in conditions if not blank_only(get_condition(c))]
    found: list[Job] = []
    for kind, n, conds in (
        ("single", n_single, digit_conditions),
        ("number", n_number, digit_conditions),
        ("blank", n_blank, blank_conditions),
    ):
        per = max(1, n // len(conds)) if n and conds else 0
        found += [
            (kind, k * per, (k + 1) * per, seed, [c], side, crop)
            for k, c in enumerate(conds)
            if per
        ]
    return found


def run(work: list[Job], workers: int) -> list[Outcome]:
    """Render and read every job's cases, split over `workers` processes."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [o for chunk in pool.map(_run, work) for o in chunk]


def summary(outcomes: Sequence[Outcome]) -> dict[str, dict[str, dict[str, float]]]:
    """Accuracy (exact match of the whole string) per kind and condition, plus overall."""
    table: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for o in outcomes:
        hit = o.read == o.expected
        table[o.kind][o.condition].append(hit)
        table[o.kind]["overall"].append(hit)
    return {
        kind: {cond: {"accuracy": sum(h) / len(h), "n": len(h)} for cond, h in conds.items()}
        for kind, conds in table.items()
    }


def glyph_accuracy() -> dict[str, float]:
    """The shipped classifier on the benchmark's handwriting with no photo in between.

    Each of MNIST's test digits [0:5000] is normalized straight to 8x8, as training data is. Photos
    lose from here (a photo's pen, light and noise change the glyph, and the digits must be
    found), so this is about what the photo figures can be expected to reach:
    with digits read this well, `numbers` of 2-4 digit numbers (as many of each length) are
    read whole.
    """
    glyphs, labels = mnist_benchmark()
    accuracy = float((load_model().predict(grids_of(glyphs)) == labels).mean())
    numbers = sum(accuracy**length for length in (2, 3, 4)) / 3
    return {"n": len(labels), "accuracy": accuracy, "numbers": numbers}


def markdown_table(results: dict[int, dict[str, dict[str, dict[str, float]]]]) -> str:
    """Rows: conditions, then overall; columns: each kind at each photo side."""
    columns = [(side, kind) for side, kinds in results.items() for kind in kinds]
    rows: list[str] = []
    for kinds in results.values():
        for conds in kinds.values():
            rows += [c for c in conds if c not in rows and c != "overall"]
    rows.append("overall")
    header = "| condition | " + " | ".join(f"{k} @{s}px" for s, k in columns) + " |"
    lines = [header, "|---" * (len(columns) + 1) + "|"]
    for row in rows:
        cells = []
        for side, kind in columns:
            fig = results[side][kind].get(row)
            cells.append(f"{fig['accuracy']:.1%} ({fig['n']:.0f})" if fig else "")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.accuracy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--conditions", default="basic", help="basic, all, real, or names with commas"
    )
    parser.add_argument("--single", type=int, default=500, help="single-digit photos")
    parser.add_argument(
        "--numbers", type=int, default=0, help="number photos (2-4 digits; long-number: 5-12)"
    )
    parser.add_argument("--blanks", type=int, default=0, help="photos without a digit")
    parser.add_argument("--sides", default="1280", help="photo long sides to test, e.g. 1280,800")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--crop",
        type=float,
        metavar="MARGIN",
        help="crop each photo around its digits, MARGIN of their size beside them (e.g. 0.05)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--glyphs",
        action="store_true",
        help="read the handwriting straight, without photos: what the photos can hope to reach",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="one table, as in the README")
    args = parser.parse_args(argv)
    if args.glyphs:
        figures = glyph_accuracy()
        if args.json:
            print(json.dumps(figures))
        else:
            print(
                f"{figures['n']:.0f} MNIST test digits, normalized without a photo: "
                f"{figures['accuracy']:.1%} read right, which reads "
                f"{figures['numbers']:.1%} of 2-4 digit numbers whole"
            )
        return
    if args.conditions == "basic":
        conditions = list(BASIC)
    elif args.conditions == "all":
        conditions = list(CONDITIONS)
    elif args.conditions == "real":
        conditions = list(REAL_LIKE)
    else:
        conditions = args.conditions.split(",")
    results = {}
    for side in (int(s) for s in args.sides.split(",")):
        work = jobs(conditions, args.single, args.numbers, args.blanks, side, args.seed, args.crop)
        outcomes = run(work, args.workers)
        results[side] = summary(outcomes)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    if args.markdown:
        print(markdown_table(results))
        return
    for side, kinds in results.items():
        print(f"\nphoto long side {side}px")
        for kind, conds in kinds.items():
            print(f"  {kind}:")
            for cond, fig in sorted(conds.items(), key=lambda kv: kv[0] == "overall"):
                print(f"    {cond:18s} {fig['accuracy']:7.1%}  (n={fig['n']})")


if __name__ == "__main__":
    main()
