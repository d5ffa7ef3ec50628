"""How the photo benchmark splits its cases over conditions."""

from __future__ import annotations

from bench.accuracy import jobs


def test_each_condition_reads_its_own_cases() -> None:
    found = jobs(["plain-black", "pencil", "small"], 90, 30, 0, side=800, seed=0)
    for kind, n in (("single", 90), ("number", 30)):
        ranges = sorted((start, stop) for k, start, stop, *_ in found if k == kind)
        # Consecutive, not overlapping: every condition renders different handwriting.
        assert ranges == [(i * n // 3, (i + 1) * n // 3) for i in range(3)]
    assert not [job for job in found if job[0] == "blank"]
    assert {tuple(job[4]) for job in found} == {("plain-black",), ("pencil",), ("small",)}
