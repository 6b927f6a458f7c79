"""Read each field of an aligned, dropped-out page according to its kind.

Hands on one `RawField` per template field: the raw reading (text, chosen option(s) or a bool),
its per-character probabilities, a confidence, reading problems (e.g. a correction mark), the
pixel box, and the ink crop for the review page. Normalisation and validation come after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import cv2
import numpy as np

from pipeline.fields import dates
from pipeline.fields import ink as inkmod
from pipeline.fields.furigana import read_with_name
from pipeline.fields.geometry import PxBox, grow, mm_box_to_px, shift
from pipeline.fields.marks import SIGNATURE_OFF, SIGNATURE_ON, read_marks
from pipeline.forms.template import FieldSpec
from pipeline.imaging.dropout import drop_form, paper_level
from pipeline.jp import mynumber
from pipeline.jp.address import PostalLookupError, lookup_postal
from pipeline.jp.text import edit_distance
from pipeline.ocr import coverage, digits
from pipeline.ocr.decode import Constraint, decode, matches
from pipeline.ocr.lexicon import match_lexicon
from pipeline.result import Char, Issue, Reading

WAREKI_PATTERN = "(令和|平成|昭和)(元|D{1,2})年D{1,2}月D{1,2}日"

CONSTRAINTS: dict[str, Constraint] = {
    "text_ja": Constraint("name"),
    "free_text": Constraint("free"),
    "kana": Constraint("furigana"),
    "number": Constraint("number", "D{1,3}"),
    "postal_code": Constraint("postal", "D{3}-D{4}|D{7}"),
    # Japanese numbers: a landline is 10 digits (0 + area code of 1-4 digits + local), a mobile
    # 11 (070/080/090), plus 050 and 0120. The grammar fixes the leading 0 and the length.
    "phone": Constraint(
        "phone",
        "0D-D{4}-D{4}|0D{2}-D{3}-D{4}|0D{3}-D{2}-D{4}|0D{4}-D-D{4}|0(7|8|9)0-D{4}-D{4}|050-D{4}-D{4}"
        "|0120-D{3}-D{3}|0D{9}|0(7|8|9)0D{8}",
    ),
    "date_wareki": Constraint("wareki", WAREKI_PATTERN),
    "date": Constraint("date", "D{4}/D{1,2}/D{1,2}|D{4}年D{1,2}月D{1,2}日"),
    "digits": Constraint("digits"),
    "my_number": Constraint("digits", "D{12}"),
}
DATE_PART = Constraint("wareki", "元|D{1,2}")
DISAGREE_CONFIDENCE = 0.5
TEXT_KINDS = frozenset(CONSTRAINTS)


@dataclass
class RawField:
    spec: FieldSpec
    raw: Any = None  # str for text kinds, str|None for choice, list[str], bool
    chars: tuple[Char, ...] = ()
    confidence: float = 1.0
    issues: list[Issue] = field(default_factory=list)
    box_px: PxBox | None = None
    crop: np.ndarray | None = None  # grey ink crop (after dropout) for review


@dataclass(frozen=True)
class Region:
    blank: PxBox  # the box on the blank (and on the print mask)
    page: PxBox  # the same box on the aligned page after local registration


@dataclass
class _Job:
    """One OCR crop wanted by a field (a field may want several: date parts, lines)."""

    field: str
    slot: str
    crop: np.ndarray
    constraint: Constraint
    words: tuple[str, ...] | None = None  # the closed list the value must come from, if any
    ink: np.ndarray | None = None  # the crop's ink mask, for the digit second opinion
    kind: str = ""


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
        self.dpi = dpi
        self.size = (aligned.shape[1], aligned.shape[0])
        self.min_area = max(4, round((dpi / 100) ** 2 * 2))
        self.search = max(2, round(dpi / 50))

    # -- geometry -------------------------------------------------------------------------
    def px(self, box_mm: tuple[float, float, float, float], inset_mm: float = 0.6) -> Region:
        """Where a template box lies on this page: the blank's box and the page's (shifted) box."""
        b = mm_box_to_px(box_mm, self.dpi, inset_mm)
        dx, dy = inkmod.local_shift(self.aligned, self.blank, b, self.search)
        return Region(b, shift(b, dx, dy))

    def crop(self, r: Region) -> np.ndarray:
        """Grey page crop with the printed form dropped out, registered locally."""
        x, y, w, h = r.page
        bx, by, _, _ = r.blank
        page = self.aligned[max(0, y) : y + h, max(0, x) : x + w]
        mask = self.print_mask[by : by + page.shape[0], bx : bx + page.shape[1]]
        if mask.shape != page.shape:  # at the page edge: keep shapes equal
            page = page[: mask.shape[0], : mask.shape[1]]
        return drop_form(page, mask, self.paper)

    def ink_mask(self, r: Region, crop: np.ndarray | None = None, paper: float | None = None) -> np.ndarray:
        crop = self.crop(r) if crop is None else crop
        _, _, w, h = r.page
        m = inkmod.binarize(crop, paper)
        m = inkmod.remove_rules(m, max(8, int(min(w, h) * 0.9)))
        return inkmod.clean(m, self.min_area)

    # -- per kind -------------------------------------------------------------------------
    def text_jobs(self, rf: RawField, slot: str, b: Region, constraint: Constraint) -> list[_Job]:
        crop = self.crop(b)
        paper = inkmod.paper_level(crop)
        mask = self.ink_mask(b, crop, paper)
        if mask.sum() < self.min_area * 6:
            return []
        bb = inkmod.bbox(mask)
        if bb is None:  # cannot happen past the ink-area test above, but bbox may say so
            return []
        strike = inkmod.find_strike(mask, bb[3] if rf.spec.lines == 1 else bb[3] // 2)
        if strike is not None:
            rf.issues.append(
                Issue("correction", "訂正線があります。正しい値を確認してください。", (rf.spec.name,))
            )
            crop, mask = _drop_struck(crop, mask, strike, bb)
            paper = inkmod.paper_level(crop)
            bb = inkmod.bbox(mask)
            if bb is None:
                return []
        pad = max(3, bb[3] // 8)
        x0, y0 = max(0, bb[0] - pad), max(0, bb[1] - pad)
        x1, y1 = min(crop.shape[1], bb[0] + bb[2] + pad), min(crop.shape[0], bb[1] + bb[3] + pad)
        # Paint everything but the ink (and its soft edges) white, so specks and left-over print
        # cannot be read as characters while anti-aliased strokes keep their shape.
        keep = cv2.dilate(mask[y0:y1, x0:x1].astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        sub = np.where(keep, inkmod.whiten(crop[y0:y1, x0:x1], paper), 255).astype(np.uint8)
        bands = inkmod.split_lines(mask[y0:y1, x0:x1], rf.spec.lines)
        if len(bands) <= 1:
            return [_Job(rf.spec.name, slot, sub, constraint, ink=mask[y0:y1, x0:x1], kind=rf.spec.kind)]
        return [
            _Job(rf.spec.name, f"{slot}#{i}", sub[max(0, a - 2) : b2 + 2], constraint)
            for i, (a, b2) in enumerate(bands)
        ]

    def plan(self, spec: FieldSpec) -> tuple[RawField, list[_Job]]:
        rf = RawField(spec)
        b = self.px(spec.box)
        rf.box_px = b.page
        x, y, w, h = grow(b.page, max(4, self.dpi // 25), self.size)
        rf.crop = self.aligned[y : y + h, x : x + w]  # as scanned, print included, for the reviewer
        kind = spec.kind
        if kind in ("choice", "multi_choice", "checkbox"):
            self._read_options(rf)
            return rf, []
        if kind == "signature":
            mask = self.ink_mask(b)
            r = read_marks([mask], SIGNATURE_ON, SIGNATURE_OFF)
            rf.raw, rf.confidence = r.marked[0], r.confidence
            return rf, []
        if kind == "date_wareki" and spec.parts is not None:
            words = self._part_words(spec)
            jobs = []
            for slot in ("year", "month", "day"):
                part_jobs = self.text_jobs(rf, slot, self.px(getattr(spec.parts, slot)), DATE_PART)
                if len(part_jobs) == 1:
                    part_jobs[0].words = words[slot]
                jobs += part_jobs
            return rf, jobs
        constraint = CONSTRAINTS[kind]
        if kind == "date_wareki" and spec.date_range is not None:
            lo, hi = dates.resolve(spec.date_range, self.today)
            constraint = Constraint("wareki", dates.wareki_pattern(lo, hi))
        if spec.charset:
            constraint = Constraint(spec.charset, constraint.pattern)
        if kind == "digits" and spec.cells is not None:
            constraint = Constraint("digits", f"D{{{spec.cells.count}}}")
        jobs = self.text_jobs(rf, "text", b, constraint)
        if spec.vocabulary and len(jobs) == 1:
            jobs[0].words = self.vocabularies.get(spec.vocabulary)
        return rf, jobs

    def _part_words(self, spec: FieldSpec) -> dict[str, tuple[str, ...] | None]:
        """Valid numbers for each box of a boxed date: years only inside the field's date range."""
        years = None
        if spec.date_range is not None:
            lo, hi = dates.resolve(spec.date_range, self.today)
            eras = [spec.era] if spec.era else [o.value for o in spec.era_options or []]
            years = dates.year_words(eras, lo, hi) or None
        return {"year": years, "month": dates.MONTH_WORDS, "day": dates.DAY_WORDS}

    def _read_options(self, rf: RawField) -> None:
        spec = rf.spec
        if spec.kind == "checkbox":
            r = read_marks([self.ink_mask(self.px(spec.box, 0.5))])
            rf.raw, rf.confidence = r.marked[0], r.confidence
            return
        opts = spec.options or []
        r = read_marks([self.ink_mask(self.px(o.box, 0.5)) for o in opts])
        chosen = [o.value for o, m in zip(opts, r.marked, strict=True) if m]
        rf.confidence = r.confidence
        if spec.kind == "multi_choice":
            rf.raw = chosen
        elif len(chosen) > 1:
            rf.raw = max(zip(r.ratios, [o.value for o in opts], strict=True))[1]
            rf.confidence = 0.0
            rf.issues.append(Issue("multiple_marks", "複数の選択肢に印があります。", (spec.name,)))
        else:
            rf.raw = chosen[0] if chosen else None

    def _era(self, spec: FieldSpec) -> tuple[str | None, float]:
        if spec.era:
            return spec.era, 1.0
        opts = spec.era_options or []
        r = read_marks([self.ink_mask(self.px(o.box, 0.5)) for o in opts])
        chosen = [o.value for o, m in zip(opts, r.marked, strict=True) if m]
        if len(chosen) != 1:
            return (max(zip(r.ratios, [o.value for o in opts], strict=True))[1] if chosen else None), 0.0
        return chosen[0], r.confidence

    def finish(self, rf: RawField, readings: dict[str, list[Reading]]) -> RawField:
        """Combine the OCR readings of a field's crops into its raw value."""
        spec = rf.spec
        if spec.kind in ("choice", "multi_choice", "checkbox", "signature"):
            return rf
        if spec.kind == "date_wareki" and spec.parts is not None:
            parts = {s: _join(readings.get(s, [])) for s in ("year", "month", "day")}
            if not any(p.text for p in parts.values()):
                era, _ = self._era(spec)
                rf.raw, rf.confidence = "", 1.0
                return rf
            era, era_conf = self._era(spec)
            rf.raw = f"{era or ''}{parts['year'].text}年{parts['month'].text}月{parts['day'].text}日"
            chars = [Char(era or "?", era_conf)]
            for p, unit in ((parts["year"], "年"), (parts["month"], "月"), (parts["day"], "日")):
                chars += list(p.chars) if p.chars else [Char("?", 0.0)]
                chars.append(Char(unit, 1.0))
            rf.chars = tuple(chars)
            rf.confidence = min(c.prob for c in chars)
            return rf
        r = _join(readings.get("text", []))
        rf.raw = r.text
        rf.chars = r.chars
        rf.confidence = r.confidence if r.text else 1.0
        if spec.cells and spec.cells.groups and spec.kind == "postal_code" and r.text.isdigit():
            g = spec.cells.groups
            rf.raw = r.text[: g[0]] + spec.cells.separator + r.text[g[0] :]
        return rf


