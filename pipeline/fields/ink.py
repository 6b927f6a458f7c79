"""Ink inside one field after dropout: local registration, cleaning, bounding box, corrections.

All functions are pure and work on small grey crops of the aligned page.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.fields.geometry import PxBox, grow

INK_THRESHOLD = 150


def local_shift(aligned: np.ndarray, blank: np.ndarray, box: PxBox, search: int) -> tuple[int, int]:
    """Best (dx, dy) within ±search that lines the page's print up with the blank around `box`.

    The global homography is good to a pixel or two; field-local registration removes the rest
    (and small paper warps), so dropout can use a thin mask and keep more handwriting.
    """
    h, w = aligned.shape[:2]
    inner = grow(box, search * 2, (w, h))
    outer = grow(inner, search, (w, h))
    x, y, bw, bh = inner
    ox, oy, ow, oh = outer
    tmpl = 255.0 - blank[y : y + bh, x : x + bw].astype(np.float32)
    if tmpl.std() < 5:  # no print around this box to register against
        return 0, 0
    region = 255.0 - aligned[oy : oy + oh, ox : ox + ow].astype(np.float32)
    if region.shape[0] < tmpl.shape[0] or region.shape[1] < tmpl.shape[1]:
        return 0, 0
    res = cv2.matchTemplate(region, tmpl, cv2.TM_CCORR_NORMED)
    _, _, _, (mx, my) = cv2.minMaxLoc(res)
    return (ox + mx) - x, (oy + my) - y


def binarize(gray: np.ndarray) -> np.ndarray:
    """Ink pixels as a boolean mask; fixed threshold, because a mostly empty box breaks Otsu."""
    return gray < INK_THRESHOLD


def clean(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Drop specks smaller than `min_area` pixels (scanner noise, dust)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return mask
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area
    return keep[labels]


def remove_rules(mask: np.ndarray, min_len: int) -> np.ndarray:
    """Remove straight horizontal/vertical lines longer than `min_len` (left-over form rules)."""
    m = mask.astype(np.uint8)
    out = m.copy()
    for k in ((min_len, 1), (1, min_len)):
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, k)
        lines = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)
        out[lines > 0] = 0
    return out.astype(bool)


def bbox(mask: np.ndarray) -> PxBox | None:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


@dataclass(frozen=True)
class Strike:
    """Two (or more) parallel strokes through earlier writing: a 訂正 (correction)."""

    x0: int
    x1: int


def find_strike(mask: np.ndarray, text_height: int) -> Strike | None:
    """Long near-horizontal strokes in the middle of the writing, at least two of them.

    Handwritten characters rarely have a stroke longer than about 1.5 character heights, so
    two such strokes stacked closely are taken as the double line of a correction.
    """
    min_len = max(12, int(text_height * 1.6))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (min_len, 1))
    lines = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    n, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    segs = [tuple(stats[i, :4]) for i in range(1, n) if stats[i, cv2.CC_STAT_WIDTH] >= min_len]
    if len(segs) < 2:
        return None
    segs.sort(key=lambda s: s[1])
    for a, b in zip(segs, segs[1:], strict=False):
        gap = abs(b[1] - a[1])
        overlap = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
        if 2 <= gap <= text_height and overlap > 0.6 * min(a[2], b[2]):
            return Strike(int(min(a[0], b[0])), int(max(a[0] + a[2], b[0] + b[2])))
    return None


def split_lines(mask: np.ndarray, max_lines: int) -> list[tuple[int, int]]:
    """Row bands of writing (y0, y1) separated by blank rows; one band when max_lines == 1."""
    rows = mask.any(axis=1)
    bands: list[list[int]] = []
    for y, on in enumerate(rows):
        if on and (not bands or bands[-1][1] != y - 1):
            bands.append([y, y])
        elif on:
            bands[-1][1] = y
    if not bands:
        return []
    # Merge tiny bands (dakuten, dots) into their neighbours until at most max_lines are left.
    bands = [b for b in bands]
    while len(bands) > 1:
        heights = [b[1] - b[0] + 1 for b in bands]
        tallest = max(heights)
        small = min(range(len(bands)), key=lambda i: heights[i])
        if len(bands) <= max_lines and heights[small] >= 0.45 * tallest:
            break
        j = (
            small - 1
            if small > 0
            and (
                small == len(bands) - 1
                or bands[small][0] - bands[small - 1][1] <= bands[small + 1][0] - bands[small][1]
            )
            else small + 1
        )
        lo, hi = min(small, j), max(small, j)
        bands[lo] = [bands[lo][0], bands[hi][1]]
        del bands[hi]
    return [(b[0], b[1] + 1) for b in bands]
