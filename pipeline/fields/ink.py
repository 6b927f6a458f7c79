"""Ink inside one field after dropout: local registration, cleaning, bounding box, corrections.

All functions are pure and work on small grey crops of the aligned page.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.fields.geometry import PxBox, grow, mm_to_px

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


BROKEN_PIECE = 3  # a piece of ink under this many speck areas (`clean`'s min_area) is a fragment
BROKEN_SHARE = 0.12  # share of a field's ink in fragments from which its strokes count as broken


def broken_share(mask: np.ndarray, min_area: int) -> float:
    """Share of a field's ink (before `clean`) that lies in fragments: pieces too small to be a
    stroke, beside at least one piece that is one. Whole writing keeps almost all its ink in
    strokes (a dakuten or a dot is a few percent); a light pen under a fax's threshold leaves
    dashes and dots whose reading cannot be trusted. A field of specks alone (no stroke) is 0:
    that is noise on an empty box, not broken writing."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return 0.0
    areas = stats[1:, cv2.CC_STAT_AREA]
    small = areas < BROKEN_PIECE * min_area
    if small.all():
        return 0.0
    return float(areas[small].sum()) / float(areas.sum())


MEND_PX = 3  # side of the square over which `mend_strokes` bridges a broken stroke's gaps


def mend_strokes(gray: np.ndarray, size: int = MEND_PX) -> np.ndarray:
    """A crop of broken writing with the gaps between its fragments bridged: a grey opening (the
    ink, dark, closed) over a `size`-pixel square joins dashes and dots a pixel or two apart into
    strokes again, which the recogniser reads far better than specks. Only for writing already
    found broken (`broken_share`): on whole writing it would join strokes meant to be apart."""
    return cv2.morphologyEx(gray, cv2.MORPH_OPEN, np.ones((size, size), np.uint8))


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


def free_before(printed: np.ndarray, box: PxBox, reach: int) -> int:
    """Columns of free paper just left of `box` in its rows, up to `reach`: from the box back to
    the nearest column where `printed` (the blank's print) has any pixel. Where a writer may start
    the box's number."""
    x, y, _w, h = box
    x0 = max(0, x - reach)
    cols = np.flatnonzero(printed[y : y + h, x0:x].any(axis=0))
    return x - (x0 if len(cols) == 0 else x0 + int(cols[-1]) + 1)


BORDER_COVER = 0.8  # share of a box's rows a printed column covers to be its side's border


def border_before(printed: np.ndarray, box: PxBox, gap: int, rule: int, reach: int) -> tuple[int, int]:
    """A printed box's own left border just before `box` (its inset inside the border), with the
    free paper beyond it: (columns from the box back to the border's outer side, columns of free
    paper past that, up to `reach`); (0, 0) when no such border is there. The border starts within
    `gap` columns of the box, is no wider than `rule` (the print mask is grown), and covers
    `BORDER_COVER` of the box's rows in each of its columns; a printed 年 or a shared cell wall
    with no paper beyond has no free paper, and a label's strokes cover too few rows."""
    x, y, _w, h = box
    x0 = max(0, x - gap - rule - reach)
    cover = printed[y : y + h, x0:x].mean(axis=0) if h > 0 else np.zeros(0)
    i = len(cover) - 1
    while i >= 0 and cover[i] == 0 and len(cover) - 1 - i < gap:
        i -= 1
    start = i
    while i >= 0 and cover[i] >= BORDER_COVER:
        i -= 1
    if i == start or start - i > rule or i < 0 or cover[i] > 0:
        return 0, 0
    outer = i  # the first free column past the border
    while i >= 0 and cover[i] == 0 and outer - i < reach:
        i -= 1
    return len(cover) - 1 - outer, outer - i


LEVEL_SLACK = 2  # rows: a level stroke's edges are ragged where the border cut it