def _validity(job: _Job) -> Callable[[str], bool] | None:
    """What a repaired reading must satisfy: the field's list or grammar, and for a 個人番号 its
    check digit."""
    pattern = job.constraint.pattern
    if job.words:
        return frozenset(job.words).__contains__
    if job.kind == "my_number":
        return mynumber.is_valid
    if pattern is None:
        return None
    return lambda text: matches(pattern, text)


def _second_digit_reader(job: _Job, reading: Reading) -> bool:
    """Whether the digit classifier reads this crop's digits too: any one-line crop with digits
    (phone, postal code, 個人番号, a house number in an address), except dates, whose numbers are
    read against the list of valid ones and where fusing fixed as many as it broke, and crops
    read against a closed list."""
    return (
        job.ink is not None
        and not job.words
        and job.constraint.charset != "wareki"
        and any(c.isdigit() for c in reading.text)
    )


def _repaired(reading: Reading, best: str, posterior: float) -> Reading:
    """`best` in place of `reading`: changed characters carry the repair's posterior as their
    probability, unchanged ones keep the recogniser's."""
    return Reading(
        best,
        tuple(
            Char(ch, posterior if ch != reading.text[i] else c.prob)
            for i, (ch, c) in enumerate(zip(best, reading.chars, strict=False))
        ),
    )


