"""Where a date's year, month and day are written, found on the blank when a template omits `parts`.

A form that prints 年, 月 and 日 in a date's box (`令和 [□]年[□]月[□]日`, cells per digit, or a
plain line) is read one number at a time, each against the numbers its place may hold. A template
written without `parts` made the reader take the whole box as one written string, with the print
dropped out: on our child-allowance form its dates read 17.7% exact against 78.9% with `parts`
(docs/benchmarks.md, twentieth session). The printed units are on the blank, so the parts are too:

- the blank's print in the field's box is cut into glyph-sized pieces, each read by the recogniser
  (the caller's `read`), and the pieces that read 年, 月 and 日, left to right, are the units;
- each number is written just before its unit, on the unit's row: the part runs back from the
  unit to the previous unit (or the box's start), stopping at any other print there (the eras);
- where the print there holds frames taller than the unit (a box, a pair of digit cells, the
  dividers of a table row), the part is those frames, from top to bottom; on a plain line it is
  the free paper before the unit, from above the unit's top to below its foot.

`with_found_parts` adds the parts to each date field without them, and its era where the template
gives none (a `date` with eras printed in its box becomes a `date_wareki`), and lists them among
the template's inferred hints, so `template check` prints and draws them. Pure: the caller loads
the blank and gives the recogniser.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

import cv2
import numpy as np

from pipeline.forms.defaults import INFER_UNMARKED_ERA
from pipeline.forms.overlay import mm_to_px
from pipeline.forms.template import DateParts, FieldSpec, Option, Template

PxBox = tuple[int, int, int, int]  # x, y, width, height in pixels of the blank
ReadGlyphs = Callable[[list[np.ndarray]], Sequence[str]]  # crops of print -> the text of each
Glyph = tuple[PxBox, str]  # a piece of print and what it reads

ERAS = ("明治", "大正", "昭和", "平成", "令和")
ERA_GAP = 1.0  # an era's two characters stand at most this many glyph heights apart

UNITS = ("年", "月", "日")
PRINT_LEVEL = 160  # a blank's print is dark: under this grey
GLUE_MM = 0.35  # strokes this close are one glyph (和 is 禾 and 口 apart)
GLYPH_MM = (1.5, 9.0)  # a printed glyph's height (a unit, an era, a box) lies between these
PAD_MM = 0.8  # paper round a glyph when it is read alone
FRAME = 1.3  # print taller than this many unit heights is a frame (a box, a cell divider)
# On a plain line, unit heights kept clear after other print (a ring round 平成 reaches past it)
# and after the previous unit (what dropout leaves of its edge).
ERA_CLEARANCE = 0.5
UNIT_CLEARANCE = 0.15
ABOVE, BELOW = (
    1.0,
    2.0,
)  # a plain line's writing: from this many unit heights above the unit's top to below it
NARROWEST = 0.6  # a part narrower than this many unit heights holds no number: not found


def _print_pieces(crop: np.ndarray, px_per_mm: float) -> list[PxBox]:
    """The print of `crop` as pieces (bounding boxes of strokes glued at `GLUE_MM`), without the
    long rules of a table row, which would join every cell divider into one grid."""
    ink = (crop < PRINT_LEVEL).astype(np.uint8)
    h = crop.shape[0]
    rule = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(1.5 * h)), 1))
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, rule, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    ink &= 1 - cv2.dilate(rules, np.ones((3, 3), np.uint8))
    glue = max(1, round(GLUE_MM * px_per_mm))
    joined = cv2.dilate(ink, np.ones((glue, glue), np.uint8))
    n, labels = cv2.connectedComponents(joined, connectivity=8)
    # Each piece's box is its own ink's, not the glue's (which widens it by the glue).
    ys, xs = np.nonzero(ink)
    which = labels[ys, xs]
    x0, y0 = np.full(n, 1 << 30), np.full(n, 1 << 30)
    x1, y1 = np.full(n, -1), np.full(n, -1)
    np.minimum.at(x0, which, xs)
    np.minimum.at(y0, which, ys)
    np.maximum.at(x1, which, xs)
    np.maximum.at(y1, which, ys)
    return [
        (int(x0[i]), int(y0[i]), int(x1[i] - x0[i] + 1), int(y1[i] - y0[i] + 1))
        for i in range(1, n)
        if x1[i] >= 0
    ]


def _read_glyphs(crop: np.ndarray, pieces: list[PxBox], px_per_mm: float, read: ReadGlyphs) -> list[Glyph]:
    """The pieces of a glyph's size, each with what the recogniser reads in it alone."""
    lo, hi = GLYPH_MM[0] * px_per_mm, GLYPH_MM[1] * px_per_mm
    glyphs = [p for p in pieces if lo <= p[3] <= hi and lo / 2 <= p[2] <= hi]
    if not glyphs:
        return []
    pad = max(2, round(PAD_MM * px_per_mm))
    crops = []
    for x, y, w, h in glyphs:
        g = np.full((h + 2 * pad, w + 2 * pad), 255, np.uint8)
        g[pad : pad + h, pad : pad + w] = crop[y : y + h, x : x + w]
        crops.append(g)
    return [(g, t.strip()) for g, t in zip(glyphs, read(crops), strict=True)]