def bridge_band(mask: np.ndarray, a: int, b: int) -> np.ndarray:
    """`mask` with each stroke that meets the columns `a`..`b` (a printed border, dropped out)
    from the left joined to the ink meeting them from the right: across the band in the rows both
    sides share (within a row), else by a line to the nearest such ink when that is no more rows
    away than the band is wide. A stroke the border cut in two, level or slanted up to 45°, is one
    piece again."""
    if b <= a or a < 1 or b >= mask.shape[1]:
        return mask
    left = np.flatnonzero(mask[:, max(0, a - 2) : a].any(axis=1))
    right = np.flatnonzero(mask[:, b : b + 2].any(axis=1))
    if not len(left) or not len(right):
        return mask
    out = mask.astype(np.uint8)
    runs = np.split(left, np.flatnonzero(np.diff(left) > 1) + 1)  # one per stroke meeting the band
    for run in runs:
        gaps = np.abs(run[:, None] - right[None, :])
        level = run[gaps.min(axis=1) <= 1]
        if len(level):  # a stroke crossing level (a strike's bar): the band filled in its rows
            out[max(0, level.min() - LEVEL_SLACK) : level.max() + 1 + LEVEL_SLACK, a:b] = 1
            continue
        i, j = np.unravel_index(int(np.argmin(gaps)), gaps.shape)
        if gaps[i, j] <= b - a:  # a slanted one: joined where its two ends come nearest
            cv2.line(out, (a - 1, int(run[i])), (b, int(right[j])), 1, 1)
    return out.astype(bool)


LEAD_HEIGHT = 0.35  # of the box's height: a digit written before the box, not a speck or a tail


def written_before(
    mask: np.ndarray, lead: int, printed: np.ndarray | None = None, tall: float = LEAD_HEIGHT
) -> np.ndarray:
    """The ink of a box whose first `lead` columns lie before it (the free paper between the box
    and the print that precedes it, and a little of the print's columns), with only the box's own
    writing kept there: a piece of ink that reaches the lead's outer edge comes from the print's
    side (a ring round the era before a year) and keeps only its part in the box; a piece lying
    in the lead alone must be at least `tall` (`LEAD_HEIGHT`) of the box tall (a digit started
    before the box, not a speck), and not lie mostly on `printed` (where the blank has print,
    grown: what dropout left of a printed 年 or 月 a pixel or two off the blank)."""
    if lead <= 0 or not mask[:, :lead].any():
        return mask
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    for i in range(1, n):
        x, _y, w, h, _area = stats[i]
        if x == 0:
            continue  # from the print's side
        if x + w > lead:
            keep[i] = True
        elif h >= tall * mask.shape[0]:
            piece = labels == i
            keep[i] = printed is None or (piece & printed).sum() < 0.5 * piece.sum()
    out = mask.copy()
    out[:, :lead] &= keep[labels[:, :lead]]
    return out


def remove_rules(mask: np.ndarray, min_len: int, band: float = 0.2) -> np.ndarray:
    """Remove straight lines longer than `min_len` that lie near the crop's edges.

    After dropout, printed rules survive only where registration was off, which is at the box
    edges; a long stroke in the middle is the applicant's (a correction line, a dash) and stays.
    "Near" is `band` of the crop's smaller side from an edge, both ways: a box's side rule lies as
    close to its end as its top rule to its top, and a fifth of a wide box's width holds the first
    characters' downstrokes (平, 認 in big writing that fills the box's height).
    """
    m = mask.astype(np.uint8)
    out = m.copy()
    h, w = m.shape
    edge = band * min(w, h)
    odd = min_len | 1  # a centred kernel: the opening then gives back a line's end pixels too
    for k, horizontal in (((odd, 1), True), ((1, odd), False)):
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, k)
        # Outside the crop is no ink: with OpenCV's default border a stroke that touches the
        # crop's edge would count as running on past it, so a 27 px downstroke in a 37 px box
        # would pass for a 33 px rule.
        lines = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        for i in range(1, n):
            x, y, bw, bh, _ = stats[i]
            c, size = (y + bh / 2, h) if horizontal else (x + bw / 2, w)
            if (c < edge or c > size - edge) and not (horizontal and _straddled(m, x, y, bw, bh, c < edge)):
                out[labels == i] = 0
    return out.astype(bool)


# A level line near a box's top or bottom with writing on both sides of it along this share of its
# length runs through writing: the 二重線 through a struck value when the new one is written above
# it in the same box (the struck line then sits in the box's lower fifth). A printed rule left by
# dropout has paper beyond it, or a descender or two that cross it.
STRADDLE_SHARE = 0.3
STRADDLE_GAP = 2  # px beyond the line's own rows before writing there counts


