"""Real-photo benchmark: how well the bot reads photos that people actually took.

    python -m bench.real                    # ../shared/real-photos, as sent both ways
    python -m bench.real FOLDER --json      # one JSON object
    python -m bench.real --sides 800        # only as a Telegram photo

FOLDER holds `manifest.json`: a list of objects with `file` (relative to FOLDER), `digits`
(the right answer, "" when the image holds no digit), `kind` ("single", "number" or "blank")
and `source`. Each image is read by the function the bot uses (`bot.workers.read_photo`) at
each of `--sides`: "original" reads the file's own bytes, as the bot gets an image sent as a
file; a number of pixels reads the image as Telegram offers a photo at that long side (EXIF
orientation applied, downscaled, re-encoded as JPEG). The bot downloads the 800 px size.

A reading is right when its digits are exactly the expected string. For numbers, the digit
score is also given: 1 - (edit distance / expected length), at least 0, averaged.
"""

from __future__ import annotations

import argparse
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image, ImageOps

from bot.reading import read_photo
from model.errors import ImageError
from model.recognize import Recognizer, load_recognizer

DEFAULT_FOLDER = Path(__file__).resolve().parent.parent.parent / "shared" / "real-photos"
ORIGINAL = "original"
KINDS = ("single", "number", "blank")


@dataclass(frozen=True)
class Outcome:
    """One image's result."""

    file: str
    kind: str
    source: str
    expected: str
    read: str
    verdict: str

    @property
    def right(self) -> bool:
        return self.read == self.expected


def telegram_photo(data: bytes, long_side: int) -> bytes:
    """The image as Telegram offers a photo of at most `long_side` pixels: upright JPEG."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    image.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=87)
    return out.getvalue()


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions, each costing 1."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def digit_score(expected: str, read: str) -> float:
    """1 - edit distance / expected length, at least 0: the share of digits read right."""
    if not expected:
        return float(read == "")
    return max(0.0, 1.0 - edit_distance(expected, read) / len(expected))


def outcomes(folder: Path, side: str, recognizer: Recognizer) -> list[Outcome]:
    """Read every image of the folder's manifest, at `side` ("original" or pixels)."""
    found = []
    for entry in json.loads((folder / "manifest.json").read_text()):
        data = (folder / entry["file"]).read_bytes()
        if side != ORIGINAL:
            data = telegram_photo(data, int(side))
        try:
            reading, _ = read_photo(recognizer, data)
            read, verdict = reading.text, str(reading.verdict)
        except ImageError:
            read, verdict = "<error>", "error"
        found.append(
            Outcome(
                file=entry["file"],
                kind=entry["kind"],
                source=entry.get("source", ""),
                expected=entry["digits"],
                read=read,
                verdict=verdict,
            )
        )
    return found


def _share(hits: Sequence[bool]) -> dict[str, float]:
    return {"accuracy": sum(hits) / len(hits) if hits else 0.0, "n": len(hits)}


def summary(found: Sequence[Outcome]) -> dict[str, object]:
    """Accuracy by kind, by source, per digit (of singles), the numbers' digit score, misreads."""
    by_kind: dict[str, list[bool]] = defaultdict(list)
    by_source: dict[str, list[bool]] = defaultdict(list)
    by_digit: dict[str, list[bool]] = defaultdict(list)
    for o in found:
        by_kind[o.kind].append(o.right)
        by_source[o.source].append(o.right)
        if o.kind == "single":
            by_digit[o.expected].append(o.right)
    numbers = [digit_score(o.expected, o.read) for o in found if o.kind == "number"]
    kinds = [k for k in KINDS if k in by_kind] + sorted(set(by_kind) - set(KINDS))
    return {
        "kinds": {kind: _share(by_kind[kind]) for kind in kinds},
        "overall": _share([o.right for o in found]),
        "number_digit_score": sum(numbers) / len(numbers) if numbers else None,
        "sources": {source: _share(hits) for source, hits in sorted(by_source.items())},
        "digits": {digit: _share(hits) for digit, hits in sorted(by_digit.items())},
        "misreads": [asdict(o) for o in found if not o.right],
    }


def report(side: str, figures: dict[str, object]) -> str:
    """The figures of one side as text."""
    kinds = figures["kinds"]
    assert isinstance(kinds, dict)
    title = "as sent (original bytes)" if side == ORIGINAL else f"as a Telegram photo, {side} px"
    lines = [f"real photos, {title}"]
    for kind, fig in kinds.items():
        lines.append(f"  {kind:8s} {fig['accuracy']:7.1%}  ({fig['n']})")
    score = figures["number_digit_score"]
    if score is not None:
        lines.append(f"  number digits (1 - edit distance / length): {score:.1%}")
    lines.append("  by source: " + _inline(figures["sources"]))
    lines.append("  singles by digit: " + _inline(figures["digits"]))
    misreads = figures["misreads"]
    assert isinstance(misreads, list)
    lines.append(f"  misread ({len(misreads)}):")
    for o in misreads:
        shown = repr(o["read"]) + (f" [{o['verdict']}]" if o["verdict"] != "digits" else "")
        lines.append(f"    {o['file']:42s} {o['kind']:7s} {o['expected']!r:>24s} → {shown}")
    return "\n".join(lines)


def _inline(shares: object) -> str:
    assert isinstance(shares, dict)
    return ", ".join(f"{key} {fig['accuracy']:.0%} ({fig['n']:.0f})" for key, fig in shares.items())


def main(argv: Sequence[str] | None = None) -> None:
    """Read the folder's photos and print the figures (or JSON)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.real",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument(
        "--sides",
        default=f"{ORIGINAL},800",
        help="'original' and/or long sides in pixels, with commas (default: original,800)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object, by side")
    args = parser.parse_args(argv)
    recognizer = load_recognizer()
    results = {
        side: summary(outcomes(args.folder, side, recognizer)) for side in args.sides.split(",")
    }
    if args.json:
        print(json.dumps({"folder": str(args.folder), "sides": results}, indent=1))
        return
    print("\n\n".join(report(side, figures) for side, figures in results.items()))


if __name__ == "__main__":
    main()