def _units(glyphs: list[Glyph]) -> list[PxBox] | None:
    """The glyphs that read 年, 月 and 日, in that order left to right (the tightest such three
    where a label's own 日, as in 提出日, is printed there too); None when one is missing."""
    found = [[g for g, t in glyphs if t == u] for u in UNITS]
    runs = [c for c in product(*found) if c[0][0] < c[1][0] < c[2][0]]
    if not runs:
        return None
    return list(min(runs, key=lambda c: c[2][0] - c[0][0]))


def _eras(glyphs: list[Glyph], year: PxBox) -> list[tuple[str, PxBox]]:
    """The era names printed before the year's unit (to its left, or above it), top to bottom
    and left to right, each with its printed text's box: a glyph that reads a whole name, or two
    side by side on one row that read its two characters."""
    ahead = [
        (g, t)
        for g, t in glyphs
        if (g[0] + g[2] <= year[0] and g[1] <= year[1] + year[3]) or g[1] + g[3] <= year[1]
    ]
    out: list[tuple[str, PxBox]] = []
    used: set[PxBox] = set()
    for g, t in sorted(ahead, key=lambda gt: (gt[0][1], gt[0][0])):
        if g in used:
            continue
        if t in ERAS:
            out.append((t, g))
            continue
        for h, u in ahead:
            same_row = min(g[1] + g[3], h[1] + h[3]) - max(g[1], h[1]) >= 0.5 * min(g[3], h[3])
            beside = 0 <= h[0] - (g[0] + g[2]) <= ERA_GAP * g[3]
            if h not in used and same_row and beside and t + u in ERAS:
                x0, y0 = min(g[0], h[0]), min(g[1], h[1])
                x1, y1 = max(g[0] + g[2], h[0] + h[2]), max(g[1] + g[3], h[1] + h[3])
                out.append((t + u, (x0, y0, x1 - x0, y1 - y0)))
                used |= {g, h}
                break
    return out


@dataclass(frozen=True)
class Found:
    """What a date's box on the blank shows: where its numbers go (pixels of the crop) and the
    era names printed before them."""

    parts: list[PxBox]
    eras: list[tuple[str, PxBox]]


def find_date(crop: np.ndarray, px_per_mm: float, read: ReadGlyphs) -> Found | None:
    """The parts and printed eras of `crop` (the blank's grey, cut to a date field's box); None
    when its print does not hold 年, 月 and 日 in order with room before each."""
    pieces = _print_pieces(crop, px_per_mm)
    glyphs = _read_glyphs(crop, pieces, px_per_mm, read)
    units = _units(glyphs)
    if units is None:
        return None
    parts = _parts(crop, pieces, units)
    return None if parts is None else Found(parts, _eras(glyphs, units[0]))


def find_parts(crop: np.ndarray, px_per_mm: float, read: ReadGlyphs) -> list[PxBox] | None:
    """The year, month and day parts in `crop`, in its pixels (`find_date`)."""
    found = find_date(crop, px_per_mm, read)
    return None if found is None else found.parts