def _straddled(m: np.ndarray, x: int, y: int, w: int, h: int, near_top: bool) -> bool:
    """Whether the level line at (x, y, w, h) of mask `m` has writing beyond it (towards the
    crop's edge) and inside it along `STRADDLE_SHARE` of its columns."""
    if near_top:
        beyond, inside = m[: max(0, y - STRADDLE_GAP), x : x + w], m[y + h + STRADDLE_GAP :, x : x + w]
    else:
        beyond, inside = m[y + h + STRADDLE_GAP :, x : x + w], m[: max(0, y - STRADDLE_GAP), x : x + w]
    if beyond.size == 0 or inside.size == 0:
        return False
    both = beyond.any(axis=0) & inside.any(axis=0)
    return float(both.mean()) >= STRADDLE_SHARE


def bbox(mask: np.ndarray) -> PxBox | None:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


@dataclass(frozen=True)
class Strike:
    """A line drawn through earlier writing: a 訂正 (correction), one line or the customary two."""

    x0: int
    x1: int
    y: int  # centre row of the strike line(s)
    lines: np.ndarray | None = None  # the strike's own pixels (a mask the crop's size), if known
    height: int = 0  # the height of the writing it runs through


STRIKE_ANGLES = (-8.0, -5.0, -2.5, 0.0, 2.5, 5.0, 8.0)  # a hand's strike is near level, not level
# A strike is longer than the line's writing is tall: the longest level stroke of one character
# (一, ー, the bar of 七) is about one character wide, and a character about as wide as tall.
STRIKE_MIN_LEN = 1.15
# A digit is narrower than it is tall, so a strike through one digit is shorter than the digit is
# tall; the longest level stroke of a digit (the bars of 4, 5, 7) is well under that.
STRIKE_MIN_LEN_DIGITS = 0.8
STRIKE_REACH = 0.22  # of the line height: how far above and below a crossing stroke is looked for
# One line alone is a strike only this many line heights long (digits: shorter, a digit is
# narrow), crossed by this many strokes from above and from below.
STRIKE_LONE = 2.0
STRIKE_LONE_DIGITS = 1.5
# In small writing (a furigana row under 3.4 mm tall, 20 px at the working 150 dpi) a pen's width
# is a large part of a character, and the level strokes of neighbouring kana (the bars of ササキ,
# タニグチ) join into runs over two line heights long: there a single line must be this long.
# A struck name there runs the whole name: on our generator's claim pages 4 runs of 2.2-2.9 line
# heights in such rows were no strike, the struck names' lines 5.6 or more. Digits are not kana:
# a date's number box is as small, and one struck digit as short as ever.
STRIKE_SMALL_MM = 3.4
STRIKE_LONE_SMALL = 3.0
STRIKE_CROSSINGS_LONE = 2
# A line this many line heights long is a strike with one stroke crossing it from the lighter
# side: through small writing (a furigana row) two pen lines swallow most of what they strike.
# An underline has nothing below it, a dash between words nothing on either side.
STRIKE_LONG = 4.0
STRIKE_PIECE = 0.4  # of the line height: the shortest straight piece that continues a strike
STRIKE_EXTEND = 1.5  # of the line height: the most a strike is continued to the left
STRIKE_GAP = 0.3  # of the line height: how far a piece may lie from the strike's end and line
STRIKE_PAIR_GAP = (0.08, 0.45)  # of the line height: how far apart the two lines of 二重線 lie
STRIKE_PAIR_ENDS = 0.2  # of the longer line: how far the two lines' ends may lie apart
STRIKE_THROUGH = 2  # strokes crossing both lines of a pair (one character struck has two or more)
STRIKE_THROUGH_DIGITS = 1
# Two pen lines drawn close (a 二重線 at 150 dpi: 2 px lines, a 1–2 px gap) touch along most of
# their length and are found as one run, not as the pair `_pairs` looks for. A run whose ink is
# this many times as deep as the writing's strokes (`pen_depth`: two touching 2 px lines are
# about twice as deep as one) is taken as the two lines, and is a strike with less length and
# fewer crossing strokes than one line needs, as a pair is.
STRIKE_DOUBLE_PENS = 1.4
STRIKE_LONE_DOUBLE = 1.5
# ... and through digits (a date's number box) such a run need only be as long as any strike there
# (`STRIKE_MIN_LEN_DIGITS`): one struck digit is narrower than it is tall, and its 二重線 hardly
# longer. A digit's own level strokes (the bars of 4, 5, 7) are one pen deep, not two, but a blot
# can be (a looped 2 filled in by a fax): so the short run must also stick out past the writing
# it crosses on both sides by this many pen widths, as a line drawn across a digit does and a
# digit's own stroke, which the rest of the digit or its neighbour meets, does not.
STRIKE_LONE_DOUBLE_DIGITS = STRIKE_MIN_LEN_DIGITS
STRIKE_OVERHANG = 0.75
STRIKE_CROSSINGS_DOUBLE = 1
STRIKE_THIN = 0.5  # share of a strike's length where it is a lone thin line, not strokes massed
STRIKE_THICK = 0.5  # of the line height: the most ink a strike (two pen lines and their gap) puts in a column
# ... but never less than this (9 px at the working 150 dpi): two pen lines and their
# gap merge into one bar that thick through small writing (a 2.5 mm furigana row), wider than half
# its height.
STRIKE_THICK_MIN_MM = 1.5
# ... nor less than two of the writer's pen lines and a narrow gap: a broad pen's 二重線 through
# writing squeezed small (a correction written over it) is thicker than half the small line.
STRIKE_THICK_PENS = 2.2
STRIKE_END = 0.12  # share of a line's length at either end where a touching stroke is no crossing
# A strike runs through the struck writing, so it has about as much of it above as below; a run
# of level strokes along the writing's foot or head (the bases of 北海道空, the tops of 館市古)
# has nearly all of it on one side (`balance`). On the dev set and our generator's claim pages,
# struck fields' lines had at least 0.15 as much ink on the lighter side as on the heavier (0.22
# but for a second line in a field already found struck); four false strikes had 0.12 or less.
STRIKE_BALANCE = 0.14
STRIKE_CORE = 0.1


