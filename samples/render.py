"""Fill a blank form: every field drawn by kind from the template geometry, plus an optional 受付印.

`render_page` takes a template, its blank (grey, template dpi) and one page of `Fill`s from the
profile and returns the clean filled page (RGB, white paper, template dpi) with its ink layers.
Nothing here knows the nursery form: positions come from the template's boxes, and two small
inspections of the blank decide how to write:

* `cell_boxes` finds the printed cell dividers of a `cells` field (so a 〒 box whose 3 and 4 cells are
  separate rectangles with a printed "－" between them gets its cells right); without clear lines it
  falls back to even cells with one separator gap of 0.8 cell between groups.
* `is_square_option` tells a printed □ (ticked) from a printed label (circled).
* `part_cells` finds the printed digit cells inside a date part (令和□□年□□月□□日): the digits
  are then written one to a cell, right-aligned (a plain part box is written in as a whole).

Some writers leave a printed era uncircled (昭和・平成 printed, neither circled, the year written):
with probability `p_era_unmarked` the era options are left as printed and `marks` records
`<field>:era = "unmarked"`; the value is still the date meant (dev set A: 5 of 112 such dates).
Some fill a small □ completely instead of ticking it (`P_FULL_FILL`, mark "fill_full"), and some
circle the option's printed label beside the □ instead (`P_LABEL_CIRCLE`, mark "circle_label";
`label_box` finds the label on the blank). The circle or tick these replace is still drawn, on a scratch layer, so that the hand's random stream
is unchanged.
Some writers mark a wrong option first and strike it out (two lines or an ×) before marking the
right one (`P_STRUCK_MARK` of choice fields, mark "struck", the field listed as corrected; dev set
A: 13 of 290 choice fields); these draws come from `struck_rng`, a third stream. The withdrawn
mark is a tick (now and then running out of its square) or, where the option has a label, a ring
round the label; it is struck with two lines or an × running on 0.3-1.5 mm past the option, or
scribbled out (`P_CROSS_STRIKE`, `P_SCRIBBLE_STRIKE`). Ticks and ✗s that are the writer's choice
run out of their square now and then as well (`mark_rng`, a stream of its own).
These draws come from `extra_rng`, a stream of their own, so that adding them leaves every other
choice on the page as it was.
Some writers start a date's number on the free paper before its box (`P_EARLY_START` of the
date parts written plainly, mark `<field>:<part>` = "early" where it moved a millimetre or more;
from `lead_rng`, a stream of its own).

More corrections (G3) come from `corr_rng`, a stream of their own: `P_EXTRA_CORRECTION` of the fields
that the main stream left uncorrected, of every written kind: a digit struck in one cell of a
`cells` field (an × or two lines) with the new digit above it or beside it in the same cell, or
small over the cell on the box's top border, a
struck date part or text with the new value beside or above it (a date part's new value, for
`P_PART_OVER` of them, small over the part's box instead). The field is first written as
usual on a scratch layer, so the hand's own stream is unchanged. Each correction (these, the main
stream's and the struck marks) gets a 訂正印 (a 6–8 mm red ring seal holding the writer's surname)
beside it with probability `P_SEAL`, and `Rendered.corrections` records, per field, the value that
was struck (`struck_value`), how (`mark`) and whether it was sealed (`seal`).

Options may carry a printed `label` box in the template, and era options may be labels alone: the
renderer then circles the label and takes it as the label to ring, instead of looking for it on
the blank; a `cells` field with `boxes` is written in those boxes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw

from pipeline.fields.ink import free_before
from samples import profile
from samples.handwriting import PRINTED_FONT, PRINTED_MINCHO, Hand, Ink, get_font

Box = tuple[float, float, float, float]
CORRECTABLE = {
    "text_ja",
    "kana",
    "phone",
    "number",
    "digits",
    "date_wareki",
    "date",
    "postal_code",
    "free_text",
}
P_CORRECTION = 0.03
P_ERA_UNMARKED = 0.08
P_FULL_FILL = 0.1
P_LABEL_CIRCLE = 0.25
P_STRUCK_MARK = 0.08  # of choice fields: a wrong option marked first, then struck out
P_CROSS_STRIKE = 0.4  # of struck marks: an × over the option (the rest two lines or a scribble)
P_SCRIBBLE_STRIKE = 0.1  # of struck marks: scribbled out, back and forth across the option
# Of the written fields that the main stream left alone: with P_CORRECTION on text fields and the
# struck marks this makes about 5% of all fields corrected (dev set A: 52 of 1566, 3.3%).
P_EXTRA_CORRECTION = 0.03
P_SEAL = 0.5  # a 訂正印 beside a correction (dev set A: 24 of 52 corrections)
P_PART_OVER = 0.4  # of corrected date parts: the new number small over the part's box, not in it
# Some writers start a date's number on the free paper before its box (the era's or 年's end)
# rather than in it (dev set A: a year's first digit wholly before the box in 2 of 240 dates,
# partly before it in more): `lead_rng` moves that part's writing left by most of the free
# paper, up to EARLY_MM.
P_EARLY_START = 0.06
EARLY_MM = 2.5
STAMP_AREA_MM = (150.0, 252.0, 198.0, 286.0)  # x0, y0, x1, y1 where the office puts its 受付印


@lru_cache(maxsize=4)
def load_blank(path: str) -> np.ndarray:
    img = Image.open(path)
    return np.asarray(img.convert("L"))


def to_px(box_mm: Box, ppm: float) -> Box:
    x, y, w, h = box_mm
    return x * ppm, y * ppm, w * ppm, h * ppm


def _dark_runs(blank: np.ndarray, box_px: Box) -> tuple[np.ndarray, np.ndarray]:
    x, y, w, h = (int(round(v)) for v in box_px)
    pad = 3
    crop = blank[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad] < 128
    return crop.mean(axis=0), crop.mean(axis=1)


def cell_boxes(blank: np.ndarray, f: Any, ppm: float) -> list[Box]:
    """Pixel boxes of each cell of a `cells` field: the template's `boxes` when it lists them, else
    the printed dividers when they are clear."""
    if getattr(f.cells, "boxes", None):
        return [to_px(tuple(b), ppm) for b in f.cells.boxes]
    count = f.cells.count
    groups = f.cells.groups or [count]
    x, y, w, h = to_px(f.box, ppm)
    xi, yi, wi, hi = (int(round(v)) for v in (x, y, w, h))
    band = blank[yi + hi // 5 : yi + hi - hi // 5, max(0, xi - 4) : xi + wi + 5] < 128
    colfrac = band.mean(axis=0)
    cols = np.nonzero(colfrac > 0.8)[0]
    lines: list[float] = []
    if len(cols):
        run = [cols[0]]
        for c in cols[1:]:
            if c - run[-1] > 1:
                lines.append(float(np.mean(run)))
                run = []
            run.append(c)
        lines.append(float(np.mean(run)))
    lines = [v + xi - 4 for v in lines]
    intervals = list(zip(lines, lines[1:], strict=False))
    want = count + len(groups) - 1
    cells: list[Box] = []
    if len(intervals) == want and len(groups) > 1:
        k = 0
        for gi, g in enumerate(groups):
            for _ in range(g):
                a, b = intervals[k]
                cells.append((a, y, b - a, h))
                k += 1
            if gi < len(groups) - 1:
                k += 1  # the printed separator between groups
    elif len(intervals) == count:
        cells = [(a, y, b - a, h) for a, b in intervals]
    else:
        gap = 0.8
        cw = w / (count + gap * (len(groups) - 1))
        pos = x
        for gi, g in enumerate(groups):
            for _ in range(g):
                cells.append((pos, y, cw, h))
                pos += cw
            if gi < len(groups) - 1:
                pos += gap * cw
    return cells


def part_cells(blank: np.ndarray, box_px: Box) -> list[Box] | None:
    """The printed digit cells inside a date part's box (令和□□年: two cells in one part), or None
    for a plain box or a line: dividers are dark columns over most of the box's height, away from
    its own edges."""
    x, y, w, h = box_px
    xi, yi, wi, hi = (int(round(v)) for v in box_px)
    band = blank[yi + hi // 5 : yi + hi - hi // 5, xi : xi + wi] < 128
    if band.size == 0:
        return None
    cols = np.nonzero(band.mean(axis=0) > 0.8)[0]
    edge = max(2, wi // 6)
    cols = cols[(cols > edge) & (cols < wi - edge)]
    if not len(cols):
        return None
    runs = np.split(cols, np.nonzero(np.diff(cols) > 1)[0] + 1)
    cuts = [x, *(x + float(np.mean(r)) for r in runs), x + w]
    return [(a, y, b - a, h) for a, b in zip(cuts, cuts[1:], strict=False)]


def is_square_option(blank: np.ndarray, box_px: Box) -> bool:
    """A printed checkbox has long dark runs both across and down its option box."""
    cols, rows = _dark_runs(blank, box_px)
    return bool(rows.max(initial=0) > 0.55 and cols.max(initial=0) > 0.55)


def label_box(blank: np.ndarray, box_px: Box, ppm: float) -> Box | None:
    """The printed label to the right of a □ option (its text, up to a gap of 2 mm), or None."""
    x, y, w, h = (int(round(v)) for v in box_px)
    x0, y0, y1 = x + w + int(0.4 * ppm), max(0, y - int(0.5 * ppm)), y + h + int(0.5 * ppm)
    strip = blank[y0:y1, x0 : min(blank.shape[1], x0 + int(40 * ppm))] < 160
    cols = strip.any(axis=0)
    if not cols.any():
        return None
    start = int(np.argmax(cols))
    if start > 3 * ppm:  # nothing printed right beside the box
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
    return (float(x0 + start), float(y0 + rows[0]), float(end - start + 1), float(rows[-1] - rows[0] + 1))


def ring_box(
    label: Box, ppm: float, left_limit: float | None = None, right_limit: float | None = None
) -> Box:
    """Where to aim `Hand.circle` so that its ring (72-92% of the box) clears a printed label; the
    ring stays right of `left_limit` or left of `right_limit` (the option's square, after or before
    the word: ink there would be a tick)."""
    x, y, w, h = label
    x0 = x - 0.35 * w - 1.0 * ppm
    if left_limit is not None:
        x0 = max(x0, left_limit)
    x1 = x + 1.35 * w + 1.0 * ppm
    if right_limit is not None:
        x1 = min(x1, right_limit)
    return (x0, y - 0.5 * h - 0.8 * ppm, x1 - x0, 2.0 * h + 1.6 * ppm)


def label_ring(label: Box, square: Box, ppm: float) -> Box:
    """`ring_box` for a label beside its square, kept off the square on whichever side it is."""
    if label[0] >= square[0]:  # □ 男: the word after its square
        return ring_box(label, ppm, left_limit=square[0] + square[2] + 0.2 * ppm)
    return ring_box(label, ppm, right_limit=square[0] - 0.2 * ppm)  # 男 □


def _struck_mark(
    hand: Hand,
    ink: Ink,
    blank: np.ndarray,
    obox: Box,
    ppm: float,
    rng: np.random.Generator,
    label: Box | None = None,
) -> tuple[str, tuple[float, float, float, float]]:
    """A mark made on the wrong option and struck out: a tick (□) or a circle (printed label box),
    then two lines or an × through the option and its printed label. Drawn with `rng` as the
    hand's stream, so the rest of the page's handwriting is unchanged. `label` is the template's
    label box (px), if any. Returns how it was struck ("double", "cross" or "scribble") and the struck area."""
    saved, hand.rng = hand.rng, rng
    try:
        square = is_square_option(blank, obox)
        x, y, w, h = obox
        x0, x1 = x, x + w
        if label is None:
            label = label_box(blank, obox, ppm) if square else None
        if label is not None:  # the label may be printed before the square (男 □) or after it
            x0, x1 = min(x, label[0]), max(x1, label[0] + label[2])
        # The withdrawn mark is made as the writer marks (dev set A: a struck ring beside a
        # ring, a struck fill beside a fill): a ring round the label now and then.
        if square and label is not None and rng.random() < P_LABEL_CIRCLE:
            hand.circle(ink, label_ring(label, obox, ppm))
        elif square:
            hand.tick(ink, obox, reach=float(rng.uniform(0.0, 0.4)))
        else:
            hand.circle(ink, obox)
        # Strikes run on past the option by 0.3-1.5 mm each side (dev set A).
        x0s, x1s = x0 - rng.uniform(0.3, 1.5) * ppm, x1 + rng.uniform(0.3, 1.5) * ppm
        bbox = (x0s, y + 0.15 * h, x1s, y + 0.85 * h)
        r = rng.random()
        how = (
            "double"
            if r < 1 - P_CROSS_STRIKE - P_SCRIBBLE_STRIKE
            else "scribble"
            if r < 1 - P_CROSS_STRIKE
            else "cross"
        )
        if how == "double":
            hand.strike(ink, bbox)
        elif how == "scribble":
            hand.scribble_out(ink, (x0s, y + 0.1 * h, x1s, y + 0.9 * h))
        else:
            over = rng.uniform(1.0, 2.0) * ppm
            th = hand._thick()
            for a, b in (
                ((x0 - over, y - over / 2), (x1 + over, y + h + over / 2)),
                ((x0 - over, y + h + over / 2), (x1 + over, y - over / 2)),
            ):
                hand._polyline(ink, np.array([a, b]), th)
    finally:
        hand.rng = saved
    return how, (x0 - ppm, y - ppm, x1 + ppm, y + h + ppm)


@dataclass
class Rendered:
    rgb: np.ndarray  # H×W×3 uint8, clean filled page at template dpi
    pen: np.ndarray  # pen ink alpha (uint8)
    stamp: np.ndarray | None  # red stamp alpha
    corrected: list[str] = field(default_factory=list)
    marks: dict[str, str] = field(
        default_factory=dict
    )  # field/option -> "circle" | "check" | "cross" | "fill"
    # field -> {"struck_value", "mark" (double | cross | scribble), "where" (beside | above | over), "seal" (bool)}
    corrections: dict[str, dict[str, Any]] = field(default_factory=dict)
    seal: np.ndarray | None = None  # red 訂正印 alpha


def _wrong_variant(text: str, rng: np.random.Generator) -> str:
    idx = [i for i, ch in enumerate(text) if not ch.isspace() and ch not in "-年月日"]
    if not idx:
        return text + text[-1:]
    i = int(rng.choice(idx))
    ch = text[i]
    if ch.isdigit():
        new = str((int(ch) + int(rng.integers(1, 10))) % 10)
    else:
        pool = [c for c in text if c != ch and not c.isspace() and not c.isdigit() and c not in "-"]
        new = str(rng.choice(pool)) if pool else "口"
    wrong = text[:i] + new + text[i + 1 :]
    if rng.random() < 0.3 and len(text) > 3:  # stopped half way
        wrong = wrong[: max(2, i + 1)]
    return wrong


def _write_corrected(
    hand: Hand, ink: Ink, text: str, box: Box, rng: np.random.Generator, over: bool = False
) -> tuple[str, str, tuple[float, float, float, float]]:
    """Write a wrong value, strike it through twice, then the right one after it or above it.
    With `over` (a date's number), the wrong value fills the part's box as usual and the right one
    goes small just over the box, its foot at the top border (dev set A scan 40: 28日 struck with a
    broad pen's 二重線, 27 written some 3 mm tall on the border above it).
    Returns the struck value, where the new one went ("beside", "above" or "over") and the struck
    ink's bbox."""
    x, y, w, h = box
    wrong = _wrong_variant(text, rng)
    if over:
        bb = hand.write(ink, wrong, box, hfrac=(0.5, 0.75), align="center")
        hand.strike(ink, bb)
        hand.write(ink, text, (x - 0.1 * w, y - 0.45 * h, 1.2 * w, 0.5 * h), hfrac=(0.6, 0.8), align="center")
        return wrong, "over", bb
    size = rng.uniform(0.45, 0.65) * h
    gw = hand.layout(wrong, size)
    gc = hand.layout(text, size)
    margin = 0.02 * w + 2
    gap = 0.04 * w + size * 0.3
    if hand.width(gw) + gap + hand.width(gc) <= w - 2 * margin:
        x0 = x + margin + rng.uniform(0, 0.02) * w
        cy = y + h / 2
        bb = hand.place(ink, gw, x0, cy)
        hand.strike(ink, bb)
        hand.write(
            ink,
            text,
            (bb[2] + gap * 0.6, y, x + w - bb[2] - gap * 0.6, h),
            size=size * rng.uniform(0.9, 1.05),
        )
        return wrong, "beside", bb
    lower = (x, y + h * 0.5, w, h * 0.5)
    upper = (x, y, w, h * 0.5)
    bb = hand.write(ink, wrong, lower, hfrac=(0.7, 0.85))
    hand.strike(ink, bb)
    hand.write(ink, text, upper, hfrac=(0.75, 0.9))
    return wrong, "above", bb


def _write_struck_cells(
    hand: Hand, ink: Ink, text: str, cells: list[Box], rng: np.random.Generator, ppm: float
) -> tuple[str, str, str, tuple[float, float, float, float]]:
    """Digits one per cell, one of them written wrong, struck (an × or two lines) and rewritten, as
    on dev set A's 〒, 個人番号 and date cells: the wrong digit low in the cell and the new one
    above it ("above"), the wrong digit full size and the new one squeezed into the cell's upper
    right corner ("beside"), or the wrong digit full size and the new one small over the cell,
    outside the box on its top border ("over"). Draws from `hand.rng`. Returns (struck value,
    mark, where, struck bbox)."""
    n = min(len(text), len(cells))
    k = int(rng.integers(n))
    ch = text[k]
    wrong_ch = str((int(ch) + int(rng.integers(1, 10))) % 10) if ch.isdigit() else ch
    first = text[:k] + wrong_ch + text[k + 1 :]
    pick = rng.random()
    where = "above" if pick < 0.35 else "beside" if pick < 0.7 else "over"
    cx, cy, cw, chh = cells[k]
    low = (cx, cy + 0.45 * chh, cw, 0.55 * chh) if where == "above" else cells[k]
    hand.write_cells(ink, first, [*cells[:k], low, *cells[k + 1 :]])  # the wrong digit included
    sx, sy, sw, sh = low
    mark = "cross" if rng.random() < 0.5 else "double"
    th = hand._thick()
    if mark == "cross":
        for a, b in (
            ((sx + 0.12 * sw, sy + 0.15 * sh), (sx + 0.88 * sw, sy + 0.85 * sh)),
            ((sx + 0.88 * sw, sy + 0.15 * sh), (sx + 0.12 * sw, sy + 0.85 * sh)),
        ):
            hand._polyline(ink, np.array([a, b]), th)
    else:
        hand.strike(ink, (sx + 0.1 * sw, sy + 0.3 * sh, sx + 0.9 * sw, sy + 0.7 * sh))
    if where == "above":
        nb = (cx, cy + 0.02 * chh, cw, 0.43 * chh)
    elif where == "over":
        nb = (cx - 0.1 * cw, cy - 0.6 * chh, 1.2 * cw, 0.62 * chh)
    else:
        nb = (cx + 0.45 * cw, cy + 0.02 * chh, 0.55 * cw, 0.45 * chh)
    hand.write(ink, ch, nb, hfrac=(0.8, 0.95), align="center")
    return first, mark, where, (sx, sy, sx + sw, sy + sh)


def surname_of(fills: dict[str, profile.Fill]) -> str:
    """The writer's family name (the signer's), for a 訂正印."""
    name = next((f.written for f in fills.values() if f.draw.get("scribble")), None)
    name = name or next(
        (f.written for n, f in fills.items() if n.endswith("name") and isinstance(f.written, str)), ""
    )
    known = sorted((s for s, _ in profile.SURNAMES if name and name.startswith(s)), key=len)
    return known[-1] if known else (name[:2] or "印")


def _seal(surname: str, rng: np.random.Generator, ppm: float) -> np.ndarray:
    """A 訂正印: a 6–8 mm red ring with the surname stacked inside (its alpha, uint8)."""
    d_mm = rng.uniform(6.0, 8.0)
    size = int(d_mm * ppm)
    pad = 4
    im = Image.new("L", (size + 2 * pad, size + 2 * pad), 0)
    dr = ImageDraw.Draw(im)
    lw = max(2, int(rng.uniform(0.35, 0.5) * ppm))
    dr.ellipse([pad, pad, pad + size, pad + size], outline=255, width=lw)
    chars = surname[:3]
    step = size * 0.62 / max(2, len(chars))
    fpath = PRINTED_MINCHO if Path(PRINTED_MINCHO).exists() else PRINTED_FONT
    font = get_font(fpath, int(step * 1.05))
    top = pad + size / 2 - step * (len(chars) - 1) / 2
    for i, c in enumerate(chars):
        dr.text((pad + size / 2, top + i * step), c, font=font, fill=255, anchor="mm")
    im = im.rotate(rng.uniform(-20, 20), resample=Image.Resampling.BILINEAR)
    a = np.asarray(im).astype(np.float32) / 255
    a *= (rng.random(a.shape, dtype=np.float32) > 0.08) * rng.uniform(0.7, 0.95)
    return (np.clip(cv2.GaussianBlur(a, (0, 0), 0.7), 0, 1) * 255).astype(np.uint8)


def _write_lines(hand: Hand, ink: Ink, text: str, box: Box, lines: int, rng: np.random.Generator) -> None:
    """Break `text` over up to `lines` rows of the box, as someone filling a multi-line box would."""
    x, y, w, h = box
    if "\n" in text:  # free_text: the profile chose the line breaks (they are part of the value)
        parts = text.split("\n")[:lines]
    else:
        n = max(1, min(lines, int(np.ceil(len(text) / 18))))
        cuts = sorted({int(round(len(text) * k / n + rng.integers(-2, 3))) for k in range(1, n)})
        parts = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True) if text[a:b]]
    row = h / lines
    for i, part in enumerate(parts):
        hand.write(ink, part, (x, y + i * row, w, row))


