"""How the photo benchmark splits its cases over conditions."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from bench.accuracy import cropped_jpeg, jobs, main
from bench.photos import bench_cases


def test_each_condition_reads_its_own_cases() -> None:
    found = jobs(["plain-black", "pencil", "small"], 90, 30, 0, side=800, seed=0)
    for kind, n in (("single", 90), ("number", 30)):
        ranges = sorted((start, stop) for k, start, stop, *_ in found if k == kind)
        # Consecutive, not overlapping: every condition renders different handwriting.
        assert ranges == [(i * n // 3, (i + 1) * n // 3) for i in range(3)]
    assert not [job for job in found if job[0] == "blank"]
    assert {tuple(job[4]) for job in found} == {("plain-black",), ("pencil",), ("small",)}


def test_a_cropped_photo_holds_its_digits_with_the_margin_beside_them() -> None:
    (case,) = bench_cases("number", 1, seed=0, conditions=["plain-black"])
    x0, x1 = min(b[0] for b in case.boxes), max(b[2] for b in case.boxes)
    y0, y1 = min(b[1] for b in case.boxes), max(b[3] for b in case.boxes)
    crop = Image.open(io.BytesIO(cropped_jpeg(case, 0.1)))
    assert abs(crop.width - 1.2 * (x1 - x0)) <= 2
    assert abs(crop.height - 1.2 * (y1 - y0)) <= 2
    (blank,) = bench_cases("blank", 1, seed=0, conditions=["plain-black"])
    assert cropped_jpeg(blank, 0.1) == blank.jpeg


@pytest.mark.slow  # reads the benchmark glyphs
def test_glyphs_reads_the_benchmark_handwriting_without_photos(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["--glyphs", "--json"])
    figures = json.loads(capsys.readouterr().out)
    assert figures["n"] == 5000  # MNIST's test digits [0:5000], which the photos are drawn from
    assert 0.95 < figures["accuracy"] < 1.0
    # As many numbers of 2, 3 and 4 digits, each read whole when all its digits are.
    p = figures["accuracy"]
    assert figures["numbers"] == pytest.approx((p**2 + p**3 + p**4) / 3)
