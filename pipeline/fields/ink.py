"""Ink inside one field after dropout: local registration, cleaning, bounding box, corrections.

All functions are pure and work on small grey crops of the aligned page.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.fields.geometry import PxBox, grow

INK_THRESHOLD_MAX = 200
INK_CONTRAST = 45


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


def paper_level(gray: np.ndarray) -> float:
    """A crop's paper grey: its median, since most of a box is empty."""
    return float(np.median(gray)) if gray.size else 255.0


def ring_paper_level(gray: np.ndarray, inner: PxBox) -> float:
    """The paper grey around `inner` (a box inside `gray`): the median of the pixels outside it.

    A small mark box filled solid, or under a blob, has ink as its own median; the paper level
    must come from around it (the print there is dropped out to paper grey already)."""
    x, y, w, h = inner
    outside = np.ones(gray.shape, bool)
    outside[max(0, y) : y + h, max(0, x) : x + w] = False
    ring = gray[outside]
    return float(np.median(ring)) if ring.size else paper_level(gray)


UNREADABLE_LEVEL = 128  # a crop's paper darker than this is not paper
UNREADABLE_DARK = 0.5  # nor is a crop more than half dark


def dark_limit(bright_paper: float) -> float:
    """Grey under which a pixel is no paper, on a page whose bright paper is `bright_paper`."""
    return min(UNREADABLE_LEVEL, bright_paper - 60)


def too_dark(gray: np.ndarray, bright_paper: float) -> bool:
    """A crop mostly dark: its own paper level far under the page's, or more than half its pixels
    dark. Handwriting covers far less of a box; a blacked-out or smeared region does not."""
    if gray.size == 0:
        return False
    limit = dark_limit(bright_paper)
    dark = float(np.count_nonzero(gray < limit)) / gray.size
    return paper_level(gray) < limit or dark > UNREADABLE_DARK


def binarize(gray: np.ndarray, paper: float | None = None) -> np.ndarray:
    """Ink pixels as a boolean mask.

    The threshold follows the paper (`paper_level`, computed here unless the caller has it): a
    fixed fraction below the crop's background, so faint pencil-like strokes on a clean scan count
    as ink, while a grey, noisy scan does not turn into specks. Otsu is avoided: an empty box
    breaks it.
    """
    bg = paper_level(gray) if paper is None else paper
    return gray < min(INK_THRESHOLD_MAX, bg - INK_CONTRAST)


WEAK_CONTRAST = 20  # a faint stroke pixel: this far under the paper, and joined to sure ink
WEAK_THRESHOLD_MAX = 230
WEAK_SHARE = 0.25  # ... or this share of the way from the paper to the crop's darkest ink


def with_faint_strokes(mask: np.ndarray, gray: np.ndarray, paper: float) -> np.ndarray:
    """`mask` plus the faint parts of the same strokes: pixels only `WEAK_CONTRAST` under the
    paper that are connected to sure ink (hysteresis). A thin or light stroke on a faint 200 dpi
    or fax scan is sure ink only where the pen pressed hardest; the rest of it (the bar of a 7
    beside its dot, a broken 1) would be painted white before the recogniser sees it. Faint
    specks not joined to any sure ink stay out."""
    if not mask.any():
        return mask
    # Faint relative to the crop's own ink: on a crisp scan (black core) the band is narrow, as
    # the pixels just under the paper there are noise and JPEG ringing, not strokes.
    core = float(np.percentile(gray[mask], 5))
    weak = gray < min(WEAK_THRESHOLD_MAX, paper - max(WEAK_CONTRAST, WEAK_SHARE * (paper - core)))
    if not weak.any():
        return mask
    n, labels = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)
    hit = np.zeros(n, bool)
    hit[np.unique(labels[mask & weak])] = True
    hit[0] = False
    return mask | hit[labels]