def _line_kernel(length: int, deg: float) -> np.ndarray:
    """A one-pixel line `length` long at `deg` degrees (positive: rising to the right)."""
    dy = int(round(length * np.tan(np.radians(deg))))
    k = np.zeros((abs(dy) + 1, length), np.uint8)
    y0, y1 = (abs(dy), 0) if dy > 0 else (0, abs(dy))
    cv2.line(k, (0, y0), (length - 1, y1), 1, 1)
    return k


def straight_strokes(mask: np.ndarray, min_len: int) -> np.ndarray:
    """Ink lying on a straight, near-level run at least `min_len` long (any of `STRIKE_ANGLES`)."""
    m = mask.astype(np.uint8)
    out = np.zeros(m.shape, np.uint8)
    for deg in STRIKE_ANGLES:
        out |= cv2.morphologyEx(m, cv2.MORPH_OPEN, _line_kernel(min_len, deg))
    return (out > 0) & cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def _crossings(glyphs: np.ndarray, line: np.ndarray, x0: int, x1: int, reach: int) -> tuple[int, int]:
    """How many separate strokes of `glyphs` touch `line` from above and from below, between
    x0 and x1 (the line's ends left out: a stroke ending there is the end of a 目, not a crossing)."""
    h = glyphs.shape[0]
    above = np.zeros(x1 - x0, bool)
    below = np.zeros(x1 - x0, bool)
    for i, c in enumerate(range(x0, x1)):
        rows = np.flatnonzero(line[:, c])
        if rows.size == 0:
            continue
        t, b = int(rows.min()), int(rows.max())
        above[i] = glyphs[max(0, t - reach) : t, c].any()
        below[i] = glyphs[b + 1 : min(h, b + 1 + reach), c].any()

    def runs(v: np.ndarray) -> int:
        return int(np.count_nonzero(v[1:] & ~v[:-1]) + int(v[0])) if v.size else 0

    return runs(above), runs(below)


def _thin_share(mask: np.ndarray, line: np.ndarray, x0: int, x1: int, height: int) -> float:
    """Share of the columns x0..x1 where the ink round `line` is no taller than a pen line or two
    (a quarter of the line height). A strike runs between the struck characters and across their
    gaps as a lone line; a run of level strokes found inside dense small writing (裕輔 written
    tight) lies in massed ink nearly all along."""
    thin = max(4, int(0.25 * height))
    col = mask.astype(bool)
    n_thin = n = 0
    for c in range(x0, x1):
        rows = np.flatnonzero(line[:, c])
        if rows.size == 0:
            continue
        t, b = int(rows.min()), int(rows.max())
        while t > 0 and col[t - 1, c]:
            t -= 1
        while b + 1 < col.shape[0] and col[b + 1, c]:
            b += 1
        n += 1
        n_thin += b - t + 1 <= thin + (int(rows.max()) - int(rows.min()))
    return n_thin / n if n else 0.0


