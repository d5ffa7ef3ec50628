"""The whole-digit check's features: what the check (`model.nondigit`'s and the segmentation
verifier's small MLPs) sees of one candidate digit. Reading and training both compute them here;
the check's training examples are made in `training.segment`.
"""

from __future__ import annotations

import numpy as np


def verifier_features(grids: np.ndarray, aspects: np.ndarray) -> np.ndarray:
    """Features for the whole-digit check: the 64 grid values on 0..1 and the log aspect."""
    grids = np.asarray(grids, dtype=np.float64).reshape((len(grids), -1)) / 16.0
    return np.column_stack([grids, np.log(np.clip(aspects, 0.05, 20.0))])
