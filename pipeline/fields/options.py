"""How one printed option was marked: a tick or fill in its square, a ring round it, a tick on its
label, or a mark struck out again.

Writers do not only tick squares. They circle the printed label (父, 就労), fill the square solid,
tick the label itself, and correct themselves by striking a mark through with one or two lines or
an ×. Each test here works on a boolean ink mask (the printed form already dropped out) of a
region around the option — its *extent*, the smallest box holding its square and its label, grown
by `RING_MM` on every side — and hands on an `OptionLook` that read.py turns into a choice.

- A **ring** is told by the share of angular sectors round the extent that hold ink, not by the
  ink ratio: a hand-drawn circle is thin, but it goes (almost) all the way round.
- A **strike** is writing through the middle of the extent from one end to the other: in the
  central rows, ink in most of the extent's columns; or, where the label is known, a stroke
  whose ends stick out level with the option on both sides. A tick, a cross or a fill stays in
  the square and a ring passes all round, so none of them looks like that.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.fields.geometry import PxBox

RING_MM = 2.5  # how far outside the extent a ring is looked for
RING_GAP_MM = 0.2  # the ring is what lies beyond this margin round the extent
SECTORS = 8
RING_ON = 6  # sectors of 8 with ink: a closed or nearly closed ring
RING_OFF = 4  # at most this many: no ring; in between the reading is unsure
STRIKE_COVER = 0.75  # share of the extent's columns a strike crosses in its central rows
LABEL_TICK = 0.06  # ink share inside a label box that counts as a tick on the label


@dataclass(frozen=True)
class OptionLook:
    """What is on one option. `square` is the ink share in its square (None without a square)."""

    square: float | None
    ring: int
    label: float | None
    struck: bool


LABEL_SQUARE_MAX_MM = 8.0  # a square this small has its label printed beside it, not inside


def label_beside(blank: np.ndarray, box: PxBox, dpi: int) -> PxBox | None:
    """The printed text right of a small square on the blank (up to a 2 mm gap, at most 20 mm
    wide), for a template that names the square only: writers circle that text as often as they
    tick the square. None when nothing is printed right beside it."""
    ppm = dpi / 25.4
    x, y, w, h = box
    if max(w, h) > LABEL_SQUARE_MAX_MM * ppm:
        return None
    x0, y0, y1 = x + w + int(0.4 * ppm), max(0, y - int(0.5 * ppm)), y + h + int(0.5 * ppm)
    strip = blank[y0:y1, x0 : min(blank.shape[1], x0 + int(25 * ppm))] < 160
    cols = strip.any(axis=0)
    if not cols.any():
        return None
    start = int(np.argmax(cols))
    if start > 3 * ppm:
        return None
    end, gap = start, 0
    for i in range(start, len(cols)):
        if cols[i]:
            end, gap = i, 0
        else:
            gap += 1
            if gap > 2 * ppm:
                break
    if end - start > 20 * ppm:  # a sentence, not a label one would circle
        return None
    rows = np.nonzero(strip[:, start : end + 1].any(axis=1))[0]
    return x0 + start, y0 + int(rows[0]), end - start + 1, int(rows[-1] - rows[0] + 1)


def inked_sectors(
    mask: np.ndarray, extent: PxBox, gap: int, min_px: int, sectors: int = SECTORS
) -> np.ndarray:
    """Which angular sectors round `extent` (in mask coordinates) hold at least `min_px` ink pixels
    outside the extent grown by `gap`. Angles are taken on the extent's own ellipse, so a wide
    label's ring is split evenly all round. Sector 0 starts pointing left and they run clockwise
    on screen (y down): 0, 7 face left, 3, 4 right."""
    x, y, bw, bh = extent
    cx, cy = x + bw / 2, y + bh / 2
    ys, xs = np.nonzero(mask)
    outside = (xs < x - gap) | (xs >= x + bw + gap) | (ys < y - gap) | (ys >= y + bh + gap)
    xs, ys = xs[outside], ys[outside]
    if len(xs) == 0:
        return np.zeros(sectors, bool)
    ang = np.arctan2((ys - cy) / max(bh / 2, 1), (xs - cx) / max(bw / 2, 1))
    idx = ((ang + np.pi) / (2 * np.pi) * sectors).astype(int) % sectors
    return np.bincount(idx, minlength=sectors) >= min_px


def ring_sectors(mask: np.ndarray, extent: PxBox, gap: int, min_px: int, sectors: int = SECTORS) -> int:
    """How many angular sectors round `extent` hold ink (see `inked_sectors`)."""
    return int(inked_sectors(mask, extent, gap, min_px, sectors).sum())


FACING_LEFT = (0, 1, 6, 7)  # sectors whose direction points left of the centre


def ring_round_label(mask: np.ndarray, label: PxBox, square: PxBox | None, gap: int, min_px: int) -> int:
    """Sectors of a ring round the label alone. Where the square is printed just left of the label,
    a ring squeezed between them runs along the square's printed edge, where ink cannot be seen:
    sectors facing the square then count as inked when all the others are."""
    inked = inked_sectors(mask, label, gap, min_px)
    n = int(inked.sum())
    if square is not None and square[0] + square[2] <= label[0] + 1 and n >= RING_OFF + 1:
        missing = [i for i in range(SECTORS) if not inked[i]]
        if all(i in FACING_LEFT for i in missing):
            return SECTORS
    return n


def struck_through(mask: np.ndarray, extent: PxBox, bridge: int, visible: np.ndarray | None = None) -> bool:
    """Writing that crosses the extent end to end in its central rows: a strike (one or two lines,
    an ×, a scribble). Gaps are bridged (`bridge` px), and only columns where the blank shows paper
    in those rows (`visible`) are counted: inside a printed word a stroke cannot be told from it."""
    x, y, bw, bh = extent
    rows = slice(y + bh // 4, y + bh - bh // 4)
    band = mask[rows, max(0, x) : x + bw]
    if band.size == 0 or bw < 4:
        return False
    cols = band.any(axis=0).astype(np.uint8)[None, :]
    if bridge > 1:
        cols = cv2.morphologyEx(cols, cv2.MORPH_CLOSE, np.ones((1, bridge), np.uint8))
    seen = np.ones(cols.shape[1], bool)
    if visible is not None:
        seen = visible[rows, max(0, x) : x + bw].any(axis=0)[: cols.shape[1]]
        if seen.mean() < 0.4:  # too little paper to say
            return False
    return float(cols[0, : len(seen)][seen].mean()) >= STRIKE_COVER


def protrudes_both_sides(mask: np.ndarray, extent: PxBox, near: int, far: int) -> bool:
    """Ink beside the extent on the left and on the right (corners included): the ends of a line or an
    × drawn through the whole option (inside, the printed label often hides it)."""
    x, y, bw, bh = extent
    rows = mask[max(0, y - far) : y + bh + far]  # an × leaves by the corners
    left = rows[:, max(0, x - far) : max(0, x - near)]
    right = rows[:, x + bw + near : x + bw + far]
    return bool(left.size and right.size and left.any() and right.any())


def level_strokes(mask: np.ndarray, label: PxBox, square: PxBox | None, min_len: int) -> bool:
    """A near-horizontal stroke at least `min_len` long through the middle rows of the label,
    outside the square: a strike line, seen even inside a ring round the option (whose sides are
    steep there, and whose top and bottom pass above and below the label).

    The stroke must reach the label's columns (within `min_len // 3`): a strike goes through the
    word, whereas a tilted ring round a wide printed word (厚生年金) may run level beside it. The
    region's edge is not ink: a ring's side cut by the edge is no long stroke."""
    lx, y, lw, bh = label
    y0, y1 = y + bh // 4, y + bh - bh // 4
    band = mask[max(0, y0) : y1].astype(np.uint8).copy()
    if square is not None:  # a fill or a tick stays in its square
        sx, _, sw, _ = square
        band[:, max(0, sx) : sx + sw] = 0
    if band.size == 0:
        return False
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (min_len, 1))
    runs = cv2.morphologyEx(band, cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    n, _, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
    near = min_len // 3
    return any(
        stats[i, cv2.CC_STAT_LEFT] <= lx + lw + near
        and stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH] >= lx - near
        for i in range(1, n)
    )


def look(
    region_mask: np.ndarray,
    extent: PxBox,
    square: PxBox | None,
    label: PxBox | None,
    square_mask: np.ndarray | None,
    dpi: int,
    visible: np.ndarray | None = None,
) -> OptionLook:
    """Everything on one option. `region_mask` covers the extent grown by RING_MM; `extent`,
    `square` and `label` are boxes in its coordinates. `square_mask` is the square's own ink mask,
    thresholded against the surrounding paper so a solid fill counts (a crop that is all ink has
    ink as its median). `visible` marks where the blank is paper (ink can be seen there)."""
    px_mm = dpi / 25.4
    sq = float(square_mask.mean()) if square_mask is not None and square_mask.size else None
    lab = None
    if label is not None:
        lx, ly, lw, lh = label
        sub = region_mask[max(0, ly) : ly + lh, max(0, lx) : lx + lw]
        lab = float(sub.mean()) if sub.size else 0.0
    gap, min_px = max(1, round(RING_GAP_MM * px_mm)), max(4, round(px_mm * 2))
    # Round the whole option, or round the label alone (a circle round 母 cuts through the square
    # beside it), or round the square alone.
    ring = max(ring_sectors(region_mask, b, gap, min_px) for b in (extent, square) if b is not None)
    if label is not None:
        ring = max(ring, ring_round_label(region_mask, label, square, gap, min_px))
    # Without a label the extent is the square alone, and a big tick crosses a small square from
    # side to side: only a box that holds its own label (the nursery form's 13 mm circles) or an
    # option with a known label is tested for a line through it.
    big = square is not None and max(square[2], square[3]) > LABEL_SQUARE_MAX_MM * px_mm
    struck = (label is not None or big) and struck_through(region_mask, extent, max(2, round(px_mm)), visible)
    if label is not None:
        # Only where the label is known: without it the extent is the square alone, and a big
        # tick that overshoots both sides of a square would read as struck.
        if ring < RING_ON:
            struck = struck or protrudes_both_sides(
                region_mask, extent, max(1, round(0.5 * px_mm)), max(2, round(2.2 * px_mm))
            )
        struck = struck or level_strokes(region_mask, label, square, max(4, round(1.5 * px_mm)))
    return OptionLook(sq, ring, lab, struck)


def is_marked(o: OptionLook, square_on: float) -> bool:
    """A tick or fill in the square, a ring round the option, or a tick on its label."""
    return (
        (o.square is not None and o.square >= square_on)
        or o.ring >= RING_ON
        or (o.label is not None and o.label >= LABEL_TICK)
    )


def ring_unsure(o: OptionLook) -> bool:
    """Part of a ring: more than a stray stroke, less than a circle."""
    return RING_OFF < o.ring < RING_ON