def _stamp(
    template: Any,
    fills: dict[str, profile.Fill],
    rng: np.random.Generator,
    shape: tuple[int, int],
    ppm: float,
) -> np.ndarray:
    """A red 受付印 (circle or rounded rectangle, 3 lines) somewhere in the office box."""
    top, mid, bot = profile.stamp_text(template, fills, rng)
    round_ = rng.random() < 0.6
    if round_:
        wmm = hmm = rng.uniform(21, 26)
    else:
        wmm, hmm = rng.uniform(26, 32), rng.uniform(18, 22)
    w, h = int(wmm * ppm), int(hmm * ppm)
    pad = int(0.2 * max(w, h))
    im = Image.new("L", (w + 2 * pad, h + 2 * pad), 0)
    d = ImageDraw.Draw(im)
    lw = max(3, int(rng.uniform(0.5, 0.8) * ppm))
    box = [pad, pad, pad + w, pad + h]
    if round_:
        d.ellipse(box, outline=255, width=lw)
    else:
        d.rounded_rectangle(box, radius=int(0.15 * h), outline=255, width=lw)
    # a band for the date, as on a 日付印
    band = 0.2 * h
    cy = pad + h / 2
    inset = 0.08 * w if not round_ else 0.035 * w
    for yy in (cy - band, cy + band):
        half = (w / 2) * (1 - ((yy - cy) / (h / 2)) ** 2) ** 0.5 if round_ else w / 2 - inset
        d.line(
            [(pad + w / 2 - half + inset, yy), (pad + w / 2 + half - inset, yy)],
            fill=255,
            width=max(2, lw // 2),
        )
    fpath = PRINTED_MINCHO if Path(PRINTED_MINCHO).exists() and rng.random() < 0.5 else PRINTED_FONT
    f_big = get_font(fpath, int(band * 1.3))
    f_mid = get_font(fpath, int(band * 1.15))
    f_small = get_font(fpath, int(band * min(1.0, 3.2 / max(1, len(bot)))))
    d.text((pad + w / 2, cy - band * 1.75), top, font=f_big, fill=255, anchor="mm")
    d.text((pad + w / 2, cy), mid, font=f_mid, fill=255, anchor="mm")
    d.text((pad + w / 2, cy + band * 1.7), bot, font=f_small, fill=255, anchor="mm")
    im = im.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BILINEAR)
    a = np.asarray(im).astype(np.float32) / 255
    # uneven ink: patchy pressure and a few dropouts
    low = cv2.resize(
        rng.uniform(0.45, 1.0, (6, 6)).astype(np.float32), a.shape[::-1], interpolation=cv2.INTER_CUBIC
    )
    a *= np.clip(low, 0.3, 1.0) * (rng.random(a.shape, dtype=np.float32) > 0.06)
    a = cv2.GaussianBlur(a, (0, 0), 0.8)
    stamp = (np.clip(a * rng.uniform(0.75, 0.95), 0, 1) * 255).astype(np.uint8)
    out = np.zeros(shape, np.uint8)
    sx0, sy0, sx1, sy1 = STAMP_AREA_MM
    cx_mm = rng.uniform(sx0 + wmm / 2 + 1, sx1 - wmm / 2 - 1)
    cy_mm = rng.uniform(sy0 + hmm / 2 + 2, sy1 - hmm / 2 - 1)
    sig = next((f for f in template.fields if f.kind == "signature"), None)
    if sig is not None and rng.random() < 0.15:  # pushed against the signature box
        cx_mm = sig.box[0] + sig.box[2] + wmm / 2 - rng.uniform(1, 4)
        cy_mm = sig.box[1] + sig.box[3] / 2 + rng.uniform(-3, 3)
    Ink_ = Ink(*shape)
    Ink_.a = out
    Ink_.paste(stamp, int(cx_mm * ppm - stamp.shape[1] / 2), int(cy_mm * ppm - stamp.shape[0] / 2))
    return out


