"""Ticks, fills and circles: an option is marked when the applicant's ink covers enough of its box.

The printed form is already dropped out, so the ink share is compared with two thresholds: above
`on` the option is marked, below `off` it is clearly empty, and in between the reading is
uncertain. Confidence is how far each option sits from the uncertain band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MARK_ON = 0.030
MARK_OFF = 0.006
SIGNATURE_ON = 0.012
SIGNATURE_OFF = 0.002


@dataclass(frozen=True)
class MarkReading:
    ratios: tuple[float, ...]
    marked: tuple[bool, ...]
    confidence: float


def _conf(ratio: float, on: float, off: float) -> float:
    if ratio >= on:
        return 1.0
    if ratio <= off:
        return 1.0
    # Inside the band: confidence falls to 0 in the middle.
    mid = (on + off) / 2
    return float(min(1.0, abs(ratio - mid) / ((on - off) / 2)) * 0.5)


def read_marks(ink_masks: list[np.ndarray], on: float = MARK_ON, off: float = MARK_OFF) -> MarkReading:
    ratios = tuple(float(m.mean()) if m.size else 0.0 for m in ink_masks)
    marked = tuple(r >= (on + off) / 2 for r in ratios)
    conf = min((_conf(r, on, off) for r in ratios), default=1.0)
    return MarkReading(ratios, marked, conf)


def read_marks_conf(ratios: list[float], on: float = MARK_ON, off: float = MARK_OFF) -> float:
    """The confidence of `read_marks` from ink shares already measured."""
    return min((_conf(r, on, off) for r in ratios), default=1.0)