def _parts(crop: np.ndarray, pieces: list[PxBox], units: list[PxBox]) -> list[PxBox] | None:
    """Each number's part, running back from its unit (see the module's docstring)."""
    height = crop.shape[0]
    parts: list[PxBox] = []
    start = 0
    for ux, uy, uw, uh in units:
        top, foot = uy - 0.2 * uh, uy + 1.2 * uh  # the unit's row

        def before(p: PxBox, start: int = start, ux: int = ux, top: float = top, foot: float = foot) -> bool:
            return p[1] < foot and p[1] + p[3] > top and p[0] >= start - 1 and p[0] + p[2] <= ux + 1

        region = [p for p in pieces if before(p) and p not in units]
        frames = [p for p in region if p[3] >= FRAME * uh]
        others = [p for p in region if p[3] < FRAME * uh]
        if frames:
            # The frames nearest the unit with no other print (an era) between them and it.
            after = max(
                (p[0] + p[2] for p in others if p[0] + p[2] <= max(f[0] for f in frames)), default=start
            )
            frames = [f for f in frames if f[0] >= after - 1] or frames
            x0, x1 = min(f[0] for f in frames), max(f[0] + f[2] for f in frames)
            y0, y1 = min(f[1] for f in frames), max(f[1] + f[3] for f in frames)
        else:
            x0 = start + round(UNIT_CLEARANCE * uh) if start else 0
            if others:
                x0 = max(x0, max(p[0] + p[2] for p in others) + round(ERA_CLEARANCE * uh))
            x1 = ux
            y0, y1 = max(0, round(uy - ABOVE * uh)), min(height, round(uy + BELOW * uh))
        if x1 - x0 < NARROWEST * uh:
            return None
        parts.append((int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
        start = ux + uw
    return parts


def wants_parts(f: FieldSpec) -> bool:
    """A date without `parts`: they may be on the blank (and for a `date`, printed eras that make
    it a wareki date)."""
    return f.kind in ("date_wareki", "date") and f.parts is None


def _mm(box: PxBox, origin: tuple[int, int], px_per_mm: float) -> tuple[float, float, float, float]:
    x, y, w, h = box
    return (
        round((x + origin[0]) / px_per_mm, 1),
        round((y + origin[1]) / px_per_mm, 1),
        round(w / px_per_mm, 1),
        round(h / px_per_mm, 1),
    )


def with_found_parts(tpl: Template, blank: np.ndarray, read: ReadGlyphs) -> Template:
    """`tpl` with `parts` found on `blank` (grey, at the template's `blank_dpi`) for each field
    that `wants_parts`, and its era where the template gives none: the one era printed before the
    year (`era`), or the several to circle (`era_options`, their printed text as `label`, an
    unmarked one inferred as the defaults say). A date with no era given or printed keeps no parts
    (it is read as one written string). Each hint found is listed in `Template.inferred`; the
    template itself when nothing is wanted or found."""
    wanted = [i for i, f in enumerate(tpl.fields) if wants_parts(f)]
    if not wanted:
        return tpl
    k = tpl.blank_dpi / 25.4
    fields = list(tpl.fields)
    said: list[str] = []
    for i in wanted:
        f = fields[i]
        x, y, w, h = mm_to_px(f.box, tpl.blank_dpi)
        origin = (max(0, x), max(0, y))
        crop = blank[origin[1] : y + h, origin[0] : x + w]
        found = find_date(crop, k, read) if crop.size else None
        if found is None:
            continue
        update: dict[str, Any] = {}
        if not (f.era or f.era_options):
            names = [name for name, _ in found.eras]
            if not names or len(set(names)) != len(names):
                continue
            if f.kind == "date":
                # 令和 ＿年＿月＿日 printed: a wareki date, whatever the template's kind says (a
                # development set's field list calls every date `date`); read as `date` (西暦 digits)
                # not one of dev set A's dates came out right.
                update["kind"] = "date_wareki"
                said.append(f"{f.name}: kind date_wareki (eras printed on the blank)")
            if len(names) == 1:
                update["era"] = names[0]
                said.append(f"{f.name}: era {names[0]} (found on the blank)")
            else:
                update["era_options"] = [Option(value=n, label=_mm(b, origin, k)) for n, b in found.eras]
                if "infer_when_unmarked" not in f.model_fields_set:
                    update["infer_when_unmarked"] = INFER_UNMARKED_ERA
                labels = ", ".join(f"{{value: {n}, label: {list(_mm(b, origin, k))}}}" for n, b in found.eras)
                said.append(f"{f.name}: era_options [{labels}] (found on the blank)")
        year, month, day = (_mm(p, origin, k) for p in found.parts)
        update["parts"] = DateParts(year=year, month=month, day=day)
        fields[i] = f.model_copy(update=update)
        said.append(
            f"{f.name}: parts {{year: {list(year)}, month: {list(month)}, day: {list(day)}}} (found on the blank)"
        )
    if not said:
        return tpl
    out = tpl.model_copy(update={"fields": fields})
    out._inferred = tpl.inferred + tuple(said)
    return out
