"""Normalise one field's raw reading into the value stored and exported, by the field's kind.

`normalize_field(spec, raw)` is pure: the same spec and raw give the same `Normalized(value, issues)`.
Raw comes from the recogniser (text already constrained to the field's charset) or from a checkbox /
choice reader (bool, option value, list of option values).

Value conventions (what the record stores):

=============== ==========================================================================
kind            value
=============== ==========================================================================
text_ja         str as written (never NFKC: it rewrites 神 U+FA19 etc.); runs of spaces become
                one full-width space; in address fields ０-９ become 0-9 and dashes between
                digits become "-"
free_text       str; lines kept, each trimmed, runs of spaces become one space
kana            str, full-width katakana (hiragana where the form asks for ふりがな: `script`), no spaces
digits          str of ASCII digits
my_number       str of 12 ASCII digits (messages never contain it)
number          int (float only when a decimal point was written)
postal_code     "NNN-NNNN"
phone           "0422-45-1151" (phonenumbers national format)
date_wareki     ISO "YYYY-MM-DD"
date            ISO "YYYY-MM-DD"
checkbox        bool
signature       bool (ink present)
choice          option value str
multi_choice    list[str] of option values, in option order
=============== ==========================================================================

A blank field has value None ([] for multi_choice, False for checkbox/signature). A value that
cannot be parsed at all (a date that does not exist, a number that is not a number) is None with an
error issue; a value that parses but fails a check (check digit, unknown postal code) is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.forms.template import FieldSpec
from pipeline.normalize import dates, marks, numbers, text
from pipeline.normalize.common import Normalized, Raw, charset_issues, is_address_field, is_blank, issue

__all__ = ["KINDS", "Normalized", "Raw", "charset_issues", "is_address_field", "normalize_field"]


def normalize_field(spec: FieldSpec, raw: Raw) -> Normalized:
    """Turn `raw` into the stored value for `spec.kind`; report problems as issues naming the field."""
    fn = KINDS[spec.kind]
    if spec.kind in _BOOL_KINDS:
        return fn(spec, False if raw is None else raw)
    if is_blank(raw):
        empty: Any = [] if spec.kind == "multi_choice" else None
        if spec.required:
            return Normalized(empty, (issue(spec, "required", f"必須項目「{spec.label}」が空欄です"),))
        return Normalized(empty)
    return fn(spec, raw)


_BOOL_KINDS = ("checkbox", "signature")

KINDS: dict[str, Callable[[FieldSpec, Raw], Normalized]] = {
    "text_ja": text.text_ja,
    "free_text": text.free_text,
    "kana": text.kana,
    "digits": numbers.digits,
    "my_number": numbers.my_number,
    "number": numbers.number,
    "postal_code": numbers.postal_code,
    "phone": numbers.phone,
    "date_wareki": dates.date_wareki,
    "date": dates.date,
    "checkbox": marks.checkbox,
    "signature": marks.signature,
    "choice": marks.choice,
    "multi_choice": marks.multi_choice,
}
