"""How one printed option was marked: a tick or fill in its square, a ring round it, a tick on its
label, or a mark struck out again.

Writers do not only tick squares. They circle the printed label (父, 就労), fill the square solid,
tick the label itself, and correct themselves by striking a mark through with one or two lines or
an ×. Each test here works on a boolean ink mask (the printed form already dropped out) of a
region around the option — its *extent*, the smallest box holding its square and its label, grown
by `RING_MM` on every side — and hands on an `OptionLook` that read.py turns into a choice.

- A **ring** is told by the share of angular sectors round the extent that hold ink, not by the
  ink ratio: a hand-drawn circle is thin, but it goes (almost) all the way round.
- A **strike** is a straight line drawn across the label (`strike_lines`): inside the printed
  word no stroke can be seen, so the line is followed at the word's two sides, from its square
  up to the word and on past the word's end. Two level lines or a scribble give one such line,
  an × two (one rising, one falling). A tick, an × or a fill that is the writer's mark stops at
  the square, and a ring crosses the line instead of running along it, so none of them looks
  like that. A label without a square (an era) or an option with no label (a big box holding
  its printed word) is struck when ink crosses most of the extent's columns in its central rows
  (`struck_through`); a label alone also when a stroke's ends stick out level with it on both
  sides (`protrudes_both_sides`) or a level stroke runs through it (`level_strokes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.fields.geometry import PxBox, grow
from pipeline.fields.marks import MARK_OFF, MARK_ON

RING_MM = 2.5  # how far outside the extent a ring is looked for
RING_GAP_MM = 0.2  # the ring is what lies beyond this margin round the extent
SECTORS = 8
RING_PAST_MM = 0.3  # past a big box's sides, ink on both is a strike's (a ring stays inside)
RING_ON = 6  # sectors of 8 with ink: a closed or nearly closed ring
RING_OFF = 4  # at most this many: no ring; in between the reading is unsure
RING_OFF_RULE_MM = 0.35  # ink this near a printed rule is the rule's edge left over, not a ring
STRIKE_COVER = 0.75  # share of the extent's columns a strike crosses in its central rows
LABEL_TICK = 0.06  # ink share inside a label box that counts as a tick on the label
# A square this inked holds a mark (a tick or an ×: MARK_ON and MARK_OFF halfway, as read.py
# counts a square marked), whose strokes reach up to SQUARE_MARK_REACH_MM past the square's sides.
SQUARE_MARK = (MARK_ON + MARK_OFF) / 2
SQUARE_MARK_REACH_MM = 1.0


@dataclass(frozen=True)
class OptionLook:
    """What is on one option. `square` is the ink share in its square (None without a square)."""

    square: float | None
    ring: int
    label: float | None
    struck: bool


LABEL_SQUARE_MAX_MM = 8.0  # a square this small has its label printed beside it, not inside


def _mark_across(mask: np.ndarray, square: PxBox) -> bool:
    """Ink in both the left and the right half of the square: a tick's two arms or an ×'s
    strokes; a ring's arc that only cuts through the square's side lies in one half."""
    x, y, w, h = square
    inside = mask[max(0, y) : y + h, max(0, x) : x + w]
    half = inside.shape[1] // 2
    return bool(inside[:, :half].any() and inside[:, half:].any())


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


def square_beside(blank: np.ndarray, label: PxBox, dpi: int) -> PxBox | None:
    """The printed square just left of a label on the blank (up to a 3 mm gap; 2–8 mm a side,
    about as tall as wide, hollow), for a template that names the label only: writers tick the
    square as often as they circle the word. None where no such square stands there (a word
    printed to be circled)."""
    ppm = dpi / 25.4
    x, y, w, h = label
    x0 = max(0, x - int(11 * ppm))
    y0, y1 = max(0, y - int(3 * ppm)), min(blank.shape[0], y + h + int(3 * ppm))
    strip = (blank[y0:y1, x0:x] < 160).astype(np.uint8)
    if strip.size == 0:
        return None
    n, _, stats, _ = cv2.connectedComponentsWithStats(strip, connectivity=8)
    best: PxBox | None = None
    for sx, sy, sw, sh, _ in stats[1:n]:
        if not (2 * ppm <= sw <= 8 * ppm and 2 * ppm <= sh <= 8 * ppm and 0.7 <= sw / sh <= 1.4):
            continue
        if x0 + sx + sw < x - 3 * ppm:  # too far from the word to be its square
            continue
        cy = sy + sh / 2 + y0
        if not (y - 0.5 * ppm <= cy <= y + h + 0.5 * ppm):  # not on the word's row
            continue
        inner = strip[sy + sh // 4 : sy + sh - sh // 4, sx + sw // 4 : sx + sw - sw // 4]
        if inner.size and inner.mean() > 0.1:  # filled or a glyph: not an empty square
            continue
        found = (int(x0 + sx), int(y0 + sy), int(sw), int(sh))
        if best is None or found[0] > best[0]:  # the nearest to the word
            best = found
    return best


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


def off_the_rules(mask: np.ndarray, visible: np.ndarray | None, extent: PxBox, near: int) -> np.ndarray:
    """`mask` without the ink lying within `near` pixels of the form's printed rules (straight
    lines of the blank longer than the option): where the page lies a pixel or two off the blank
    (a fax at 200 dpi), a rule's edges are left over as ink above and below a tick box's row.
    Counted in, they fill a ring's upper and lower sectors, and an option no one marked reads as
    ringed. A ring drawn by hand crosses a rule in a few pixels and keeps the rest of its sector;
    ink beside the printed words is kept (a tight ring hugs its label)."""
    if visible is None:
        return mask
    _, _, bw, bh = extent
    printed = (~visible.astype(bool)).astype(np.uint8)
    rules = cv2.morphologyEx(printed, cv2.MORPH_OPEN, np.ones((1, bw + 1), np.uint8)) | cv2.morphologyEx(
        printed, cv2.MORPH_OPEN, np.ones((2 * bh + 1, 1), np.uint8)
    )
    near_rules = cv2.dilate(rules, np.ones((2 * near + 1, 2 * near + 1), np.uint8)).astype(bool)
    return mask.astype(bool) & ~near_rules


FACING_LEFT = (0, 1, 6, 7)  # sectors whose direction points left of the centre
ABOVE, BELOW = (1, 2), (5, 6)  # sectors over and under the centre


def goes_round(sectors: list[np.ndarray]) -> bool:
    """Whether one of the inked-sector arrays (`inked_sectors`, `label_ring_sectors`) holds a ring:
    RING_ON sectors or more, some of them over the option and some under it. A level strike
    through a ticked option fills the sectors on both sides, and the tick's arm those over it, but
    nothing reaches under the square."""
    return any(s.sum() >= RING_ON and s[list(ABOVE)].any() and s[list(BELOW)].any() for s in sectors)


def label_ring_sectors(
    mask: np.ndarray, label: PxBox, square: PxBox | None, gap: int, min_px: int
) -> np.ndarray:
    """Which sectors round the label alone hold a ring's ink. Where the square is printed just left
    of the label, a ring squeezed between them runs along the square's printed edge, where ink
    cannot be seen: sectors facing the square then count as inked when all the others are."""
    inked = inked_sectors(mask, label, gap, min_px)
    if square is not None and square[0] + square[2] <= label[0] + 1 and inked.sum() >= RING_OFF + 1:
        missing = [i for i in range(SECTORS) if not inked[i]]
        if all(i in FACING_LEFT for i in missing):
            return np.ones(SECTORS, bool)
    return inked


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


def printed_within(visible: np.ndarray, box: PxBox | None) -> PxBox | None:
    """The bounding box of the print inside `box` (where the blank is not paper): the word a box
    big enough to hold its own label holds. None when nothing is printed there."""
    if box is None:
        return None
    x, y, w, h = box
    ys, xs = np.nonzero(~visible[max(0, y) : y + h, max(0, x) : x + w])
    if len(xs) == 0:
        return None
    return max(0, x) + int(xs.min()), max(0, y) + int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1


def protrudes_both_sides(mask: np.ndarray, extent: PxBox, near: int, far: int) -> bool:
    """Ink beside the extent on the left and on the right (corners included): the ends of a line or an
    × drawn through the whole option (inside, the printed label often hides it)."""
    x, y, bw, bh = extent
    rows = mask[max(0, y - far) : y + bh + far]  # an × leaves by the corners
    left = rows[:, max(0, x - far) : max(0, x - near)]
    right = rows[:, x + bw + near : x + bw + far]
    return bool(left.size and right.size and left.any() and right.any())


# An × over a ringed word reaches off all four of its corners, and each arm runs straight from
# one corner to the opposite one over the ring and the word: ink covers the paper seen along it.
# A ring passes the corners too, but round them, with paper between it and the word on the
# diagonal; a ring's tips and a neighbour's writing reach a corner or two. An × drawn tight over
# the ring ends well under a millimetre past the word's corners (at 1.2 mm such a one was missed;
# at 0.6 no field of dev set A or our five forms' benches changed).
CROSS_NEAR_MM = 0.6
CROSS_COVER = 0.8


def _ink_between(ink: np.ndarray, seen: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the straight line from point `a` to point `b` (y, x) is inked over at least
    CROSS_COVER of the paper seen along it."""
    n = int(np.hypot(*(b - a))) + 1
    ys = np.rint(np.linspace(a[0], b[0], n)).astype(int)
    xs = np.rint(np.linspace(a[1], b[1], n)).astype(int)
    vis = seen[ys, xs]
    return int((ink[ys, xs] & vis).sum()) >= CROSS_COVER * max(1, int(vis.sum()))