def _fix_check_digit(
    probs: np.ndarray, labels: Any, reading: Reading, op: digits.Opinion | None
) -> Reading | None:
    """A 12-digit 個人番号 whose check digit fails has (almost always) one misread digit: try every
    single-digit change that passes, and keep the one the two digit readers find most likely."""
    text = reading.text
    if len(text) != 12 or not text.isdigit() or mynumber.is_valid(text):
        return None
    cands = [
        text[:i] + d + text[i + 1 :]
        for i in range(12)
        for d in "0123456789"
        if d != text[i] and mynumber.is_valid(text[:i] + d + text[i + 1 :])
    ]
    ranked = digits.rank(probs, labels, cands, op)
    if not ranked:
        return None
    return _repaired(reading, *ranked[0])


def _postal_fits(code: str, address: str) -> bool:
    """The code exists, and (when an address was read) its city starts the address, give or take
    one misread character."""
    try:
        rec = lookup_postal(code)
    except PostalLookupError:
        return True  # no postal data to judge by: leave the reading alone
    if rec is None:
        return False
    if not address:
        return True
    for r in [rec, *(getattr(rec, "alternates", None) or [])]:
        for place in (f"{r.prefecture}{r.city}", r.city):
            if edit_distance(address[: len(place)], place) <= 1:
                return True
    return False