def _composite(blank: np.ndarray, layers: list[tuple[np.ndarray, tuple[float, float, float]]]) -> np.ndarray:
    """Multiply-blend ink layers (alpha, rgb colour 0..255) onto the grey blank (only where there is ink)."""
    rgb = np.repeat(blank[:, :, None], 3, axis=2)
    any_ink = np.zeros(blank.shape, bool)
    for a, _ in layers:
        any_ink |= a > 0
    ys, xs = np.nonzero(any_ink)
    if len(ys) == 0:
        return rgb
    px = rgb[ys, xs].astype(np.float32)
    for a, colour in layers:
        af = a[ys, xs].astype(np.float32)[:, None] / 255
        px *= 1 - af * (1 - np.asarray(colour, np.float32) / 255)
    rgb[ys, xs] = (px + 0.5).astype(np.uint8)
    return rgb


class _Using:
    """Lend the hand another random stream for a block, so its own stream is left as it was."""

    def __init__(self, hand: Hand, rng: np.random.Generator):
        self.hand, self.rng = hand, rng

    def __enter__(self) -> Hand:
        self.saved, self.hand.rng = self.hand.rng, self.rng
        return self.hand

    def __exit__(self, *exc: object) -> None:
        self.hand.rng = self.saved


def render_page(
    template: Any,
    fills: dict[str, profile.Fill],
    hand: Hand,
    rng: np.random.Generator,
    *,
    stamp: bool,
    ink_colour: tuple[float, float, float],
    weight: int = 0,
    p_correction: float = P_CORRECTION,
    extra_rng: np.random.Generator | None = None,
    p_era_unmarked: float = P_ERA_UNMARKED,
    p_full_fill: float = P_FULL_FILL,
    p_label_circle: float = P_LABEL_CIRCLE,
    struck_rng: np.random.Generator | None = None,
    p_struck_mark: float = P_STRUCK_MARK,
    corr_rng: np.random.Generator | None = None,
    p_extra_correction: float = P_EXTRA_CORRECTION,
    p_seal: float = P_SEAL,
    mark_rng: np.random.Generator | None = None,
    lead_rng: np.random.Generator | None = None,
    p_early_start: float = P_EARLY_START,
) -> Rendered:
    blank = load_blank(str(template.blank_path))
    ppm = template.blank_dpi / 25.4
    H, W = blank.shape
    ink = Ink(H, W)
    seal_ink = Ink(H, W)
    corrected: list[str] = []
    marks: dict[str, str] = {}
    corrections: dict[str, dict[str, Any]] = {}
    surname = surname_of(fills)

    def record(name: str, struck: Any, mark: str, where: str | None, bbox: Any, **more: Any) -> None:
        """Note a correction in the truth and, with probability p_seal, press a 訂正印 beside it."""
        info: dict[str, Any] = {"struck_value": struck, "mark": mark, **more}
        if where:
            info["where"] = where
        sealed = False
        if corr_rng is not None:
            # two draws whatever p_seal is, so sealing changes no later correction
            sealed, seed = corr_rng.random() < p_seal, int(corr_rng.integers(1 << 30))
            if sealed:
                srng = np.random.default_rng(seed)
                a = _seal(surname, srng, ppm)
                x0, y0, x1, y1 = bbox
                sx = x1 + srng.uniform(0.0, 0.4) * a.shape[1]
                if sx + a.shape[1] > W:
                    sx = x0 - a.shape[1] * srng.uniform(0.6, 1.0)
                sy = (y0 + y1) / 2 - a.shape[0] / 2 + srng.uniform(-0.3, 0.3) * a.shape[0]
                seal_ink.paste(a, int(sx), int(np.clip(sy, 0, H - a.shape[0])))
        info["seal"] = bool(sealed)
        corrections[name] = info

    def opt_label(opt: Any) -> Box | None:
        return to_px(opt.label, ppm) if getattr(opt, "label", None) is not None else None

    def tick(box_px: Box, label_px: Box | None = None) -> str:
        r = 1.0 if extra_rng is None else extra_rng.random()
        # How far a hurried ✓ or ✗ runs out of its square, from a stream of its own.
        reach = 0.0 if mark_rng is None else float(mark_rng.uniform(0.0, 0.4)) * (mark_rng.random() < 0.5)
        label = None
        if r < p_label_circle:
            label = label_px if label_px is not None else label_box(blank, box_px, ppm)
        if extra_rng is None or (label is None and not r < p_label_circle + p_full_fill):
            return hand.tick(ink, box_px, reach=reach)
        hand.tick(Ink(H, W), box_px)  # same draws from the hand's stream, ink thrown away
        if label is None:
            hand.fill_square(ink, box_px, extra_rng)
            return "fill_full"
        # Hand.circle's ring spans 72-92% of its box: grow the label so the ring clears the text,
        # but not into the square (ink there would be a tick).
        ring = label_ring(label, box_px, ppm)
        with _Using(hand, extra_rng):  # the ring's wobble from the extra stream
            hand.circle(ink, ring)
        return "circle_label"

    for f in template.fields:
        fill = fills[f.name]
        draw = fill.draw
        if not draw:
            continue
        box = to_px(f.box, ppm)
        correct = f.kind in CORRECTABLE and rng.random() < p_correction
        # G3: a correction of any written kind, from its own stream (one draw per drawn field)
        extra = corr_rng is not None and corr_rng.random() < p_extra_correction and not correct
        if "text" in draw:
            text = draw["text"]
            if f.cells is not None:
                cells = cell_boxes(blank, f, ppm)
                digits = text.replace("-", "")
                correct = False
                if extra and corr_rng is not None:
                    hand.write_cells(Ink(H, W), digits, cells)  # the hand's draws, ink thrown away
                    with _Using(hand, corr_rng):
                        struck, mark, where, bb = _write_struck_cells(hand, ink, digits, cells, corr_rng, ppm)
                    if "-" in text and len(struck) == len(digits):
                        struck = text[: text.index("-")] + "-" + struck[text.index("-") :]
                    record(f.name, struck, mark, where, bb)
                    corrected.append(f.name)
                else:
                    hand.write_cells(ink, digits, cells)
            elif f.lines > 1:
                correct = False
                _write_lines(hand, ink, text, box, f.lines, rng)
            elif correct:
                wrong, where, bb = _write_corrected(hand, ink, text, box, rng)
                record(f.name, wrong, "double", where, bb)
            elif extra and corr_rng is not None:
                hand.write(Ink(H, W), text, box)  # the hand's draws, ink thrown away
                with _Using(hand, corr_rng):
                    wrong, where, bb = _write_corrected(hand, ink, text, box, corr_rng)
                record(f.name, wrong, "double", where, bb)
                corrected.append(f.name)
            else:
                hand.write(ink, text, box)
        elif "era" in draw:
            unmarked = bool(f.era_options) and extra_rng is not None and extra_rng.random() < p_era_unmarked
            for opt in f.era_options or []:
                if opt.value == draw["era"]:
                    obox = (
                        to_px(opt.box, ppm) if opt.box is not None else ring_box(to_px(opt.label, ppm), ppm)
                    )
                    # an uncircled era still takes the circle's draws (on a scratch layer)
                    hand.circle(Ink(H, W) if unmarked else ink, obox)
                    marks[f"{f.name}:{opt.value}"] = "circle"
            if unmarked:
                marks = {k: v for k, v in marks.items() if not k.startswith(f"{f.name}:")}
                marks[f"{f.name}:era"] = "unmarked"
            fix = str(rng.choice(["year", "month", "day"])) if correct else None
            late = None
            if extra and corr_rng is not None:
                late = str(corr_rng.choice(["year", "month", "day"]))
            for part in ("year", "month", "day"):
                pbox = to_px(getattr(f.parts, part), ppm)
                # Decided by the part's own value, no draw: every other page stays as it was.
                over = zlib.crc32(f"{f.name}:{part}:{draw[part]}".encode()) % 100 < P_PART_OVER * 100
                if part == fix:
                    wrong, where, bb = _write_corrected(hand, ink, draw[part], pbox, rng, over)
                    record(f.name, wrong, "double", where, bb, part=part)
                elif part == late and corr_rng is not None:
                    hand.write(Ink(H, W), draw[part], pbox, hfrac=(0.5, 0.75), align="center")
                    with _Using(hand, corr_rng):
                        wrong, where, bb = _write_corrected(hand, ink, draw[part], pbox, corr_rng, over)
                    record(f.name, wrong, "double", where, bb, part=part)
                    corrected.append(f.name)
                elif (digit_cells := part_cells(blank, pbox)) and len(digit_cells) >= len(draw[part]):
                    # one digit to a printed cell, the last cells when fewer digits than cells
                    hand.write_cells(ink, draw[part], digit_cells[-len(draw[part]) :])
                elif lead_rng is not None and lead_rng.random() < p_early_start:
                    x, y, w, h = (int(round(v)) for v in pbox)
                    # the part's rows only: free_before looks nowhere else
                    free = float(free_before(blank[y : y + h] < 160, (x, 0, w, h), int(EARLY_MM * ppm)))
                    shift = lead_rng.uniform(0.6, 1.0) * free
                    early = (pbox[0] - shift, pbox[1], pbox[2], pbox[3])
                    hand.write(ink, draw[part], early, hfrac=(0.5, 0.75), align="left")
                    if free >= ppm:
                        marks[f"{f.name}:{part}"] = "early"
                else:
                    hand.write(ink, draw[part], pbox, hfrac=(0.5, 0.75), align="center")
        elif "marks" in draw:
            correct = False
            if struck_rng is not None and struck_rng.random() < p_struck_mark:
                wrong = [o for o in f.options or [] if o.value not in draw["marks"]]
                if wrong:
                    struck = wrong[int(struck_rng.integers(len(wrong)))]
                    sbox = (
                        to_px(struck.box, ppm) if struck.box is not None else ring_box(opt_label(struck), ppm)
                    )
                    how, bb = _struck_mark(hand, ink, blank, sbox, ppm, struck_rng, opt_label(struck))
                    marks[f"{f.name}:{struck.value}"] = "struck"
                    corrected.append(f.name)
                    record(f.name, struck.value, how, None, bb)
            for opt in f.options or []:
                if opt.value in draw["marks"]:
                    if opt.box is None:  # a label alone: writers ring it
                        hand.circle(ink, ring_box(opt_label(opt), ppm))
                        marks[f"{f.name}:{opt.value}"] = "circle_label"
                        continue
                    obox = to_px(opt.box, ppm)
                    if is_square_option(blank, obox):
                        marks[f"{f.name}:{opt.value}"] = tick(obox, opt_label(opt))
                    else:
                        hand.circle(ink, obox)
                        marks[f"{f.name}:{opt.value}"] = "circle"
        elif draw.get("tick"):
            correct = False
            marks[f.name] = tick(box)
        elif "scribble" in draw:
            correct = False
            hand.signature(ink, draw["scribble"], box)
        if correct:
            corrected.append(f.name)
    pen = ink.a
    if weight > 0:
        pen = cv2.dilate(pen, np.ones((weight + 1, weight + 1), np.uint8))
    elif weight < 0:
        pen = cv2.erode(pen, np.ones((2, 2), np.uint8))
    layers = [(pen, ink_colour)]
    stamp_a = None
    if stamp:
        stamp_a = _stamp(template, fills, rng, (H, W), ppm)
        red = (rng.uniform(200, 235), rng.uniform(30, 70), rng.uniform(40, 80))
        layers.append((stamp_a, red))
    seal_a = None
    if seal_ink.a.any() and corr_rng is not None:
        seal_a = seal_ink.a
        layers.append(
            (seal_a, (corr_rng.uniform(195, 230), corr_rng.uniform(25, 60), corr_rng.uniform(35, 70)))
        )
    return Rendered(_composite(blank, layers), pen, stamp_a, corrected, marks, corrections, seal_a)
