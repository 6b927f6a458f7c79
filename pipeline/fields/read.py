"""Read each field of an aligned, dropped-out page according to its kind.

Hands on one `RawField` per template field: the raw reading (text, chosen option(s) or a bool),
its per-character probabilities, a confidence, reading problems (e.g. a correction mark), the
pixel box, and the ink crop for the review page. Normalisation and validation come after.

What differs by kind is looked up in two tables, `PLANNERS` (marks read here, text cut into OCR
jobs) and `FINISHERS` (OCR readings joined into the raw value); the corrections applied to the
recogniser's output are the named passes of passes.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date

import cv2
import numpy as np

from pipeline.fields import daterepair, dates, passes
from pipeline.fields import ink as inkmod
from pipeline.fields import options as optmod
from pipeline.fields.calibration import MARK_KINDS, is_empty_reading
from pipeline.fields.geometry import PxBox, grow, mm_box_to_px, mm_to_px, shift
from pipeline.fields.marks import (
    MARK_OFF,
    MARK_ON,
    SIGNATURE_OFF,
    SIGNATURE_ON,
    read_mark_box,
    read_marks,
    read_marks_conf,
)
from pipeline.fields.plan import CONSTRAINTS, DATE_PART, Job, RawField, Region, number_constraint
from pipeline.forms.template import FieldSpec, Option
from pipeline.imaging.dropout import drop_form, paper_level
from pipeline.ocr.decode import Constraint, decode
from pipeline.ocr.recognizer import Recognizer
from pipeline.result import Char, Issue, Reading

MARK_RING_MM = 2.5  # paper round a single mark box, to measure its paper level against
STRAY_INK = 0.002  # ink share of a choice field's box that is writing, not noise
# Kinds written mostly in kanji: their strokes lie close together, and the faint halo between
# them would join strokes into blots, so only sure ink is kept (ink.with_faint_strokes), unless
# the writing is broken (`note_broken`): then its light parts are all there is of it.
DENSE_KINDS = frozenset({"text_ja", "free_text"})
# Crops of digits only (a date part, a number, a row of digit cells): a strike through one digit
# is shorter than a character's height (inkmod.STRIKE_MIN_LEN_DIGITS).
DIGIT_CHARSETS = frozenset({"digits", "number", "postal"})
# Fields with broken writing (issue broken_ink) from which a page's pen is taken to have faded
# below the scan's threshold in places: an empty box there may be writing that vanished.
BROKEN_PAGE_FIELDS = 4
# Required fields read as empty from which the page's writing is taken to have vanished (a light
# pen on a fax can leave no trace at all, so no field shows broken ink): a writer who leaves one
# required box blank is common, three or more on one page is far likelier writing the scan lost.
EMPTY_REQUIRED_PAGE_FIELDS = 3
# Numbers written in small boxes: their strokes are followed out of the box (`overflowing`).
# Not phones: in their long box a digit's top cut by the printed border was followed no better,
# and the clean cut made the misread surer (7 read 1 accepted on our generator's pages). Not date
# parts: their readings are chosen from lists of valid numbers already, and following the
# overrun lost 0.5 point of exact dates on both benches (a blurred 7's blob, a blot under a 2).
OVERFLOW_KINDS = frozenset({"number"})
OVERFLOW_MM = 1.5  # how far past the box a stroke is followed
# Share of a stroke that must lie in the box for its overrun to be followed: a digit's tip, not
# a blot, seal or underline it touches.
OVERFLOW_INSIDE = 0.7
OVERFLOW_BRIDGE_MM = 0.3  # a box border's width: dropout cuts a stroke crossing it there
PRINT_GROW_PX = 2  # dropout.print_mask's default grow_px
# A straight run in the margin this long (of the box's smaller side) is a border left by
# dropout, never followed: a digit's overrun is shorter or curved.
OVERFLOW_LINE = 0.4
# A date's number struck in its box with nothing beside it has its new value written over the
# box, in the margin above the row (the dev set's writers: 28 struck, 27 written above): it is
# looked for this far above the number's box.
STRUCK_ABOVE_MM = 6.0
STRUCK_ABOVE_SIDE_MM = 2.0
# Writers start a date's number where the line's free paper starts, not where the template's box
# does (昭和・平成 61, the 6 under 平成's tail; dev set A: a year's first digit wholly left of its
# box, read as 昭和1 or 平成2 for 12). A date part's crop takes in the free paper before its box,
# up to DATE_LEAD_MM (`ink.free_before`), and DATE_LEAD_BEYOND_MM over the print there: ink reaching
# that far over the print is the print's side's (a ring round the era before the year), ink that
# stops short of it is the box's (`ink.written_before`).
DATE_LEAD_MM = 2.5
DATE_LEAD_BEYOND_MM = 1.0
DATE_LEAD_MIN_MM = 1.0  # narrower free paper is a printed box's own inset: the writing is inside it
# A date part printed as a box: writers start its number against or over the box's left border (a
# 1 of 10 drawn along it). The border starts within BORDER_GAP_MM of the inset box and is at most
# BORDER_RULE_MM wide; past it, free paper as for an open date (`border_before`).
BORDER_GAP_MM = 1.0
BORDER_RULE_MM = 1.0
# A strike through one digit of a digit box may run past its cell by this share of the cell's width.
CELL_STRIKE_SLACK = 0.3
# The job slot of a struck facility name read as written, beside the reading with the strike
# dropped (`text_jobs`).
UNSTRUCK = "unstruck"
# A number field whose min..max allows this many values or fewer (an age class, hours in a week) is
# read against them as a closed list; a wider range is read free and checked after.
NUMBER_WORDS_MAX = 200
UNREAD_WRITING_CONFIDENCE = 0.3  # a number box with writing in it that was read as nothing


class PageReader:
    """Cuts fields from one aligned page. OCR crops are collected first and recognised in one
    batch, because the recogniser is much cheaper per crop when crops share a call."""

    def __init__(
        self,
        aligned: np.ndarray,
        blank: np.ndarray,
        print_mask: np.ndarray,
        dpi: int,
        vocabularies: dict[str, tuple[str, ...]] | None = None,
        today: date | None = None,
    ) -> None:
        self.vocabularies = vocabularies or {}
        self.today = today or date.today()
        self.aligned = aligned
        self.blank = blank
        self.print_mask = print_mask
        self.paper = paper_level(aligned)
        # The paper where the page is paper: on a page half blacked out the median is no paper.
        self.bright_paper = float(np.percentile(aligned[::4, ::4], 90)) if aligned.size else 255.0
        self.dpi = dpi
        self.size = (aligned.shape[1], aligned.shape[0])
        self.min_area = max(4, round((dpi / 100) ** 2 * 2))
        self.search = max(2, round(dpi / 50))
        self._era_looks_by_field: dict[str, list[optmod.OptionLook]] = {}

    # -- geometry -------------------------------------------------------------------------
    def px(self, box_mm: tuple[float, float, float, float], inset_mm: float = 0.6) -> Region:
        """Where a template box lies on this page: the blank's box and the page's (shifted) box."""
        b = mm_box_to_px(box_mm, self.dpi, inset_mm)
        dx, dy = inkmod.local_shift(self.aligned, self.blank, b, self.search)
        return Region(b, shift(b, dx, dy))

    def written_above(self, r: Region, mm: float) -> np.ndarray | None:
        """The page over the box `r`, up to `mm` above it and `STRUCK_ABOVE_SIDE_MM` wider each
        side (as a hand writes there), cut to the writing's columns, when it holds writing of its
        own; else None. The crop keeps the print: the new value is often written on the row's
        border, and dropping the border out would cut away the strokes along it (a 2's foot)."""
        strip = self._strip_above(r, mm)
        if strip is None:
            return None
        mask = self.ink_mask(strip, faint=True)
        rows = np.flatnonzero(mask.any(axis=1))
        # Writing that runs on out of the strip's top is the row above's own (a name written low).
        if mask.sum() < self.min_area * 6 or rows[0] <= 1:
            return None
        cols = np.flatnonzero(mask.any(axis=0))
        x, y, w, h = strip.page
        pad = max(3, h // 8)
        x0, x1 = max(0, int(cols[0]) - pad), min(w, int(cols[-1]) + 1 + pad)
        return self.aligned[y : y + h, x + x0 : x + x1].copy()

    def _cell_corrected(
        self,
        spec: FieldSpec,
        b: Region,
        crop: np.ndarray,
        mask: np.ndarray,
        found: list[inkmod.Strike],
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """A digit box's crop and ink with one cell's struck digit replaced by the digit written
        over that cell (the dev set's writers strike a digit of a 〒 or 個人番号 in its cell and
        write the new one above it, between the rows), so the row reads as the applicant meant;
        None when no strike lies within one cell, or nothing is written over it."""
        cells = [self.px(c) for c in spec.cell_boxes()]
        x_in = b.page[0]
        hits = []
        for st in found:
            mid = (st.x0 + st.x1) / 2 + x_in
            for i, c in enumerate(cells):
                cx, _, cw, _ = c.page
                slack = CELL_STRIKE_SLACK * cw
                if cx <= mid < cx + cw and st.x0 + x_in >= cx - slack and st.x1 + x_in <= cx + cw + slack:
                    hits.append(i)
        if len(set(hits)) != 1:
            return None
        cell = cells[hits[0]]
        new = self._digit_above(cell, STRUCK_ABOVE_MM)
        if new is None:
            return None
        gray, ink = new
        x0 = max(0, cell.page[0] - x_in)
        x1 = min(crop.shape[1], cell.page[0] + cell.page[2] - x_in)
        crop, mask = crop.copy(), mask.copy()
        crop[:, x0:x1] = 255
        mask[:, x0:x1] = False
        rows = np.flatnonzero(mask.any(axis=1))
        top, height = (int(rows[0]), int(rows[-1] - rows[0] + 1)) if rows.size else (0, crop.shape[0])
        scale = min(height / ink.shape[0], 0.9 * (x1 - x0) / ink.shape[1])
        w, h = max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale))
        g = cv2.resize(gray, (w, h), interpolation=cv2.INTER_AREA)
        m = cv2.resize(ink.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
        px, py = x0 + max(0, (x1 - x0 - w) // 2), min(top, crop.shape[0] - h)
        h, w = min(h, crop.shape[0] - py), min(w, crop.shape[1] - px)
        crop[py : py + h, px : px + w] = np.where(m[:h, :w], g[:h, :w], crop[py : py + h, px : px + w])
        mask[py : py + h, px : px + w] |= m[:h, :w]
        return crop, mask

    def _digit_above(self, r: Region, mm: float) -> tuple[np.ndarray, np.ndarray] | None:
        """The writing over the cell `r` (up to `mm` above it, `STRUCK_ABOVE_SIDE_MM` wider each
        side), as its grey crop with the form dropped out and its ink mask, cut to the writing;
        None when there is none, or it runs on out of the strip's top (the row above's own)."""
        strip = self._strip_above(r, mm)
        if strip is None:
            return None
        gray = self.crop(strip)
        mask = self.ink_mask(strip, gray, faint=True)
        bb = inkmod.bbox(mask)
        if bb is None or mask.sum() < self.min_area * 6 or bb[1] <= 1:
            return None
        x, y, w, h = bb
        return gray[y : y + h, x : x + w], mask[y : y + h, x : x + w]

    def _strip_above(self, r: Region, mm: float) -> Region | None:
        """The page over the box `r`, up to `mm` above it and `STRUCK_ABOVE_SIDE_MM` wider each
        side (as a hand writes there); None when the page leaves no room."""
        g, side = mm_to_px(mm, self.dpi), mm_to_px(STRUCK_ABOVE_SIDE_MM, self.dpi)

        def over(box: PxBox) -> PxBox:
            x, y, w, _ = box
            top, left = max(0, y - g), max(0, x - side)
            return (left, top, w + x - left + side, y - top)

        strip = Region(over(r.blank), over(r.page))
        return None if strip.page[3] < 4 else strip

    def crop(self, r: Region) -> np.ndarray:
        """Grey page crop with the printed form dropped out, registered locally."""
        x, y, w, h = r.page
        bx, by, _, _ = r.blank
        page = self.aligned[max(0, y) : y + h, max(0, x) : x + w]
        mask = self.print_mask[by : by + page.shape[0], bx : bx + page.shape[1]]
        if mask.shape != page.shape:  # at the page edge: keep shapes equal
            page = page[: mask.shape[0], : mask.shape[1]]
        return drop_form(page, mask, self.paper)

    def ink_mask(
        self,
        r: Region,
        crop: np.ndarray | None = None,
        paper: float | None = None,
        faint: bool = False,
        specks: bool = False,
    ) -> np.ndarray:
        """The field's ink; with `specks`, before the specks are cleaned away."""
        crop = self.crop(r) if crop is None else crop
        _, _, w, h = r.page
        m = inkmod.binarize(crop, paper)
        if faint:  # writing to be read: keep the light parts of its strokes (before rule removal)
            m = inkmod.with_faint_strokes(m, crop, inkmod.paper_level(crop) if paper is None else paper)
        m = inkmod.remove_rules(m, max(8, int(min(w, h) * 0.9)))
        return m if specks else inkmod.clean(m, self.min_area)

    def note_broken(self, rf: RawField, mask: np.ndarray) -> bool:
        """Hold a field whose writing the scan broke into fragments (`ink.broken_share`): what
        is read from dashes and dots, or a stroke read as nothing, is a guess however sure the
        recogniser is (a fax's 4 without its bar reads as a confident 1). True when broken."""
        if inkmod.broken_share(mask, self.min_area) < inkmod.BROKEN_SHARE:
            return False
        if any(i.code == "broken_ink" for i in rf.issues):
            return True
        rf.issues.append(
            Issue(
                "broken_ink",
                "筆跡がかすれて途切れています（FAX・薄いペン）。原本と照合してください。",
                (rf.spec.name,),
            )
        )
        return True

    # -- per kind -------------------------------------------------------------------------
    def text_jobs(
        self,
        rf: RawField,
        slot: str,
        b: Region,
        constraint: Constraint,
        above_mm: float = 0.0,
        before: bool = False,
        crossing: bool = False,
    ) -> list[Job]:
        """The OCR jobs of one box. With `above_mm`, a box whose writing is all struck, with no new
        value beside it, is read from the strip that far above it instead, where the new value is
        written over the box (a date's number, corrected in the margin over the row). With
        `before`, writing on the free paper just before the box is the box's too (`free_before`,
        or past the box's printed left border, `written_past_border`); with `crossing` alone (a
        ring round the era there), only strokes that cross that border into the box."""
        faint = rf.spec.kind not in DENSE_KINDS
        if rf.spec.kind in OVERFLOW_KINDS:
            crop, mask = self.overflowing(rf, b)
            paper = inkmod.paper_level(crop)
        else:
            lead = self.free_before(b) if before else 0
            border = 0
            # Before a ringed era only strokes crossing the border count: no piece is tall enough.
            tall = inkmod.LEAD_HEIGHT if before else np.inf
            if (before or crossing) and not lead:
                border, free = self.written_past_border(b, tall)
                lead = border + free
            if lead:
                lead = min(lead + mm_to_px(DATE_LEAD_BEYOND_MM, self.dpi), b.blank[0], b.page[0])
            r = b if not lead else Region(_widen_left(b.blank, lead), _widen_left(b.page, lead))
            crop = self.crop(r)
            paper = inkmod.paper_level(crop)
            mask = self.ink_mask(r, crop, paper, faint=faint, specks=True)
            if self.note_broken(rf, mask):
                # Broken writing has no close strokes to blot together: its light parts are
                # what is left of it, in kanji fields too.
                crop = inkmod.mend_strokes(crop)
                mask = self.ink_mask(r, crop, paper, faint=True, specks=True)
            mask = inkmod.clean(mask, self.min_area)
            if border:
                mask, crop = self._written_over_border(r, mask, crop, lead, border, paper, tall)
                if not any(i.code == "written_over_border" for i in rf.issues):  # once per date
                    rf.issues.append(_over_border(rf.spec.name))
            elif lead:
                bx, by, _, _ = r.blank
                pm = self.print_mask[by : by + mask.shape[0], bx : bx + mask.shape[1]]
                near = cv2.dilate(pm.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
                mask = inkmod.written_before(mask, lead, near if near.shape == mask.shape else None)
                crop = crop.copy()
                crop[:, :lead] = np.where(mask[:, :lead], crop[:, :lead], round(paper))
        if mask.sum() < self.min_area * 6 and not (
            rf.spec.kind in OVERFLOW_KINDS and inkmod.written_stroke(mask, b.page[3])
        ):
            return []
        bb = inkmod.bbox(mask)
        if bb is None:  # cannot happen past the ink-area test above, but bbox may say so
            return []
        # Strikes are looked for in the faint ink too: a correction line is often drawn lighter
        # or faster than the writing it cancels.
        seen = mask if rf.spec.kind not in DENSE_KINDS else self.ink_mask(b, crop, paper, faint=True)
        digits = constraint == DATE_PART or constraint.charset in DIGIT_CHARSETS
        found, loosely = inkmod.strikes_sure_and_loose(seen, max(2, rf.spec.lines + 1), digits, self.dpi)
        strikes = [s for s in found if _struck_first(seen, s)]
        alone = [s for s in found if _struck_alone(seen, s)]
        if not strikes and not alone and above_mm > 0 and digits:
            # A number struck with a broad pen (one bar no deeper than its strokes) is only a
            # strike with the new value written over the box as well: looked for loosely here.
            alone = [s for s in loosely if _struck_alone(seen, s)]
        if not strikes and above_mm > 0 and alone:
            over = self.written_above(b, above_mm)
            if over is not None:
                rf.issues.append(_correction(rf.spec.name))
                return [Job(rf.spec.name, slot, over, constraint, kind=rf.spec.kind)]
        if found and not strikes and rf.spec.cells is not None:
            mended = self._cell_corrected(rf.spec, b, crop, mask, found)
            if mended is not None:
                rf.issues.append(_correction(rf.spec.name))
                crop, mask = mended
                bb = inkmod.bbox(mask) or bb
        unstruck: list[Job] = []
        if strikes:
            rf.issues.append(_correction(rf.spec.name))
            if passes.is_facility_name(rf.spec.name) and not digits:
                # Read as written too: a "strike" that leaves only the ending (保育ルーム) was the
                # name's own level strokes (子安台's bars) or a crease (`_unstrike`).
                sub, ink = _ink_crop(crop, mask, paper, bb)
                unstruck = [Job(rf.spec.name, UNSTRUCK, sub, constraint, ink=ink, kind=rf.spec.kind)]
            crop, mask = _drop_struck(crop, mask, seen, strikes, digits)
            paper = inkmod.paper_level(crop)
            bb = inkmod.bbox(mask)
            if bb is None:
                return []
        sub, ink = _ink_crop(crop, mask, paper, bb)
        bands = inkmod.split_lines(ink, rf.spec.lines)
        if len(bands) <= 1:
            cut = inkmod.segment_gap(ink) if constraint.charset == "address" else None
            if cut is not None:
                # Town and number, then the building: each segment read on its own (segment_gap).
                return [
                    Job(
                        rf.spec.name,
                        f"{slot}#{i}",
                        sub[:, a:b],
                        constraint,
                        ink=ink[:, a:b],
                        kind=rf.spec.kind,
                    )
                    for i, (a, b) in enumerate(((0, cut), (cut, ink.shape[1])))
                ]
            return [Job(rf.spec.name, slot, sub, constraint, ink=ink, kind=rf.spec.kind), *unstruck]
        return [
            Job(rf.spec.name, f"{slot}#{i}", sub[max(0, a - 2) : b2 + 2], constraint)
            for i, (a, b2) in enumerate(bands)
        ]

    def overflowing(self, rf: RawField, b: Region) -> tuple[np.ndarray, np.ndarray]:
        """A number's crop and ink mask, with the strokes that run out of the box followed.

        Writers overrun small boxes (the top of a 3 above an age box), and a digit cut at the box
        edge is another digit (3 → 5). The ink inside the box is found and kept as for any field;
        ink in a margin of OVERFLOW_MM round it is added where it continues a stroke from inside
        and that stroke lies at least OVERFLOW_INSIDE in the box, so a neighbour's writing stays
        out. Straight lines in the margin (the box's own border, where dropout missed it) are
        never followed. Broken writing in the box is held as in any field (`note_broken`)."""
        crop_in = self.crop(b)
        inside = self.ink_mask(b, crop_in, inkmod.paper_level(crop_in), faint=True, specks=True)
        self.note_broken(rf, inside)
        inside = inkmod.clean(inside, self.min_area)
        g = max(1, mm_to_px(OVERFLOW_MM, self.dpi))
        big = Region(grow(b.blank, g, self.size), grow(b.page, g, self.size))
        crop = self.crop(big)
        paper = inkmod.paper_level(crop)
        x0, y0 = b.page[0] - big.page[0], b.page[1] - big.page[1]
        ih, iw = inside.shape
        if x0 < 0 or y0 < 0 or y0 + ih > crop.shape[0] or x0 + iw > crop.shape[1]:
            return crop_in, inside  # at the page edge: no margin to follow strokes into
        inner = np.zeros(crop.shape, bool)
        inner[y0 : y0 + ih, x0 : x0 + iw] = True
        # Sure ink only: the faint halo of a blurred stroke at the box edge is no overrun. Above
        # and below the box only: beside a one-line number lie its label and unit (an 8 was
        # made of a printed 週's remains).
        beside = np.zeros(crop.shape, bool)
        beside[:, max(0, x0) : x0 + iw] = True
        margin = inkmod.binarize(crop, paper) & ~inner & beside
        margin = inkmod.drop_lines(margin, max(6, round(OVERFLOW_LINE * min(ih, iw))))
        mask = np.zeros(crop.shape, bool)
        mask[y0 : y0 + ih, x0 : x0 + iw] = inside
        # Dropout paints a printed line and PRINT_GROW_PX either side of it: that gap, bridged.
        bridge = 2 * PRINT_GROW_PX + 1 + mm_to_px(OVERFLOW_BRIDGE_MM, self.dpi)
        # Ink in the box is kept whatever it joins (a 1 written half over the box's left edge).
        mask |= inkmod.mostly_inside(mask | margin, inner, OVERFLOW_INSIDE, bridge) & margin
        mask = inkmod.clean(mask, self.min_area)
        return np.where(mask | inner, crop, paper).astype(np.uint8), mask

    def free_before(self, r: Region) -> int:
        """Columns of free paper on the blank just left of box `r` (`ink.free_before`, up to
        `DATE_LEAD_MM`); 0 when under `DATE_LEAD_MIN_MM`. A writer may start the box's number
        there."""
        lead = inkmod.free_before(self.print_mask, r.blank, mm_to_px(DATE_LEAD_MM, self.dpi))
        return lead if lead >= mm_to_px(DATE_LEAD_MIN_MM, self.dpi) else 0

    def written_past_border(self, r: Region, tall: float = inkmod.LEAD_HEIGHT) -> tuple[int, int]:
        """Where box `r`'s writing reaches back over its printed left border
        (`ink.border_before`): (columns from the box back to the border's outer side, columns of
        free paper past it up to `DATE_LEAD_MM`) when a stroke of the number stands on that paper,
        tall (a 1 of 10 drawn against the border's outside) or continuing a stroke the border
        cut (`ink.bridge_band`: a 4's arm); (0, 0) when there is no border, under
        `DATE_LEAD_MIN_MM` of paper past it, or no such stroke, so a box written inside itself is
        read as it always was. `tall` is `ink.written_before`'s: infinite where a ring round the
        era before the box stands on that paper, so only a stroke crossing the border counts. The
        ink is what is darker than the blank (`ink_against_blank`), since dropout's grown border
        swallows a stroke drawn against it."""
        border, free = inkmod.border_before(
            self.print_mask,
            r.blank,
            mm_to_px(BORDER_GAP_MM, self.dpi),
            mm_to_px(BORDER_RULE_MM, self.dpi) + 2 * PRINT_GROW_PX,
            mm_to_px(DATE_LEAD_MM, self.dpi),
        )
        if not border or free < mm_to_px(DATE_LEAD_MIN_MM, self.dpi) or border + free > r.page[0]:
            return 0, 0
        lead = border + free
        wide = Region(_widen_left(r.blank, lead), _widen_left(r.page, lead))
        extra, _ = self.ink_against_blank(wide)
        kept = inkmod.written_before(inkmod.bridge_band(extra, free, lead), lead, tall=tall) & extra
        return (border, free) if kept[:, : free + PRINT_GROW_PX].any() else (0, 0)

    def _written_over_border(
        self,
        r: Region,
        mask: np.ndarray,
        crop: np.ndarray,
        lead: int,
        border: int,
        paper: float,
        tall: float = inkmod.LEAD_HEIGHT,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ink and crop of a box widened by `lead` columns over its left border and the free
        paper past it, with the box's own writing kept there (`ink.written_before`). Dropout
        paints the border grown by PRINT_GROW_PX, which swallows most of a 1 written against it
        (10 read 0, then 1 from the list); there the ink is what is darker than the blank
        (`ink_against_blank`), so a stroke beside the border survives up to a pixel from it."""
        extra, _ = self.ink_against_blank(r)
        h, w = mask.shape
        mask = mask.copy()
        mask[:, :lead] |= extra[:h, :lead]
        bx, by, _, _ = r.blank
        printed = self.blank[by : by + h, bx : bx + w] < 200
        joined = inkmod.bridge_band(mask, lead - border, lead)
        # The bridged rows stay ink: there the stroke covers the border, and the page shows it.
        mask = inkmod.written_before(joined, lead, printed if printed.shape == mask.shape else None, tall)
        x, y, _, _ = r.page
        page = self.aligned[y : y + h, x : x + lead]
        crop = crop.copy()
        if page.shape == crop[:, :lead].shape:
            crop[:, :lead] = np.where(mask[:, :lead], page, round(paper))
        return mask, crop

    def plan(self, spec: FieldSpec) -> tuple[RawField, list[Job]]:
        """Read what needs no OCR (marks) now; for text, the OCR jobs to recognise."""
        rf = RawField(spec)
        b = self.px(spec.box)
        rf.box_px = b.page
        x, y, w, h = grow(b.page, max(4, self.dpi // 25), self.size)
        rf.crop = self.aligned[y : y + h, x : x + w]  # as scanned, print included, for the reviewer
        # A checkbox tests its own surroundings as it is read (read_mark_box): its box may be
        # dark with the applicant's fill.
        if spec.kind != "checkbox" and self.unreadable(b):
            # A blacked-out or smeared box has no paper left to tell ink from, so "no ink" there
            # means nothing: the field is not read, and never passes as empty.
            _mark_unreadable(rf)
            return rf, []
        return rf, PLANNERS.get(spec.kind, PageReader._plan_text)(self, rf, b)

    def unreadable(self, r: Region) -> bool:
        """A field whose crop is mostly dark after dropout (`ink.too_dark`)."""
        return inkmod.too_dark(self.crop(r), self.bright_paper)

    def around(self, r: Region, mm: float) -> tuple[Region, PxBox]:
        """`r` grown by `mm` on every side (clipped to the page), and where `r` lies inside it."""
        page = grow(r.page, mm_to_px(mm, self.dpi), self.size)
        dx, dy = r.page[0] - r.blank[0], r.page[1] - r.blank[1]
        blank = shift(page, -dx, -dy)
        if blank[0] < 0 or blank[1] < 0:  # keep the blank box on the blank: trim both alike
            cx, cy = max(0, -blank[0]), max(0, -blank[1])
            page = (page[0] + cx, page[1] + cy, page[2] - cx, page[3] - cy)
            blank = shift(page, -dx, -dy)
        inner = (r.page[0] - page[0], r.page[1] - page[1], r.page[2], r.page[3])
        return Region(blank, page), inner

    # -- planning, per kind -----------------------------------------------------------------
    def _plan_checkbox(self, rf: RawField, b: Region) -> list[Job]:
        outer, inner = self.around(self.px(rf.spec.box, 0.5), MARK_RING_MM)
        box = read_mark_box(self.crop(outer), inner, self.bright_paper, self.min_area)
        if box.unreadable:
            _mark_unreadable(rf)
            return []
        rf.raw, rf.confidence = box.reading.marked[0], box.reading.confidence
        return []

    def option_looks(self, opts: list[Option]) -> list[optmod.OptionLook]:
        """What is on each printed option: square ink, a ring round it, a label tick, a strike."""
        out = []
        mm = self.dpi / 25.4
        g = optmod.RING_MM
        for o in opts:
            if o.label is None and o.box is not None:
                found = optmod.label_beside(self.blank, mm_box_to_px(o.box, self.dpi), self.dpi)
                if found is not None:
                    o = o.model_copy(update={"label": tuple(v / mm for v in found)})
            elif o.box is None and o.label is not None:
                found = optmod.square_beside(self.blank, mm_box_to_px(o.label, self.dpi), self.dpi)
                if found is not None:
                    o = o.model_copy(update={"box": tuple(v / mm for v in found)})
            ex, ey, ew, eh = o.extent
            # A ring round a wide label reaches further sideways than up and down.
            gx = max(g, 0.3 * ew + 1.0)
            x0, y0 = max(0.0, ex - gx), max(0.0, ey - g)
            r = self.px((x0, y0, min(ex + ew + gx, self.size[0] / mm) - x0, eh + 2 * g), 0.0)
            region, visible = self.ink_against_blank(r)

            origin = (r.blank[0], r.blank[1])
            extent = _relative(o.extent, origin, self.dpi)
            sq_mask = None
            sq = _relative(o.box, origin, self.dpi, 0.5)
            if sq is not None:
                sq_mask = region[max(0, sq[1]) : sq[1] + sq[3], max(0, sq[0]) : sq[0] + sq[2]]
            label = _relative(o.label, origin, self.dpi)
            if label is not None:  # keep clear of the square, whose ink is the square's
                pad = max(1, round(0.3 * mm))
                label = (label[0] + pad, label[1], max(1, label[2] - 2 * pad), label[3])
            out.append(
                optmod.look(
                    region, extent, _relative(o.box, origin, self.dpi), label, sq_mask, self.dpi, visible
                )
            )  # type: ignore[arg-type]
        return out

    def ink_against_blank(self, r: Region) -> tuple[np.ndarray, np.ndarray]:
        """Ink in a region as what is darker than the blank there, not what lies off the print.

        Dropout paints the print grown by a margin, and round a small printed label that margin
        swallows the whole word, with any stroke through it. Comparing with the blank's darkest
        pixel nearby (registration is good to a pixel or two) keeps a strike or a ring wherever it
        crosses paper, even between the strokes of the label. The page is scaled so that its paper
        (the region's median, so a square filled solid still counts) is white like the blank's.
        Also returns where the blank is paper, i.e. where ink could be seen at all."""
        x, y, w, h = r.page
        bx, by, _, _ = r.blank
        page = self.aligned[max(0, y) : y + h, max(0, x) : x + w].astype(np.float32)
        blank = self.blank[by : by + page.shape[0], bx : bx + page.shape[1]]
        page = page[: blank.shape[0], : blank.shape[1]]
        if page.size == 0:
            return np.zeros((max(1, h), max(1, w)), bool), np.ones((max(1, h), max(1, w)), bool)
        paper = max(float(np.median(page)), 1.0)
        norm = page * (255.0 / paper)
        k = max(3, 2 * round(self.dpi / 100) + 1)
        darkest = cv2.erode(blank, np.ones((k, k), np.uint8)).astype(np.float32)
        m = (norm < darkest - 70) & (norm < 185)
        full = np.zeros((h, w), bool)
        full[: m.shape[0], : m.shape[1]] = m
        seen = np.ones((h, w), bool)
        seen[: m.shape[0], : m.shape[1]] = darkest > 200
        return inkmod.clean(full, self.min_area), seen

    def _marked_options(self, rf: RawField) -> tuple[list[float], list[str]]:
        """The options marked and not struck out; a struck option is withdrawn and the field gets
        `correction`; a ring only partly drawn makes the reading unsure."""
        opts = rf.spec.options or []
        looks = self.option_looks(opts)
        on = (MARK_ON + MARK_OFF) / 2
        ratios = [max(lk.square or 0.0, lk.ring / optmod.SECTORS, lk.label or 0.0) for lk in looks]
        conf = read_marks_conf([lk.square for lk in looks if lk.square is not None])
        if any(optmod.ring_unsure(lk) for lk in looks):
            conf = min(conf, 0.3)
        chosen = []
        struck = False
        for o, lk in zip(opts, looks, strict=True):
            if lk.struck and (optmod.is_marked(lk, on) or (lk.square or 0.0) > MARK_OFF):
                struck = True
                continue
            if optmod.is_marked(lk, on):
                chosen.append(o.value)
        if struck:
            rf.issues.append(
                Issue(
                    "correction",
                    "取り消された印があります。正しい選択肢を確認してください。",
                    (rf.spec.name,),
                )
            )
        rf.confidence = conf
        if not chosen and not struck and self._stray_ink(rf.spec.box):
            rf.confidence = 0.0
            rf.issues.append(
                Issue(
                    "mark_unclear",
                    "選択肢の外に書き込みがあります。どれに印を付けたか確認してください。",
                    (rf.spec.name,),
                )
            )
        return ratios, chosen

    def _stray_ink(self, box_mm: tuple[float, float, float, float]) -> bool:
        """Writing left in a choice field where no option reads as marked: never "empty, sure"."""
        r = self.px(box_mm, 0.5)
        crop = self.crop(r)
        m = self.ink_mask(r, crop, float(self.paper))
        return float(m.mean()) >= STRAY_INK and int(m.sum()) >= self.min_area * 8

    def _plan_multi_choice(self, rf: RawField, b: Region) -> list[Job]:
        _, rf.raw = self._marked_options(rf)
        return []

    def _plan_choice(self, rf: RawField, b: Region) -> list[Job]:
        ratios, chosen = self._marked_options(rf)
        if len(chosen) > 1:
            opts = rf.spec.options or []
            rf.raw = max((r, o.value) for r, o in zip(ratios, opts, strict=True) if o.value in chosen)[1]
            rf.confidence = 0.0
            rf.issues.append(Issue("multiple_marks", "複数の選択肢に印があります。", (rf.spec.name,)))
        else:
            rf.raw = chosen[0] if chosen else _likeliest_unclear(rf, ratios)
        return []

    def _plan_signature(self, rf: RawField, b: Region) -> list[Job]:
        r = read_marks([self.ink_mask(b)], SIGNATURE_ON, SIGNATURE_OFF)
        rf.raw, rf.confidence = r.marked[0], r.confidence
        return []

    def _plan_date_wareki(self, rf: RawField, b: Region) -> list[Job]:
        spec = rf.spec
        if spec.parts is None:
            constraint = CONSTRAINTS["date_wareki"]
            if spec.date_range is not None:
                lo, hi = dates.resolve(spec.date_range, self.today)
                constraint = Constraint("wareki", dates.wareki_pattern(lo, hi))
            return self._text(rf, b, constraint)
        words = self._part_words(spec)
        jobs = []
        for slot in ("year", "month", "day"):
            box = getattr(spec.parts, slot)
            part = self.px(box)
            before = not self._ringed_before(spec, box)
            part_jobs = self.text_jobs(
                rf, slot, part, DATE_PART, above_mm=STRUCK_ABOVE_MM, before=before, crossing=not before
            )
            if len(part_jobs) == 1:
                part_jobs[0].words = words[slot]
            jobs += part_jobs
        return jobs

    def _plan_digits(self, rf: RawField, b: Region) -> list[Job]:
        if rf.spec.cells is None:
            return self._plan_text(rf, b)
        # Digit boxes: exactly as many digits as boxes, whatever charset the template names.
        return self._text(rf, b, Constraint("digits", f"D{{{rf.spec.cells.count}}}"), charset=False)

    def _plan_text(self, rf: RawField, b: Region) -> list[Job]:
        return self._text(rf, b, CONSTRAINTS[rf.spec.kind])

    def _plan_number(self, rf: RawField, b: Region) -> list[Job]:
        return self._text(rf, b, number_constraint(rf.spec))

    def _text(self, rf: RawField, b: Region, constraint: Constraint, charset: bool = True) -> list[Job]:
        spec = rf.spec
        if charset and spec.charset:
            constraint = Constraint(spec.charset, constraint.pattern)
        jobs = self.text_jobs(rf, "text", b, constraint)
        if spec.vocabulary and len(jobs) == 1:
            jobs[0].words = self.vocabularies.get(spec.vocabulary)
        elif len(jobs) == 1 and (words := number_words(spec)) is not None:
            jobs[0].words = words
        return jobs

    def _ringed_before(self, spec: FieldSpec, box_mm: tuple[float, float, float, float]) -> bool:
        """Whether an era printed just before a date part's box is ringed, or partly: its ring
        then lies on the free paper before the box, where no digit is looked for."""
        return any(
            lk.ring > optmod.RING_OFF
            for o, lk in zip(spec.era_options or [], self._era_looks(spec), strict=True)
            if 0.0 <= box_mm[0] - (o.extent[0] + o.extent[2]) <= DATE_LEAD_MM + optmod.RING_MM
        )

    def _era_looks(self, spec: FieldSpec) -> list[optmod.OptionLook]:
        """`option_looks` of a date's printed eras, found once per field: planning (is a ring
        before a part's box?) and finishing (which era is circled?) both ask."""
        if spec.name not in self._era_looks_by_field:
            self._era_looks_by_field[spec.name] = self.option_looks(spec.era_options or [])
        return self._era_looks_by_field[spec.name]

    def _part_words(self, spec: FieldSpec) -> dict[str, tuple[str, ...] | None]:
        """Valid numbers for each box of a boxed date: years only inside the field's date range."""
        years = None
        if spec.date_range is not None:
            lo, hi = dates.resolve(spec.date_range, self.today)
            eras = [spec.era] if spec.era else [o.value for o in spec.era_options or []]
            years = dates.year_words(eras, lo, hi) or None
        return {"year": years, "month": dates.MONTH_WORDS, "day": dates.DAY_WORDS}

    def _era(self, spec: FieldSpec) -> tuple[str | None, float, bool]:
        """The era circled (or printed), its confidence, and whether one was struck out."""
        if spec.era:
            return spec.era, 1.0, False
        opts = spec.era_options or []
        looks = self._era_looks(spec)
        on = (MARK_ON + MARK_OFF) / 2
        struck = any(lk.struck and optmod.is_marked(lk, on) for lk in looks)
        chosen = [
            o.value for o, lk in zip(opts, looks, strict=True) if optmod.is_marked(lk, on) and not lk.struck
        ]
        conf = read_marks_conf([lk.square for lk in looks if lk.square is not None])
        if any(optmod.ring_unsure(lk) for lk in looks):
            conf = min(conf, 0.3)
        if len(chosen) > 1:  # two eras circled: the stronger mark, for a person to confirm
            best = max(zip(looks, opts, strict=True), key=lambda p: (p[0].ring, p[0].square or 0.0))
            return best[1].value, 0.0, struck
        if not chosen:
            return None, 0.0, struck
        return chosen[0], conf, struck

    # -- finishing, per kind ----------------------------------------------------------------
    def finish(self, rf: RawField, readings: dict[str, list[Reading]]) -> RawField:
        """Combine the OCR readings of a field's crops into its raw value."""
        if any(i.code == "unreadable_region" for i in rf.issues):
            return rf  # not read: stays None at confidence 0
        finisher = FINISHERS.get(rf.spec.kind, PageReader._finish_text)
        return finisher(self, rf, readings)

    def _finish_read(self, rf: RawField, readings: dict[str, list[Reading]]) -> RawField:
        return rf  # marks: read while planning

    def _finish_text(self, rf: RawField, readings: dict[str, list[Reading]]) -> RawField:
        r = _join(readings.get("text", []))
        rf.raw = r.text
        rf.chars = r.chars
        rf.confidence = r.confidence if r.text else 1.0
        if not r.text and readings.get("text") and rf.spec.kind in OVERFLOW_KINDS:
            # Writing was there to read, and nothing was read: no sure "left blank".
            rf.confidence = UNREAD_WRITING_CONFIDENCE
        once = read_once(r) if rf.spec.kind in ("text_ja", "free_text") else None
        if once is not None:
            rf.raw, rf.chars = once.text, once.chars
            if not any(i.code == "correction" for i in rf.issues):
                rf.issues.append(
                    Issue(
                        "correction",
                        "同じ文字列が繰り返し読まれました。書き直し（訂正）がないか確認してください。",
                        (rf.spec.name,),
                    )
                )
        return rf

    def _finish_postal_code(self, rf: RawField, readings: dict[str, list[Reading]]) -> RawField:
        rf = self._finish_text(rf, readings)
        cells = rf.spec.cells
        if cells and cells.groups and rf.raw.isdigit():
            g = cells.groups
            rf.raw = rf.raw[: g[0]] + cells.separator + rf.raw[g[0] :]
        return rf

    def _finish_date_wareki(self, rf: RawField, readings: dict[str, list[Reading]]) -> RawField:
        spec = rf.spec
        if spec.parts is None:
            return self._finish_text(rf, readings)
        parts = {s: _join(readings.get(s, [])) for s in ("year", "month", "day")}
        if not any(p.text for p in parts.values()):
            rf.raw, rf.confidence = "", 1.0
            return rf
        era, era_conf, era_struck = self._era(spec)
        if era_struck:
            rf.issues.append(Issue("correction", "取り消された元号の印があります。", (spec.name,)))
        if era is None and spec.infer_when_unmarked:
            era = dates.infer_era(
                [o.value for o in spec.era_options or []],
                (parts["year"].text, parts["month"].text, parts["day"].text),
                dates.resolve(spec.date_range, self.today) if spec.date_range else None,
            )
            if era is not None:
                # The value is kept for the reviewer, who confirms the era the year implies.
                era_conf = 0.0
                rf.issues.append(
                    Issue(
                        "era_inferred",
                        f"元号に印がないため、年の範囲から{era}と推定しました。確認してください。",
                        (spec.name,),
                    )
                )
        rf.wareki = (era or None, (parts["year"].text, parts["month"].text, parts["day"].text))
        rf.raw = f"{era or ''}{parts['year'].text}年{parts['month'].text}月{parts['day'].text}日"
        chars = [Char(era or "?", era_conf)]
        for p, unit in ((parts["year"], "年"), (parts["month"], "月"), (parts["day"], "日")):
            chars += list(p.chars) if p.chars else [Char("?", 0.0)]
            chars.append(Char(unit, 1.0))
        rf.chars = tuple(chars)
        rf.confidence = min(c.prob for c in chars)
        return rf


Planner = Callable[[PageReader, RawField, Region], list[Job]]
Finisher = Callable[[PageReader, RawField, dict[str, list[Reading]]], RawField]
# By kind; a kind not listed is plain text (PageReader._plan_text / _finish_text).
PLANNERS: dict[str, Planner] = {
    "checkbox": PageReader._plan_checkbox,
    "choice": PageReader._plan_choice,
    "multi_choice": PageReader._plan_multi_choice,
    "signature": PageReader._plan_signature,
    "date_wareki": PageReader._plan_date_wareki,
    "digits": PageReader._plan_digits,
    "number": PageReader._plan_number,
}
FINISHERS: dict[str, Finisher] = {
    "checkbox": PageReader._finish_read,
    "choice": PageReader._finish_read,
    "multi_choice": PageReader._finish_read,
    "signature": PageReader._finish_read,
    "date_wareki": PageReader._finish_date_wareki,
    "postal_code": PageReader._finish_postal_code,
}


_KANJI = re.compile(r"[\u4e00-\u9fff]")
_DOUBLED_FIRST_KANJI = re.compile(r"^([\u4e00-\u9fff])\1")


def number_words(spec: FieldSpec) -> tuple[str, ...] | None:
    """The whole numbers a `number` field's `min`..`max` allow, as the closed list its crop is
    read against (as a date's parts are), when they are few; None otherwise."""
    if spec.kind != "number" or spec.min is None or spec.max is None:
        return None
    lo, hi = math.ceil(spec.min), math.floor(spec.max)
    if lo < 0 or hi - lo > NUMBER_WORDS_MAX:
        return None
    return tuple(str(n) for n in range(lo, hi + 1))


def looks_rewritten(text: str) -> bool:
    """A reading that repeats itself (清水化学株清水化学株式会社, 東東裕輔): the struck value and
    the new one were both read, because the strike was not found (see `repeated_block`)."""
    return repeated_block(text) is not None


def read_once(r: Reading) -> Reading | None:
    """`r` with its repeated block (`repeated_block`) read once, or None when nothing repeats.
    Both copies were read, so one is the struck value: the reviewer is offered the text once
    (東東裕輔 → 東裕輔), and whichever copy was struck, both read the same."""
    found = repeated_block(r.text)
    if found is None:
        return None
    i, size = found
    chars = r.chars[:i] + r.chars[i + size :] if len(r.chars) == len(r.text) else ()
    return Reading(r.text[:i] + r.text[i + size :], chars)


def repeated_block(text: str) -> tuple[int, int] | None:
    """(start, size) of the first block read twice in a row, or None. Only a repeated block
    holding a kanji counts: kana repeat in real names (すくすく, のびのび) and digits in addresses
    (1-1-1), while kanji repeat with 々, not twice; so a doubled kanji at the start is no name
    either."""
    if _DOUBLED_FIRST_KANJI.match(text):
        return 0, 1
    n = len(text)
    for size in range(2, n // 2 + 1):
        for i in range(n - 2 * size + 1):
            block = text[i : i + size]
            if block == text[i + size : i + 2 * size] and _KANJI.search(block):
                return i, size
    return None


def _mark_unreadable(rf: RawField) -> None:
    """A blacked-out or smeared box has no paper left to tell ink from, so "no ink" there means
    nothing: the field is not read, and never passes as empty."""
    rf.raw, rf.confidence = None, 0.0
    rf.issues.append(
        Issue(
            "unreadable_region",
            f"「{rf.spec.label}」の部分がスキャンで黒くつぶれているか汚れていて読めません。原本を確認してください。",
            (rf.spec.name,),
        )
    )


def _widen_left(box: PxBox, px: int) -> PxBox:
    x, y, w, h = box
    return x - px, y, w + px, h


def _relative(
    box_mm: tuple[float, float, float, float] | None, origin: tuple[int, int], dpi: int, inset: float = 0.0
) -> PxBox | None:
    """A template box in pixels relative to `origin` (a region's top-left on the blank)."""
    if box_mm is None:
        return None
    b = mm_box_to_px(box_mm, dpi, inset)
    return b[0] - origin[0], b[1] - origin[1], b[2], b[3]


STRUCK_REACH = 0.6  # of the struck line's height: writing this near the strike is struck with it
STRUCK_PAD = 0.3  # of the line height: overlap allowed between the struck value and what is beside it


def _drop_struck(
    crop: np.ndarray, mask: np.ndarray, seen: np.ndarray, strikes: list[inkmod.Strike], digits: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Remove the struck-out writing and the strike lines, keep the rest: a correction written
    beside the struck value (outside the struck span) or above it (a line higher) stays.

    Struck are the strokes the strike touches and the strokes whose centre lies inside its span
    and within `STRUCK_REACH` line heights of it (a dakuten, a dot, the part of 東 above the line).
    A stroke that touches a strike but is centred outside its span (new writing begun right at the
    strike's end) loses only its part inside the span, in the strike's band.

    In a crop of digits (`digits`) a struck digit is one or two strokes that the strike crosses,
    and the new digit is often squeezed into the same cell above it (over the struck one's top):
    there a stroke lying wholly above or below the strike stays, touching or not."""
    drop = np.zeros(mask.shape, bool)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(seen.astype(np.uint8), connectivity=8)
    for s in strikes:
        if s.lines is None:
            continue
        near = cv2.dilate(s.lines.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        touching = set(np.unique(labels[near & seen]).tolist()) - {0}
        reach = STRUCK_REACH * s.height
        pad = 0.15 * s.height
        for i in range(1, n):
            x, y, w, h = (int(v) for v in stats[i, :4])
            cx, cy = x + w / 2, y + h / 2
            inside = s.x0 - pad <= cx <= s.x1 + pad
            if digits and _clear_of(labels == i, s.lines):
                continue
            if inside and (i in touching or abs(cy - s.y) < reach):
                drop |= labels == i
            elif i in touching:
                part = np.zeros(mask.shape, bool)
                part[max(0, int(s.y - reach)) : int(s.y + reach) + 1, s.x0 : s.x1] = True
                drop |= (labels == i) & part
        drop |= near
    crop, mask = crop.copy(), mask.copy()
    crop[cv2.dilate(drop.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)] = 255
    mask &= ~drop
    return crop, mask


def _ink_crop(
    crop: np.ndarray, mask: np.ndarray, paper: float, bb: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The recogniser's crop of the writing in `bb` (padded), and its ink mask. Everything but the
    ink (and its soft edges) is painted white, so specks and left-over print cannot be read as
    characters while anti-aliased strokes keep their shape."""
    pad = max(3, bb[3] // 8)
    x0, y0 = max(0, bb[0] - pad), max(0, bb[1] - pad)
    x1, y1 = min(crop.shape[1], bb[0] + bb[2] + pad), min(crop.shape[0], bb[1] + bb[3] + pad)
    ink = mask[y0:y1, x0:x1]
    keep = cv2.dilate(ink.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return np.where(keep, inkmod.whiten(crop[y0:y1, x0:x1], paper), 255).astype(np.uint8), ink


def _over_border(field: str) -> Issue:
    return Issue(
        "written_over_border",
        "数字が枠の線にかかって書かれています。最初の数字を原本と照合してください。",
        (field,),
    )


def _correction(field: str) -> Issue:
    return Issue("correction", "訂正線があります。正しい値を確認してください。", (field,))


def _ink_round(mask: np.ndarray, s: inkmod.Strike) -> tuple[int, int, int, int]:
    """Ink beside a strike in its line (before it, after it) and in the lines above it, and the
    least of it that is writing, not a speck or a stray tail: (before, after, above, least)."""
    h = max(1, s.height)
    pad = int(STRUCK_PAD * h)
    top, bottom = max(0, int(s.y - STRUCK_REACH * h)), int(s.y + STRUCK_REACH * h) + 1
    before = int(mask[top:bottom, : max(0, s.x0 - pad)].sum())
    after = int(mask[top:bottom, s.x1 + pad :].sum())
    above = int(mask[: max(0, top - pad)].sum())
    return before, after, above, 2 * h


def _struck_first(mask: np.ndarray, s: inkmod.Strike) -> bool:
    """Whether a strike lies where a correction is written: the struck value is what was written
    first, so nothing stands left of it in its line, and the new value follows it (to its right,
    or in a line above). Level strokes of neighbouring characters joined into a long run (井琴,
    北斗印刷) lie in the middle of the writing, with writing on both sides."""
    before, after, above, least = _ink_round(mask, s)
    return before < least and (after >= least or above >= least)


def _struck_alone(mask: np.ndarray, s: inkmod.Strike) -> bool:
    """Whether a strike runs through all there is in its crop: nothing written before it, after
    it or above it (the new value is outside the box)."""
    before, after, above, least = _ink_round(mask, s)
    return max(before, after, above) < least


def _clear_of(part: np.ndarray, line: np.ndarray) -> bool:
    """Whether nearly all of `part` lies above the top of `line` or below its bottom, where they
    share columns: a digit written over the strike, not one crossed by it."""
    cols = np.flatnonzero(part.any(axis=0) & line.any(axis=0))
    if cols.size == 0:
        return False
    rows = np.flatnonzero(line[:, cols].any(axis=1))
    top, bottom = int(rows.min()), int(rows.max())
    ys = np.flatnonzero(part.any(axis=1))
    n = int(part.sum())
    above = int(part[:top].sum())
    below = int(part[bottom + 1 :].sum())
    return max(above, below) >= 0.85 * n and ys.size > 0


def _likeliest_unclear(rf: RawField, ratios: list[float]) -> str | None:
    """A choice whose mark is unclear (`mark_unclear`: writing in the field, no option marked) is
    offered as the one option with more of a mark than the rest (a tick drawn below its square,
    a ring half round its label), for the clerk to confirm rather than key; its confidence stays
    0, so it is never accepted. None where no option, or more than one, leads."""
    if not any(i.code == "mark_unclear" for i in rf.issues) or not ratios:
        return None
    best = max(ratios)
    if best <= MARK_OFF or sum(r >= best for r in ratios) > 1:
        return None
    return (rf.spec.options or [])[ratios.index(best)].value


def _join(readings: list[Reading]) -> Reading:
    if not readings:
        return Reading("", ())
    if len(readings) == 1:
        return readings[0]
    return Reading("".join(r.text for r in readings), tuple(c for r in readings for c in r.chars))


def read_page(
    reader: PageReader,
    specs: list[FieldSpec],
    recognizer: Recognizer,
    postal_address: dict[str, str] | None = None,
    date_check: daterepair.DateCheck | None = None,
) -> list[RawField]:
    """Plan every field, recognise all crops in one batch, correct each reading (passes.py), then
    finish each field.

    `postal_address` maps a postal-code field to the address field it must agree with (from the
    template's `postal_matches_address` rules), so a misread digit of the code can be repaired.
    `date_check` runs the template's date rules on the page's dates: a boxed date that breaks
    them, or its own range, is read again from its parts' next-best numbers (daterepair.py).
    """
    planned = [reader.plan(s) for s in specs]
    jobs = [j for _, js in planned for j in js]
    matrices = recognizer.probs([j.crop for j in jobs]) if jobs else []
    labels = recognizer.labels
    by_field: passes.Readings = {}
    flags = passes.new_flags()
    kept: dict[str, passes.Kept] = {}
    agreement: dict[str, list[float | None]] = {}
    date_parts: dict[str, dict[str, tuple[np.ndarray, tuple[str, ...]]]] = {}
    unstruck: dict[str, passes.Flags] = {}
    kept_aside: dict[str, passes.Kept] = {}
    for job, probs in zip(jobs, matrices, strict=True):
        aside = job.slot == UNSTRUCK  # read aside: its flags count only if its reading is taken
        job_flags = unstruck.setdefault(job.field, passes.new_flags()) if aside else flags
        if job.slot in daterepair.SLOTS and job.words:
            date_parts.setdefault(job.field, {})[job.slot] = (probs, job.words)
        reading = decode(probs, labels, job.constraint)
        reading = passes.closed_list(job, probs, labels, reading, job_flags)
        reading, op = passes.second_digit_reader(job, probs, labels, reading, recognizer.spec)
        for kind_pass in passes.KIND_PASSES.get(job.kind, ()):
            reading = kind_pass(job, probs, labels, reading, op, job_flags)
        passes.flag_disagreement(job, reading, op, job_flags)
        reading = passes.one_digit(job, reading, job_flags)
        # The classifier's opinion on the digits as they now stand, found once for the doubt and
        # for the agreement (the fused reading, or a date part's, has none from the reader pass).
        judged = passes.opinion_of(job, probs, labels, reading, op, recognizer.spec)
        if judged is not None and passes.doubts(reading, judged):
            job_flags["digits_uncertain"].add(job.field)
        if any(c.isdigit() for c in reading.text) and not aside:
            seen = None if judged is None else passes.agreement_of(reading, judged)
            agreement.setdefault(job.field, []).append(seen)
        reading = passes.unread_ink(job, probs, labels, reading, recognizer.spec, job_flags)
        slot = job.slot.split("#")[0]
        by_field.setdefault(job.field, {}).setdefault(slot, []).append(reading)
        (kept_aside if aside else kept)[job.field] = passes.Kept(
            job.kind, probs, reading, op, job.ink is not None
        )
    for rf, _ in planned:
        if _unstrike(rf, by_field, unstruck.get(rf.spec.name), flags):
            kept[rf.spec.name] = kept_aside[rf.spec.name]
    passes.postal_from_address(postal_address or {}, kept, by_field, labels, flags)
    passes.name_stray_marks(specs, by_field, flags)
    passes.family_from_names(specs, kept, by_field, labels, flags)
    passes.kana_from_name(specs, kept, by_field, labels, flags)
    passes.facility_from_address(specs, kept, by_field, labels)
    raws = [passes.apply_flags(reader.finish(rf, by_field.get(rf.spec.name, {})), flags) for rf, _ in planned]
    if date_check is not None:
        daterepair.repair_page(raws, date_parts, labels, date_check, reader.today)
    for rf in raws:
        seen = agreement.get(rf.spec.name, [])
        rf.digit_agreement = None if not seen or None in seen else min(a for a in seen if a is not None)
    return hold_empty_on_faded_page(raws)


def _unstrike(
    rf: RawField, by_field: passes.Readings, aside: passes.Flags | None, flags: passes.Flags
) -> bool:
    """A struck facility name whose writing beside the strike reads as the ending alone (保育ルーム)
    takes its reading as written (`text_jobs` read both): nobody corrects a name to its ending, so
    what looked struck was the name's own level strokes (子安台's bars in a row) or a crease. The
    correction issue goes, and the flags of that reading replace the other's. True when taken."""
    readings = by_field.get(rf.spec.name, {})
    whole = readings.pop(UNSTRUCK, None)
    if (
        not whole
        or not whole[0].text
        or not passes.only_facility_ending(_join(readings.get("text", [])).text)
    ):
        return False
    readings["text"] = whole
    rf.issues = [i for i in rf.issues if i.code != "correction"]
    for code, fields in flags.items():
        fields.discard(rf.spec.name)
        if aside is not None and rf.spec.name in aside[code]:
            fields.add(rf.spec.name)
    return True


def hold_empty_on_faded_page(raws: list[RawField]) -> list[RawField]:
    """On a page where the writing came out broken in several fields (a light pen on a fax), or
    where several required fields read as empty (the pen may have left nothing at all), hold
    every field read as empty too: the same pen may have faded out of it altogether, and an empty
    reading would otherwise be accepted as a blank box."""
    broken = sum(any(i.code == "broken_ink" for i in rf.issues) for rf in raws)
    empty_required = sum(rf.spec.required and is_empty_reading(rf.spec.kind, rf.raw) for rf in raws)
    if broken < BROKEN_PAGE_FIELDS and empty_required < EMPTY_REQUIRED_PAGE_FIELDS:
        return raws
    for rf in raws:
        if reads_nothing(rf.spec.kind, rf.raw) and not any(i.code == "faded_page" for i in rf.issues):
            rf.issues.append(
                Issue(
                    "faded_page",
                    "このページは筆跡がかすれて消えている箇所があります。本当に空欄か原本を確認してください。",
                    (rf.spec.name,),
                )
            )
    return raws


OPTION_KINDS = MARK_KINDS - {"signature"}


def reads_nothing(kind: str, raw: object) -> bool:
    """An empty reading, or an option group with nothing marked: a ring or tick drawn with the
    pen that faded out of the page's writing vanishes with it (on a faded claim page, the rings
    round 同居 of two children were accepted as left blank)."""
    if kind in OPTION_KINDS:
        return raw is None or raw is False or raw == []
    return is_empty_reading(kind, raw)