def _fix_postal(
    probs: np.ndarray, labels: Any, reading: Reading, address: str, op: digits.Opinion | None
) -> Reading | None:
    """A postal code that does not exist, or names another city than the address, most often has
    one misread digit: keep the likeliest single-digit change that fits the address."""
    text = reading.text
    digits_only = text.replace("-", "")
    if len(digits_only) != 7 or not digits_only.isdigit() or _postal_fits(digits_only, address):
        return None
    pos = [i for i, ch in enumerate(text) if ch.isdigit()]
    cands = []
    for i in pos:
        for d in "0123456789":
            if d != text[i]:
                cand = text[:i] + d + text[i + 1 :]
                if _postal_fits(cand.replace("-", ""), address) and address:
                    cands.append(cand)
    ranked = digits.rank(probs, labels, cands, op)
    if not ranked:
        return None
    return _repaired(reading, *ranked[0])


def _drop_struck(
    crop: np.ndarray, mask: np.ndarray, strike: inkmod.Strike, bb: PxBox
) -> tuple[np.ndarray, np.ndarray]:
    """Remove the struck-out writing. A correction written on its own line (above or below) keeps
    that line; one written beside the struck value keeps what lies outside the struck span."""
    crop, mask = crop.copy(), mask.copy()
    bands = inkmod.split_lines(mask, 2)
    if len(bands) == 2:
        drop = next((b for b in bands if b[0] <= strike.y < b[1]), None)
        if drop is not None:
            crop[drop[0] : drop[1]] = 255
            mask[drop[0] : drop[1]] = False
            return crop, mask
    margin = max(2, bb[3] // 3)
    x0, x1 = max(0, strike.x0 - margin), strike.x1 + margin
    crop[:, x0:x1] = 255
    mask[:, x0:x1] = False
    return crop, mask


def _join(readings: list[Reading]) -> Reading:
    if not readings:
        return Reading("", ())
    if len(readings) == 1:
        return readings[0]
    return Reading("".join(r.text for r in readings), tuple(c for r in readings for c in r.chars))


# What reading noticed about a field beyond its text, as (message, severity); {label} is the
# field's printed label.
READING_FLAGS: dict[str, tuple[str, str]] = {
    "not_in_list": ("「{label}」が一覧にない値です。確認してください。", "error"),
    "check_digit_corrected": (
        "チェックデジットが合わないため、最も確からしい番号に1桁直しました。原本と照合してください。",
        "error",
    ),
    "postal_corrected": (
        "郵便番号が住所と合わないため、住所に合う番号に1桁直しました。確認してください。",
        "error",
    ),
    "digit_reader_only": (
        "記入された数字を補助の数字認識だけで読みました。確認してください。",
        "warning",
    ),
    "kana_from_name": (
        "フリガナの一部を氏名の一般的な読みで補いました。本人の記入と照合してください。",
        "warning",
    ),
    # Two independent readers disagree on a digit: not sure enough to accept unseen.
    "digits_uncertain": ("数字の読み取りが二通りに分かれました。確認してください。", "warning"),
    # The reading leaves ink unread: a character may have been skipped (see ocr/coverage.py).
    "unread_ink": ("読み取れなかった文字があるかもしれません。原本と照合してください。", "warning"),
}


def read_page(
    reader: PageReader, specs: list[FieldSpec], recognizer: Any, postal_address: dict[str, str] | None = None
) -> list[RawField]:
    """Plan every field, recognise all crops in one batch, then finish each field.

    `postal_address` maps a postal-code field to the address field it must agree with (from the
    template's `postal_matches_address` rules), so a misread digit of the code can be repaired.
    """
    planned = [reader.plan(s) for s in specs]
    jobs = [j for _, js in planned for j in js]
    matrices = recognizer.probs([j.crop for j in jobs]) if jobs else []
    labels = recognizer.labels
    by_field: dict[str, dict[str, list[Reading]]] = {}
    flags: dict[str, set[str]] = {code: set() for code in READING_FLAGS}
    postal_probs: dict[str, tuple[np.ndarray, Reading, digits.Opinion | None]] = {}
    kana_probs: dict[str, np.ndarray] = {}
    for job, probs in zip(jobs, matrices, strict=True):
        reading = decode(probs, labels, job.constraint)
        if job.words:
            m = match_lexicon(probs, labels, job.words, reading)
            reading = m.reading
            alone = digits.read_alone(job.ink) if not reading.text and job.ink is not None else None
            if alone is not None and alone.text in job.words:
                # Ink the recogniser read as nothing (a thin 1, say): the digit classifier's
                # reading, capped so that a person confirms it.
                reading = Reading(
                    alone.text, tuple(Char(c.text, min(c.prob, DISAGREE_CONFIDENCE)) for c in alone.chars)
                )
                flags["digit_reader_only"].add(job.field)
            elif not m.in_list:
                flags["not_in_list"].add(job.field)
        op = None
        if _second_digit_reader(job, reading):
            # A second reader on each handwritten digit: where the two disagree, their joint
            # score decides (for a 個人番号, among numbers whose check digit holds).
            op = (
                digits.opinion(probs, labels, reading, job.ink, recognizer.spec)
                if job.ink is not None
                else None
            )
            valid = _validity(job)
            fused = digits.fuse(probs, labels, reading, op, valid) if op is not None else None
            if fused is not None:
                reading = fused
        if job.kind == "my_number":
            fixed = _fix_check_digit(probs, labels, reading, op)
            if fixed is not None:
                reading = fixed
                flags["check_digit_corrected"].add(job.field)
        if op is not None and digits.contradicts(reading.text, op):
            flags["digits_uncertain"].add(job.field)
        if job.ink is not None:
            centres = coverage.placed(probs, labels, reading.text, job.ink, recognizer.spec)
            if coverage.skipped(reading.text, centres, job.ink):
                flags["unread_ink"].add(job.field)
                # The field goes to review either way; with the skipped digits put back, the
                # reviewer confirms a whole number instead of typing the missing digits.
                restored = coverage.restore_digits(reading, centres, job.ink, _validity(job))
                if restored is not None:
                    reading = restored
        if job.kind == "postal_code":
            postal_probs[job.field] = (probs, reading, op)
        if job.kind == "kana" and job.ink is not None:
            kana_probs[job.field] = probs
        slot = job.slot.split("#")[0]
        by_field.setdefault(job.field, {}).setdefault(slot, []).append(reading)
    for postal_f, address_f in (postal_address or {}).items():
        if postal_f not in postal_probs:
            continue
        address = "".join(r.text for r in by_field.get(address_f, {}).get("text", []))
        probs, reading, op = postal_probs[postal_f]
        fixed = _fix_postal(probs, labels, reading, address, op)
        if fixed is not None:
            by_field[postal_f]["text"] = [fixed]
            flags["postal_corrected"].add(postal_f)
    for spec in specs:
        if spec.reading_of is None or spec.name not in kana_probs:
            continue
        name = "".join(r.text for r in by_field.get(spec.reading_of, {}).get("text", []))
        (free,) = by_field[spec.name]["text"]
        helped = read_with_name(kana_probs[spec.name], labels, free, name)
        if helped is not None:
            by_field[spec.name]["text"] = [helped]
            flags["kana_from_name"].add(spec.name)
    out = []
    for rf, _ in planned:
        rf = reader.finish(rf, by_field.get(rf.spec.name, {}))
        name = rf.spec.name
        for code, (message, severity) in READING_FLAGS.items():
            if name in flags[code] and (code != "not_in_list" or rf.raw):
                rf.issues.append(Issue(code, message.format(label=rf.spec.label), (name,), severity))
        if name in flags["digits_uncertain"] or name in flags["unread_ink"]:
            rf.confidence = min(rf.confidence, DISAGREE_CONFIDENCE)
        out.append(rf)
    return out
