"""What reading a page plans before the recogniser runs: each text kind's decoding constraint,
the `RawField` each template field becomes, and the OCR `Job`s (crops) a field wants.

Hands on to read.py (which cuts the crops and finishes the fields) and passes.py (which corrects
the readings of the jobs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.fields.geometry import PxBox
from pipeline.forms.template import FieldSpec
from pipeline.ocr.decode import Constraint
from pipeline.result import Char, Issue

WAREKI_PATTERN = "(令和|平成|昭和)(元|D{1,2})年D{1,2}月D{1,2}日"

NUMBER_DIGITS = 3  # a `number` is read as at most this many digits unless its max or box says more
NUMBER_DIGIT_WIDTH = 0.6  # of the box's height: how wide a handwritten digit is, with its gap

CONSTRAINTS: dict[str, Constraint] = {
    "text_ja": Constraint("name"),
    "free_text": Constraint("free"),
    "kana": Constraint("furigana"),
    "number": Constraint("number", f"D{{1,{NUMBER_DIGITS}}}"),  # widened by `number_constraint`
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
TEXT_KINDS = frozenset(CONSTRAINTS)


def number_constraint(spec: FieldSpec) -> Constraint:
    """A `number` field's grammar: up to NUMBER_DIGITS digits (hours, a class, a count), or as
    many as its `max` has, or as its box holds when no `max` is given: an amount in yen or a
    count of thousands written in a form's wide box is no three-digit number, and reading it as
    one would cut it short however clearly it was written."""
    w, h = spec.box[2], spec.box[3]
    fits = int(w / (NUMBER_DIGIT_WIDTH * h)) if h > 0 else NUMBER_DIGITS
    most = len(str(int(abs(spec.max)))) if spec.max is not None else fits
    return CONSTRAINTS["number"] if most <= NUMBER_DIGITS else Constraint("number", f"D{{1,{most}}}")


@dataclass
class RawField:
    spec: FieldSpec
    raw: Any = None  # str for text kinds, str|None for choice, list[str], bool
    chars: tuple[Char, ...] = ()
    confidence: float = 1.0
    issues: list[Issue] = field(default_factory=list)
    box_px: PxBox | None = None
    crop: np.ndarray | None = None  # grey ink crop (after dropout) for review
    # Least probability the digit classifier gives any digit as read, over the field's crops
    # (passes.digit_agreement); None when it judged none or could not judge one of them.
    digit_agreement: float | None = None
    # A boxed date as its parts were read (era or None, year, month, day), for the date repair,
    # which would otherwise parse `raw` back into them; None for every other field.
    wareki: tuple[str | None, tuple[str, str, str]] | None = None


@dataclass(frozen=True)
class Region:
    blank: PxBox  # the box on the blank (and on the print mask)
    page: PxBox  # the same box on the aligned page after local registration


@dataclass
class Job:
    """One OCR crop wanted by a field (a field may want several: date parts, lines)."""

    field: str
    slot: str
    crop: np.ndarray
    constraint: Constraint
    words: tuple[str, ...] | None = None  # the closed list the value must come from, if any
    ink: np.ndarray | None = None  # the crop's ink mask, for the digit second opinion
    kind: str = ""