def pen_depth(mask: np.ndarray) -> tuple[np.ndarray, float]:
    """Each ink pixel's distance to the paper, and the writing's half pen width: the median of
    that distance along the strokes' middles (its local maxima)."""
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    ridge = mask.astype(bool) & (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)))
    return dist, float(np.median(dist[ridge])) if ridge.any() else 1.0


@dataclass(frozen=True)
class _Candidate:
    strike: Strike
    up: int  # strokes reaching the line from above
    down: int  # ... and from below
    double: bool = False  # as thick as two pen lines: a 二重線 whose lines touch
    overhang: float = 0.0  # pen widths it runs past the writing it crosses, the shorter end's


def find_strikes(
    mask: np.ndarray, max_lines: int = 4, digits: bool = False, dpi: int = 150, loose: bool = False
) -> list[Strike]:
    """The strikes `strikes_sure_and_loose` finds for sure, or with `loose` those looked for loosely."""
    sure, loosely = strikes_sure_and_loose(mask, max_lines, digits, dpi)
    return loosely if loose and digits else sure


def strikes_sure_and_loose(
    mask: np.ndarray, max_lines: int = 4, digits: bool = False, dpi: int = 150
) -> tuple[list[Strike], list[Strike]]:
    """Lines drawn through the writing: the line(s) of a 訂正 (correction), each with the struck
    span it covers.

    A candidate is a straight, near-level lone thin line longer than the height of the line of
    writing it lies in (`STRIKE_MIN_LEN`, or `STRIKE_MIN_LEN_DIGITS` for a crop of digits), so one
    character's strokes (一 ー 二 三) are too short. Handwriting joins the level strokes of
    neighbouring characters (大村, 玲里) into runs as long, so a candidate is a strike only with
    more evidence: the customary two lines (二重線: a candidate close under it, alike, the pair
    crossed by the struck strokes, `_pairs`; or the two drawn so close that they are one run
    twice as deep as the pen, `STRIKE_LONE_DOUBLE`), or one line `STRIKE_LONE`
    line heights long crossed by at least `STRIKE_CROSSINGS_LONE` strokes from above and as many
    from below. An underline, a dash or a long 一 has nothing crossing it. Form rules near the
    box edges are already gone (`remove_rules`). `dpi` is the crop's: the rules given in
    millimetres (small writing, a strike's thickness) are measured at it.

    Returns the sure strikes and, for a crop of digits, those found looking loosely as well (the
    same list when looking loosely adds nothing; for words always the same list): there a run that
    sticks out past the writing on both sides and is crossed from above and below, or one as long
    as the digits are tall crossed twice from each side, is a strike whatever its depth (a broad
    pen's 二重線 merged into one bar no deeper than the pen's own strokes), for a caller that has
    other evidence of a correction (the new value written over the box:
    `read.PageReader.text_jobs`). Both come from one look at the crop's straight runs."""
    bands = split_lines(mask, max_lines, valleys=True)
    if not bands:
        return [], []
    min_len = STRIKE_MIN_LEN_DIGITS if digits else STRIKE_MIN_LEN
    lone = STRIKE_LONE_DIGITS if digits else STRIKE_LONE
    shortest = max(8, int(min(b1 - b0 for b0, b1 in bands) * min_len))
    thick_min = mm_to_px(STRIKE_THICK_MIN_MM, dpi)
    runs = straight_strokes(mask, shortest)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(runs.astype(np.uint8), connectivity=8)
    if n <= 1:
        return [], []  # no straight run long enough: nothing struck
    dist, pen = pen_depth(mask)
    cands: list[_Candidate] = []
    for i in range(1, n):
        x, y, w, hh = (int(v) for v in stats[i, :4])
        cy = y + hh // 2
        band = next(((b0, b1) for b0, b1 in bands if b0 <= cy < b1), None)
        if band is None:
            continue
        height = band[1] - band[0]
        if w < height * min_len:
            continue
        line = labels == i
        cols = line[:, x : x + w].sum(axis=0)
        if float(np.median(cols[cols > 0])) > max(
            thick_min, STRIKE_THICK * height, STRIKE_THICK_PENS * 2 * pen
        ):
            continue  # a blot or massed strokes, not one or two pen lines
        if _thin_share(mask, line, x, x + w, height) < STRIKE_THIN:
            continue
        glyphs = mask & ~cv2.dilate(line.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        end = max(2, int(w * STRIKE_END))
        up, down = _crossings(glyphs, line, x + end, x + w - end, max(2, int(height * STRIKE_REACH)))
        depth = (dist * line)[:, x : x + w].max(axis=0)
        double = float(np.median(depth[depth > 0])) >= STRIKE_DOUBLE_PENS * pen
        crossed = np.flatnonzero(glyphs[band[0] : band[1], x : x + w].any(axis=0))
        ends = min(crossed[0], w - 1 - crossed[-1]) if len(crossed) else 0
        overhang = float(ends) / max(1.0, 2 * pen)
        cands.append(_Candidate(Strike(x, x + w, cy, line, height), up, down, double, overhang))
    small = None if digits else mm_to_px(STRIKE_SMALL_MM, dpi)
    double_len = STRIKE_LONE_DOUBLE_DIGITS if digits else STRIKE_LONE_DOUBLE
    lone_found = [c.strike for c in cands if _lone_strike(c, lone, small, double_len)]
    paired = [s for a, b in _pairs(mask, cands, digits) for s in (a.strike, b.strike)]
    sure = _settled(mask, lone_found + paired, bands)
    extra = [c.strike for c in cands if _loose_strike(c)] if digits else []
    return sure, (_settled(mask, lone_found + extra + paired, bands) if extra else sure)


def _settled(mask: np.ndarray, found: list[Strike], bands: list[tuple[int, int]]) -> list[Strike]:
    """Strike lines found, merged, continued to the left, and kept where the writing lies on both
    sides of them (`balance`)."""
    strikes = [_extend_left(mask, s) for s in _merge_strikes(found)]
    return [s for s in strikes if balance(mask, s, bands) >= STRIKE_BALANCE]


def _lone_strike(c: _Candidate, lone: float, small: int | None, double: float = STRIKE_LONE_DOUBLE) -> bool:
    """Whether one line alone is a strike: long enough, and crossed from above and below. In a
    line of writing under `small` pixels tall (None: no such rule), it must be longer; a run as
    deep as two pen lines (`STRIKE_DOUBLE_PENS`) may be shorter and less crossed: `double` line
    heights where it sticks out past the writing on both sides (`STRIKE_OVERHANG`), else
    `STRIKE_LONE_DOUBLE`."""
    length = (c.strike.x1 - c.strike.x0) / max(1, c.strike.height)
    need = 1 if length >= STRIKE_LONG else STRIKE_CROSSINGS_LONE
    if small is not None and c.strike.height < small:
        lone = max(lone, STRIKE_LONE_SMALL)
    elif c.double:
        short = double if c.overhang >= STRIKE_OVERHANG else STRIKE_LONE_DOUBLE
        lone, need = min(lone, short), min(need, STRIKE_CROSSINGS_DOUBLE)
    return length >= lone and min(c.up, c.down) >= need


# Looked for loosely (the new value is written over the box too), a bar through digits is a strike
# when it sticks out past them on both sides and is crossed from above and below, or when it is as
# long as the digits are tall, crossed twice from each side and out past them by half a pen width:
# a broad pen's 二重線 through 79 or 28 ends just past the last digit (0.7 pen widths out on our
# generator's pages and on dev set A's), while the joined bars of a broad pen's 44 end inside it.
STRIKE_LOOSE_LEN = 1.0
STRIKE_LOOSE_OVERHANG = 0.5


def _loose_strike(c: _Candidate) -> bool:
    length = (c.strike.x1 - c.strike.x0) / max(1, c.strike.height)
    sticks_out = c.overhang >= STRIKE_OVERHANG and min(c.up, c.down) >= STRIKE_CROSSINGS_DOUBLE
    crossed = (
        min(c.up, c.down) >= STRIKE_CROSSINGS_LONE
        and length >= STRIKE_LOOSE_LEN
        and c.overhang >= STRIKE_LOOSE_OVERHANG
    )
    return length >= STRIKE_LONE_DOUBLE_DIGITS and (sticks_out or crossed)


def balance(mask: np.ndarray, s: Strike, bands: list[tuple[int, int]]) -> float:
    """How evenly the writing along a strike lies either side of it, within its line of writing
    (`bands`, as `split_lines` gives them: new writing above a struck line is another line): the
    ink above over the ink below, or the reverse, whichever is at most 1. Rows within
    `STRIKE_CORE` line heights of the strike's centre count on neither side: they hold the
    strike's own line(s) and the level strokes merged into them."""
    band = next(((b0, b1) for b0, b1 in bands if b0 <= s.y < b1), (0, mask.shape[0]))
    span = mask[band[0] : band[1], s.x0 : s.x1]
    y, core = s.y - band[0], max(1, round(STRIKE_CORE * s.height))
    above, below = int(span[: max(0, y - core)].sum()), int(span[y + core + 1 :].sum())
    return min(above, below) / max(1, above, below)


def _extend_left(mask: np.ndarray, s: Strike) -> Strike:
    """A strike with the shorter straight pieces that continue it to the left joined on: a hand's
    line wobbles where it crosses the first struck characters, and breaks there into runs too
    short to be found alone (`STRIKE_PIECE` line heights), which are still the strike's start. At
    most `STRIKE_EXTEND` line heights are joined (the first character or two), so a run of level
    strokes does not grow along a whole line of kanji."""
    if s.lines is None:
        return s
    h = max(1, s.height)
    runs = straight_strokes(mask, max(6, int(STRIKE_PIECE * h)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(runs.astype(np.uint8), connectivity=8)
    x0, lines = s.x0, s.lines.copy()
    for _ in range(8):
        nxt = None
        for i in range(1, n):
            x, y, w, hh = (int(v) for v in stats[i, :4])
            if x < x0 and x + w >= x0 - STRIKE_GAP * h and abs(y + hh / 2 - s.y) <= STRIKE_GAP * h:
                nxt = i if nxt is None or x < stats[nxt, 0] else nxt
        if nxt is None or s.x0 - int(stats[nxt, 0]) > STRIKE_EXTEND * h:
            break
        x0 = int(stats[nxt, 0])
        lines |= labels == nxt
    return Strike(x0, s.x1, s.y, lines, s.height) if x0 < s.x0 else s


def _pairs(mask: np.ndarray, cands: list[_Candidate], digits: bool) -> list[tuple[_Candidate, _Candidate]]:
    """Two candidates one under the other (二重線): `STRIKE_PAIR_GAP` line heights apart, of about
    the same length and lying over each other (a hand draws the second line like the first), and
    crossed both at once by strokes of the struck writing (`_through`): two level strokes of one
    character (the bars of 幸, of 5) have no more than one upright through both."""
    out = []
    for a in cands:
        for b in cands:
            sa, sb = a.strike, b.strike
            h = max(sa.height, sb.height)
            la, lb = sa.x1 - sa.x0, sb.x1 - sb.x0
            if not STRIKE_PAIR_GAP[0] * h <= sb.y - sa.y <= STRIKE_PAIR_GAP[1] * h:
                continue
            if abs(sa.x0 - sb.x0) > STRIKE_PAIR_ENDS * max(la, lb) or abs(
                sa.x1 - sb.x1
            ) > STRIKE_PAIR_ENDS * max(la, lb):
                continue
            if _through(mask, sa, sb) >= (STRIKE_THROUGH_DIGITS if digits else STRIKE_THROUGH):
                out.append((a, b))
    return out


def _through(mask: np.ndarray, upper: Strike, lower: Strike) -> int:
    """How many separate strokes cross both lines of a pair: ink just above the upper line, all
    the way between the two, and just below the lower one, in the same column."""
    if upper.lines is None or lower.lines is None:
        return 0
    x0, x1 = max(upper.x0, lower.x0), min(upper.x1, lower.x1)
    end = max(2, int((x1 - x0) * STRIKE_END))
    reach = max(2, int(max(upper.height, lower.height) * STRIKE_REACH))
    h = mask.shape[0]
    hit = np.zeros(max(0, x1 - x0 - 2 * end), bool)
    for i, c in enumerate(range(x0 + end, x1 - end)):
        ru, rl = np.flatnonzero(upper.lines[:, c]), np.flatnonzero(lower.lines[:, c])
        if ru.size == 0 or rl.size == 0:
            continue
        top, bottom = int(ru.min()), int(rl.max())
        between = mask[int(ru.max()) + 1 : int(rl.min()), c]
        hit[i] = (
            mask[max(0, top - reach) : top, c].any()
            and mask[bottom + 1 : min(h, bottom + 1 + reach), c].any()
            and (between.size == 0 or between.all())
        )
    return int(np.count_nonzero(hit[1:] & ~hit[:-1]) + int(hit[0])) if hit.size else 0


def _merge_strikes(strikes: list[Strike]) -> list[Strike]:
    """Strike lines that overlap sideways and lie within a line height of each other: one strike."""
    out: list[Strike] = []
    for s in sorted(strikes, key=lambda s: s.x0):
        for j, o in enumerate(out):
            overlap = min(s.x1, o.x1) - max(s.x0, o.x0)
            if (
                overlap > 0.5 * min(s.x1 - s.x0, o.x1 - o.x0)
                and abs(s.y - o.y) < max(s.height, o.height) * 0.6
            ):
                lines = o.lines | s.lines if o.lines is not None and s.lines is not None else o.lines
                out[j] = Strike(
                    min(s.x0, o.x0), max(s.x1, o.x1), (s.y + o.y) // 2, lines, max(s.height, o.height)
                )
                break
        else:
            out.append(s)
    return out


# Two lines of writing that lean or crowd (a correction written over the struck value in a box one
# line tall) touch in a few columns, so no blank row parts them. With `valleys`, a row whose ink is
# at most VALLEY of the band's busiest rows parts them too, where each side holds at least
# VALLEY_SIDE of the band's ink and is at least VALLEY_HEIGHT of its height: one line's middle
# rows are never so bare (its characters' strokes cross them all along).
VALLEY = 0.08
VALLEY_SIDE = 0.2
VALLEY_HEIGHT = 0.3


def _valley(mask: np.ndarray, y0: int, y1: int) -> int | None:
    """The row parting the band y0..y1 into two lines of writing that touch, or None."""
    counts = mask[y0:y1].sum(axis=1).astype(float)
    h = len(counts)
    lo, hi = max(1, round(VALLEY_HEIGHT * h)), h - max(1, round(VALLEY_HEIGHT * h))
    if hi <= lo or counts.max() <= 0:
        return None
    smooth = np.convolve(counts, np.ones(3) / 3, mode="same")
    y = lo + int(np.argmin(smooth[lo:hi]))
    total = counts.sum()
    if smooth[y] > VALLEY * smooth.max() or min(counts[:y].sum(), counts[y:].sum()) < VALLEY_SIDE * total:
        return None
    return y0 + y


def split_lines(mask: np.ndarray, max_lines: int, valleys: bool = False) -> list[tuple[int, int]]:
    """Row bands of writing (y0, y1) separated by blank rows (with `valleys`, also by nearly
    blank ones, `VALLEY`); one band when max_lines == 1."""
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
    out = [(b[0], b[1] + 1) for b in bands]
    if valleys and len(out) < max_lines:
        i = max(range(len(out)), key=lambda k: out[k][1] - out[k][0])
        y = _valley(mask, *out[i])
        if y is not None:
            out[i : i + 1] = [(out[i][0], y), (y, out[i][1])]
    return out


SEGMENT_GAP = 0.5  # of the writing's height: a blank this wide parts two segments of a line
SEGMENT_MIN = 2.0  # of the writing's height: the least width of writing on each side of the gap


def segment_gap(mask: np.ndarray, min_gap: float = SEGMENT_GAP, min_side: float = SEGMENT_MIN) -> int | None:
    """The column where a one-line writing is best parted in two, or None.

    An address is often written in two segments, the town and house number, then after a gap the
    building and room (2071-2　パークハイム608). Read as one line, the recogniser runs the number
    into the name (2071-21-クハイム608); each segment read on its own is read as written. The
    widest blank run of columns counts when it is at least `min_gap` of the writing's height wide
    (gaps between the characters of a word are narrower) and has at least `min_side` heights of
    writing on either side (a lone character is no segment). Returns the gap's middle column."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = mask.any(axis=0)
    on = np.flatnonzero(cols)
    if rows.size == 0 or on.size == 0:
        return None
    height = float(rows[-1] - rows[0] + 1)
    best: tuple[int, int] | None = None  # (width, start)
    for a, b in zip(on[:-1].tolist(), on[1:].tolist(), strict=True):
        if b - a - 1 > 0 and (best is None or b - a - 1 > best[0]):
            best = (b - a - 1, a + 1)
    if best is None or best[0] < min_gap * height:
        return None
    width, start = best
    if start - on[0] < min_side * height or on[-1] - (start + width) < min_side * height:
        return None
    return start + width // 2
