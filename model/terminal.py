"""Text renderings of readings for the terminal."""

from __future__ import annotations

import numpy as np

from model.recognize import Reading

SHADES = " ░▒▓█"


def grid_text(grid: np.ndarray) -> list[str]:
    """Return an 8x8 grid of 0..16 as 8 lines of shaded blocks, two characters per cell."""
    levels = np.clip(np.asarray(grid), 0, 16) * (len(SHADES) - 1) // 16
    return ["".join(SHADES[v] * 2 for v in row) for row in levels]


def reading_text(reading: Reading) -> str:
    """Describe a reading: the digits, confidence per digit and the grids side by side."""
    if not reading.digits:
        return "no digit found"
    parts = []
    for d in reading.digits:
        note = f" (or {d.runner_up}: {d.runner_up_confidence:.0%})" if d.unsure else ""
        parts.append(f"{d.digit}: {d.confidence:.0%}{note}")
    header = f"read {' / '.join(reading.lines)}" + (" (unsure)" if reading.unsure else "")
    columns = [grid_text(d.grid) for d in reading.digits]
    rows = ["|" + "|".join(col[r] for col in columns) + "|" for r in range(8)]
    return "\n".join([header, "  ".join(parts), *rows])
