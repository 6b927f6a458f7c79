"""A CTC probability matrix written frame by frame, for tests of the passes that rescore readings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ctc_matrix(labels: Sequence[str], frames: list[dict[str, float]]) -> np.ndarray:
    """Each dict gives one timestep's odds over `labels` (the rest is blank, label 0), with a
    blank timestep after each."""
    rows = []
    for f in frames:
        row = np.full(len(labels), 1e-4)
        for ch, p in f.items():
            row[labels.index(ch)] = p
        row[0] = max(1e-4, 1 - sum(f.values()))
        rows += [row / row.sum(), np.eye(len(labels))[0] * 0.999 + 1e-4]
    return np.array(rows, np.float32)
