"""Ticks, fills and circles: an option is marked when the applicant's ink covers enough of its box.

The printed form is already dropped out, so the ink share is compared with two thresholds: above
`on` the option is marked, below `off` it is clearly empty, and in between the reading is
uncertain. Confidence is how far each option sits from the uncertain band.

A single small box (a checkbox) is read against the paper around it (`read_mark_box`): filled
solid, its own median is ink. It is unreadable only when its surroundings are dark too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.fields import ink as inkmod
from pipeline.fields.geometry import PxBox

MARK_ON = 0.030
MARK_OFF = 0.006
SIGNATURE_ON = 0.012
SIGNATURE_OFF = 0.002
# Share of a mark box's surroundings that must be dark (as well as the box) for it to be
# unreadable: a blacked-out page region, not a fill or blob of the applicant's over the box.
SURROUND_DARK = 0.35


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


@dataclass(frozen=True)
class MarkBox:
    unreadable: bool  # the box and its surroundings dark: no paper to tell ink from
    reading: MarkReading


def surround_dark(surround: np.ndarray, box: PxBox, bright_paper: float) -> bool:
    """Whether the pixels of `surround` outside `box` are dark enough to be no paper (a page
    half blacked out, a smear), rather than the paper round an applicant's fill."""
    x, y, w, h = box
    outside = np.ones(surround.shape, bool)
    outside[max(0, y) : y + h, max(0, x) : x + w] = False
    ring = surround[outside]
    if ring.size == 0:
        return True
    limit = inkmod.dark_limit(bright_paper)
    return float(np.count_nonzero(ring < limit)) / ring.size > SURROUND_DARK


def read_mark_box(surround: np.ndarray, box: PxBox, bright_paper: float, min_area: int) -> MarkBox:
    """Read one mark box (`box`, relative to `surround`, a dropped-out grey crop of the box and a
    ring of paper round it).

    Ink is what is darker than the ring's paper (or the box's own median where that is brighter),
    so a box filled solid or covered by a blob reads as marked. A dark box is unreadable (never "empty, sure") only when
    its surroundings are dark too: then the page there is blacked out, not written on."""
    x, y, w, h = box
    crop = surround[max(0, y) : y + h, max(0, x) : x + w]
    if inkmod.too_dark(crop, bright_paper) and surround_dark(surround, box, bright_paper):
        return MarkBox(True, MarkReading((0.0,), (False,), 0.0))
    # Ink only darkens, so the paper is the brighter of the two levels: the ring's for a box
    # filled solid, the box's own where the ring is dark (a fax's black corner round a box
    # whose print was dropped out to paper).
    paper = max(inkmod.ring_paper_level(surround, box), inkmod.paper_level(crop))
    m = inkmod.binarize(crop, paper)
    m = inkmod.remove_rules(m, max(8, int(min(crop.shape) * 0.9)))
    m = inkmod.clean(m, min_area)
    return MarkBox(False, read_marks([m]))