def whiten(gray: np.ndarray, paper: float) -> np.ndarray:
    """`gray` with `paper` (its crop's `paper_level`) scaled to white and its ink scaled with it.
    A grey or dim scan otherwise reaches the recogniser as low-contrast strokes in a grey halo,
    since everything around the ink is painted white."""
    if paper >= 250:
        return gray
    return np.clip(gray.astype(np.float32) * (255.0 / max(paper, 1.0)), 0, 255).astype(np.uint8)


def clean(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Drop specks smaller than `min_area` pixels (scanner noise, dust)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return mask
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area
    return keep[labels]


def drop_lines(mask: np.ndarray, min_len: int) -> np.ndarray:
    """`mask` without its straight horizontal or vertical runs of `min_len` or more (and their
    edge pixels), wherever they lie."""
    m = mask.astype(np.uint8)
    lines = np.zeros_like(m)
    for k in ((min_len, 1), (1, min_len)):
        lines |= cv2.morphologyEx(m, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, k))
    return mask & ~(cv2.dilate(lines, np.ones((3, 3), np.uint8)) > 0)


def mostly_inside(mask: np.ndarray, inner: np.ndarray, share: float, bridge: int = 0) -> np.ndarray:
    """The strokes (connected ink) of `mask` with at least `share` of their pixels in `inner`.
    Ink up to `bridge` pixels apart counts as one stroke: a stroke crossing a printed line is cut
    there by dropout."""
    mask = mask.astype(bool)
    joined = mask.astype(np.uint8)
    if bridge > 0:
        joined = cv2.dilate(joined, np.ones((bridge + 1, bridge + 1), np.uint8))
    n, labels = cv2.connectedComponents(joined, connectivity=8)
    labels = np.where(mask, labels, 0)
    if n <= 1:
        return mask
    total = np.bincount(labels.ravel(), minlength=n)
    inside = np.bincount(labels[inner], minlength=n)
    keep = inside >= share * np.maximum(total, 1)
    keep[0] = False
    return keep[labels]


# Ink spanning at least this share of its box's height is writing, however little of it there is
# (a thin 1 at 150 dpi, broken by the scan, is fewer pixels than a reading's minimum).
WRITTEN_HEIGHT = 0.3


def written_stroke(mask: np.ndarray, box_height: int) -> bool:
    """Whether the ink of `mask` spans the height of a written character (`WRITTEN_HEIGHT` of
    its box), however little of it there is."""
    b = bbox(mask)
    return b is not None and b[3] >= WRITTEN_HEIGHT * box_height


def remove_rules(mask: np.ndarray, min_len: int, band: float = 0.2) -> np.ndarray:
    """Remove straight lines longer than `min_len` that lie near the crop's edges.

    After dropout, printed rules survive only where registration was off, which is at the box
    edges; a long stroke in the middle is the applicant's (a correction line, a dash) and stays.
    """
    m = mask.astype(np.uint8)
    out = m.copy()
    h, w = m.shape
    for k, horizontal in (((min_len, 1), True), ((1, min_len), False)):
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, k)
        lines = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        for i in range(1, n):
            x, y, bw, bh, _ = stats[i]
            c, size = (y + bh / 2, h) if horizontal else (x + bw / 2, w)
            if c < band * size or c > (1 - band) * size:
                out[labels == i] = 0
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
    y: int  # centre row of the strike lines


def find_strike(mask: np.ndarray, text_height: int) -> Strike | None:
    """Long near-horizontal strokes through the writing: the line(s) of a 訂正 (correction).

    Handwritten characters rarely have a stroke longer than about 2.5 character heights, and
    form rules near the box edges are already gone, so such a stroke in the writing band is a
    strike-through, whether drawn as one line or the customary two.
    """
    min_len = max(12, int(text_height * 2.5))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (min_len, 1))
    lines = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    n, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    segs = [stats[i, :4] for i in range(1, n) if stats[i, cv2.CC_STAT_WIDTH] >= min_len]
    if not segs:
        return None
    y = int(np.mean([s[1] + s[3] / 2 for s in segs]))
    return Strike(int(min(s[0] for s in segs)), int(max(s[0] + s[2] for s in segs)), y)


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