def crossed_out(
    mask: np.ndarray, label: PxBox, near: int, far: int, visible: np.ndarray | None = None
) -> bool:
    """An × drawn over the label and its ring: ink off all four corners of the label (beyond
    `near`, within `far` on both axes), joined across the label by two straight arms (from the
    centre of one corner's ink to the opposite one's)."""
    lx, ly, lw, lh = label
    hgt, wid = mask.shape
    xs = ((max(0, lx - far), max(0, lx - near)), (min(wid, lx + lw + near), min(wid, lx + lw + far)))
    ys = ((max(0, ly - far), max(0, ly - near)), (min(hgt, ly + lh + near), min(hgt, ly + lh + far)))
    centres = []
    for y0, y1 in ys:
        for x0, x1 in xs:
            at = np.argwhere(mask[y0:y1, x0:x1])
            if not len(at):
                return False
            centres.append(at.mean(axis=0) + (y0, x0))
    tl, tr, bl, br = centres
    ink = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    seen = np.ones(mask.shape, bool) if visible is None else visible
    return _ink_between(ink, seen, tl, br) and _ink_between(ink, seen, bl, tr)


def level_strokes(
    mask: np.ndarray, label: PxBox, square: PxBox | None, min_len: int, ringed: bool = False
) -> bool:
    """A near-horizontal stroke at least `min_len` long through the middle rows of the label,
    outside the square: a strike line, seen even inside a ring round the option (whose sides are
    steep there, and whose top and bottom pass above and below the label).

    The stroke must reach the label's columns (within `min_len // 3`): a strike goes through the
    word, whereas a tilted ring round a wide printed word (厚生年金) may run level beside it. Round
    a `ringed` label, the ring's pointed end runs level too, just past the word's end (a tilted
    ellipse): there the stroke must run into the word's columns by half its length, or strokes
    must stand level on both sides of the word (a strike's ends, the print hiding its middle).
    The region's edge is not ink: a ring's side cut by the edge is no long stroke."""
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
    spans = [
        (x, x + w, yy + h / 2)
        for x, yy, w, h in (stats[i, :4].tolist() for i in range(1, n))
        if x <= lx + lw + near and x + w >= lx - near
    ]
    if not ringed:
        return bool(spans)
    if any(min(b, lx + lw) - max(a, lx) >= min_len // 2 for a, b, _ in spans):
        return True
    # A strike's two ends lie on one line; a tilted ring's two tips, one high and one low.
    lefts = [c for a, b, c in spans if a < lx]
    rights = [c for a, b, c in spans if b > lx + lw]
    return any(abs(cl - cr) <= bh / 4 for cl in lefts for cr in rights)


STRIKE_TOL_MM = 0.25  # how far above or below a candidate line its ink may lie (a hand's wobble)
STRIKE_BAND_MM = 0.8  # where it meets the label's ends, a strike lies this near its rows
STRIKE_PAST_MM = 1.5  # past the label's end, a strike's end is looked for here
STRIKE_RUN_BEFORE_MM = 0.6  # the ink run along the line before the label
STRIKE_RUN_PAST_MM = 0.4  # ... and past it (often cut short by the end of the stroke)
# Past a ringed label the ring's side crosses the line: a run as wide as the pen, or a little
# more where it crosses aslant. A strike through a ring runs on past the label's end.
STRIKE_RUN_PAST_RING_MM = 1.0
STRIKE_OVER = 0.85  # share of the paper seen along the line over the label that holds ink
# ... for each arm of an × (two lines, one rising and one falling, are evidence enough together):
# a long arm drawn fast bows and breaks over a label more than a short level line does.
STRIKE_OVER_CROSS = 0.75
STRIKE_LEVEL_DEG = 22  # a line this near level is a strike alone (one or two lines, a scribble)
STRIKE_STEEP_DEG = 10  # steeper lines strike only as an ×: one rising and one falling
STRIKE_MAX_DEG = 64  # a ring's sides and a tick's arm are steeper than an × over an option


def run_from_label(hit: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Ink along the last axis from its first sample on, until the first paper without ink: the
    run of a stroke that leaves the label there. Where the print hides the paper (`seen` False) a
    sample neither counts nor ends the run."""
    alive = np.ones(hit.shape[:-1], bool)
    run = np.zeros(hit.shape[:-1], np.int32)
    for i in range(hit.shape[-1]):
        h, s = hit[..., i], seen[..., i]
        run += alive & h
        alive &= h | ~s
    return run


def strike_lines(
    mask: np.ndarray,
    label: PxBox,
    square: PxBox,
    visible: np.ndarray | None,
    px_mm: float,
    ringed: bool = False,
) -> bool:
    """A straight line drawn across the label, printed right of its tick box `square`: a strike
    (`ringed`: the option is circled).

    Inside a printed label a stroke cannot be told from the print, so a strike is seen at its two
    sides: a run of ink along one straight line before the label (across its square and the gap
    after it) and another just past the label's end; where the
    line passes over paper between them (above or below a short word), ink covers that too.
    Level lines pass through the label's central rows and meet both ends of the label within its
    rows (± `STRIKE_BAND_MM`); steeper ones, at every slope up to `STRIKE_MAX_DEG`, may cross the
    label's box anywhere, a corner included. Before the label the run counts only within the
    square's rows: a ring passes above and below the square, a strike through it. Ink is sought
    only a little above and below the line, so a ring's side, which crosses it, makes a short
    run, while a strike runs along it; a tick or an × in the square stops at the square. One
    line near level is a strike (two lines, a single line, a scribble); steeper lines strike only
    as an ×, one rising and one falling: a tick's long arm is one steep line."""
    lx, ly, lw, lh = label
    hgt, wid = mask.shape
    spans = (
        (max(0, square[0]), max(0, lx)),
        (min(wid, lx + lw), min(wid, lx + lw + round(STRIKE_PAST_MM * px_mm))),
    )
    if any(b - a < 2 for a, b in spans) or lh < 4:
        return False
    past = STRIKE_RUN_PAST_RING_MM if ringed else STRIKE_RUN_PAST_MM
    t = max(1, round(STRIKE_TOL_MM * px_mm))
    ink = cv2.dilate(mask.astype(np.uint8), np.ones((2 * t + 1, 1), np.uint8)) > 0
    rows = (square[1], square[1] + square[3])
    # Every line followed below needs a run of inked columns before the label (within the
    # square's rows) and past it: with fewer inked columns there than either run, none is drawn
    # (most options: nothing written beside them), and the lines need not be followed.
    (b0, b1), (p0, p1) = spans
    before = ink[max(0, rows[0]) : max(0, rows[1]), b0:b1].any(axis=0).sum()
    if before < STRIKE_RUN_BEFORE_MM * px_mm or ink[:, p0:p1].any(axis=0).sum() < past * px_mm:
        return False
    seen = np.ones(mask.shape, bool) if visible is None else visible
    every = np.arange(-STRIKE_MAX_DEG, STRIKE_MAX_DEG + 1, 4)
    step = max(1.0, 0.15 * px_mm)
    band = STRIKE_BAND_MM * px_mm

    def drawn(ycs: np.ndarray, deg: np.ndarray, through: bool, over: float = STRIKE_OVER) -> np.ndarray:
        """Which lines (at height `ycs` over the label's centre, by angle `deg`) are drawn: ink
        runs from the label's start back and from its end on, and covers the paper seen over it.
        `through`: the line also meets both ends of the label within its rows."""
        slopes, yv = np.tan(np.deg2rad(deg))[None, :], ycs[:, None]
        ok = np.ones((ycs.size, deg.size), bool)
        y0, y1 = yv - slopes * lw / 2, yv + slopes * lw / 2  # at the label's two ends
        if through:
            for y_end in (y0, y1):
                ok &= (y_end >= ly - band) & (y_end <= ly + lh + band)
        else:  # it crosses the label's box, if only at a corner
            ok &= (np.minimum(y0, y1) <= ly + lh) & (np.maximum(y0, y1) >= ly)
        zones = (*spans, (lx, lx + lw))
        for (a, b), need, order in zip(zones, (STRIKE_RUN_BEFORE_MM, past, None), (-1, 1, 1), strict=True):
            xs = np.arange(a, b)[::order]  # outward from the label
            ys = np.rint(yv[:, :, None] + slopes[:, :, None] * (xs - lx - lw / 2)[None, None, :]).astype(int)
            yc = np.clip(ys, 0, hgt - 1)
            vis = seen[yc, xs] & (ys >= 0) & (ys < hgt)
            hit = ink[yc, xs] & vis
            if order < 0:  # before the label a strike crosses the square
                hit &= (ys >= rows[0]) & (ys < rows[1])
            if need is None:  # over the label: where paper shows (above or below the word), ink
                ok &= (vis & ~hit).sum(-1) <= (1 - over) * np.maximum(vis.sum(-1), 1)
            else:
                ok &= run_from_label(hit, vis) >= need * px_mm
        return ok

    # Two lines or a scribble through the middle of the word. Each test follows only the angles
    # it judges: every line is followed on its own, so the others would change nothing.
    level = every[np.abs(every) <= STRIKE_LEVEL_DEG]
    if drawn(np.arange(ly + 0.2 * lh, ly + 0.8 * lh + 1, step), level, True).any():
        return True
    # An ×: its strokes cross the option's middle, and past a short word they may pass over its
    # corners, so they are followed wherever they cross the label's columns near it.
    steep = every[np.abs(every) >= STRIKE_STEEP_DEG]
    drawn_steep = drawn(np.arange(ly - lh, ly + 2 * lh + 1, step), steep, False, STRIKE_OVER_CROSS)
    return bool(drawn_steep[:, steep > 0].any() and drawn_steep[:, steep < 0].any())


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
    # An option with a square is marked there as often as ringed: its ring is looked for off the
    # rules. A label alone (an era, a word to circle) has only its ring, which in a tight row
    # runs along the rules, and keeps all its ink.
    round_mask = (
        region_mask
        if square is None
        else off_the_rules(region_mask, visible, extent, max(1, round(RING_OFF_RULE_MM * px_mm)))
    )
    sectors = _option_sectors(round_mask, extent, square, label, gap, min_px)
    ring = max(int(s.sum()) for s in sectors)
    if label is not None and square is not None and square[0] + square[2] <= label[0] + 2:
        # A tick box and its label: a strike runs across the label, and the mark in the square
        # (a tick's arm, an ×, a fill) stays out of the test, so an × that is the writer's mark
        # is never read as a strike.
        # Ringed, a strike must run on further past the label than a ring's side would; but a
        # strike and a tick together fill as many sectors as a ring, so only ink that also goes
        # under the option counts as the ring here.
        round_sectors = sectors
        if sq is not None and sq >= SQUARE_MARK and _mark_across(region_mask, square):
            # A tick or an × in the square reaches past its corners, under the option: with a
            # strike's ends beside it that fills a ring's sectors. Only ink clear of the square
            # is a ring's here (a ring round the option passes outside it).
            clear = round_mask.copy()
            sx, sy, sw, sh = grow(
                square, round(SQUARE_MARK_REACH_MM * px_mm), (clear.shape[1], clear.shape[0])
            )
            clear[sy : sy + sh, sx : sx + sw] = False
            round_sectors = _option_sectors(clear, extent, square, label, gap, min_px)
        ringed = max(int(s.sum()) for s in round_sectors) >= RING_ON and goes_round(round_sectors)
        struck = strike_lines(region_mask, label, square, visible, px_mm, ringed)
    elif label is not None:
        # A label alone (an era to circle, with the year written right after it): ink through
        # its central rows end to end, ends sticking out level with it on both sides, or a level
        # stroke through it.
        struck = struck_through(region_mask, extent, max(2, round(px_mm)), visible)
        if ring < RING_ON:
            struck = struck or protrudes_both_sides(
                region_mask, extent, max(1, round(0.5 * px_mm)), max(2, round(2.2 * px_mm))
            )
        struck = struck or level_strokes(
            region_mask, label, square, max(4, round(1.5 * px_mm)), ringed=ring >= RING_ON
        )
        if ring >= RING_ON:
            struck = struck or crossed_out(
                region_mask, label, round(CROSS_NEAR_MM * px_mm), round(RING_MM * px_mm), visible
            )
    else:
        # Without a label the extent is the square alone, and a big tick crosses a small square
        # from side to side: only a box that holds its own label (the nursery form's 13 mm
        # circles) is tested for a line through it.
        big = square is not None and max(square[2], square[3]) > LABEL_SQUARE_MAX_MM * px_mm
        struck = big and struck_through(region_mask, extent, max(2, round(px_mm)), visible)
        word = printed_within(visible, square) if big and visible is not None else None
        if word is not None and ring_sectors(region_mask, word, gap, min_px) >= RING_ON:
            # A ring round the word inside the box may cross the box's middle rows as a strike
            # does, and an × through the ring may cover too few of its columns there: a ringed
            # word is struck when writing runs on out of the box on both sides (two lines or an
            # × past its ends). Above and below is no test: the neighbours' rings and strikes
            # reach there (4 false strikes in 100 pages of our nursery form).
            struck = protrudes_both_sides(
                region_mask, extent, round(RING_PAST_MM * px_mm), round(RING_MM * px_mm)
            )
    return OptionLook(sq, ring, lab, struck)


def _option_sectors(
    mask: np.ndarray, extent: PxBox, square: PxBox | None, label: PxBox | None, gap: int, min_px: int
) -> list[np.ndarray]:
    """The inked sectors round the whole option, round its square and round its label alone: a
    ring may go round any of them."""
    sectors = [inked_sectors(mask, b, gap, min_px) for b in (extent, square) if b is not None]
    if label is not None:
        sectors.append(label_ring_sectors(mask, label, square, gap, min_px))
    return sectors


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
