"""Speed benchmark: time from JPEG bytes to digits (and to the preview PNG), on one core.

    python -m bench.speed            # 200 photos of 1280x960, median and p95 per photo

The baseline reads the same photos at full resolution (no reduced-scale JPEG decoding, the
analysis at the photo's own size), to show what working at the normalization's resolution saves.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

from threadpoolctl import threadpool_limits

from bench.photos import BASIC, bench_cases
from model.recognize import Recognizer
from model.render import preview_png
from model.store import load_stored_model


def timings(photos: Sequence[bytes], work: Callable[[bytes], object], repeat: int) -> list[float]:
    """Seconds per photo for `work`, the best of `repeat` runs for each photo."""
    results = []
    for photo in photos:
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            work(photo)
            best = min(best, time.perf_counter() - started)
        results.append(best)
    return results


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(values) * 1000:6.2f} ms   p95 {p95 * 1000:6.2f} ms"


def main(argv: Sequence[str] | None = None) -> None:
    """Render the photos, then time the recognizer and the full-resolution baseline."""
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="photos (1280x960 JPEG)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per photo, best kept")
    args = parser.parse_args(argv)
    photos = [case.jpeg for case in bench_cases("single", args.n, seed=7, conditions=BASIC)]
    stored = load_stored_model()
    fast = Recognizer(stored.estimator, stored.verifier)
    # The straightforward way: decode every pixel and analyse the photo at its own size.
    baseline = Recognizer(stored.estimator, stored.verifier, work_side=1_000_000, reduced=False)

    def with_preview(photo: bytes) -> None:
        reading = fast.read(photo)
        preview_png(reading.digits)

    with threadpool_limits(limits=1):
        read_times = timings(photos, fast.read, args.repeat)
        full_times = timings(photos, with_preview, args.repeat)
        base_times = timings(photos, baseline.read, args.repeat)
    print(f"{len(photos)} photos, 1280x960 JPEG, one thread; best of {args.repeat} per photo")
    print(f"bytes → digits:                {_ms(read_times)}")
    print(f"bytes → digits + preview PNG:  {_ms(full_times)}")
    print(f"baseline, full resolution:     {_ms(base_times)}")
    ratio = statistics.median(base_times) / statistics.median(read_times)
    print(f"speed-up over the baseline:    {ratio:.1f}x")


if __name__ == "__main__":
    main()
