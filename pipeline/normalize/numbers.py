"""Digit kinds: digits, my_number, number, postal_code, phone."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from pipeline.forms.template import FieldSpec
from pipeline.jp import mynumber
from pipeline.jp import phone as jp_phone
from pipeline.jp.address import PostalLookupError, lookup_postal
from pipeline.jp.text import DASH_CLASS
from pipeline.normalize.common import (
    Normalized,
    Raw,
    as_text,
    digit_string,
    issue,
    length_issue,
)
from pipeline.result import Issue


def digits(spec: FieldSpec, raw: Raw) -> Normalized:
    value = digit_string(raw)
    issues: list[Issue] = []
    if not value.isascii() or not value.isdigit():
        issues.append(issue(spec, "digits_invalid", f"「{spec.label}」に数字以外の文字があります"))
    elif spec.cells is not None and len(value) != spec.cells.count:
        issues.append(issue(spec, "length", f"「{spec.label}」は{spec.cells.count}桁です（{len(value)}桁）"))
    issues += length_issue(spec, value)
    return Normalized(value, tuple(issues))


def my_number(spec: FieldSpec, raw: Raw) -> Normalized:
    # Messages here must never contain the number or any of its digits.
    value = digit_string(raw)
    if not value.isascii() or not value.isdigit():
        return Normalized(value, (issue(spec, "my_number_invalid", "個人番号に数字以外の文字があります"),))
    if len(value) != 12:
        return Normalized(value, (issue(spec, "my_number_length", "個人番号の桁数が12桁ではありません"),))
    if not mynumber.is_valid(value):
        return Normalized(
            value, (issue(spec, "my_number_checksum", "個人番号のチェックデジットが一致しません"),)
        )
    return Normalized(value)


def number(spec: FieldSpec, raw: Raw) -> Normalized:
    text = unicodedata.normalize("NFKC", as_text(raw))
    text = re.sub(r"[\s,]", "", text).replace("−", "-").replace("ー", "-")
    value: int | float
    if re.fullmatch(r"-?\d+", text):
        value = int(text)
    elif re.fullmatch(r"-?\d*\.\d+", text):
        value = float(text)
    else:
        return Normalized(None, (issue(spec, "number_invalid", f"「{spec.label}」が数値として読めません"),))
    if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
        lo = "" if spec.min is None else _fmt_num(spec.min)
        hi = "" if spec.max is None else _fmt_num(spec.max)
        return Normalized(
            value,
            (issue(spec, "out_of_range", f"「{spec.label}」は{lo}〜{hi}の範囲です（{_fmt_num(value)}）"),),
        )
    return Normalized(value)


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def postal_code(spec: FieldSpec, raw: Raw) -> Normalized:
    digits = digit_string(raw).replace("〒", "")
    if not re.fullmatch(r"\d{7}", digits):
        return Normalized(digits, (issue(spec, "postal_invalid", "郵便番号は7桁の数字です"),))
    value = f"{digits[:3]}-{digits[3:]}"
    try:
        rec = lookup_postal(digits)
    except PostalLookupError:
        return Normalized(
            value, (issue(spec, "postal_lookup_failed", "郵便番号辞書を読めず、確認できませんでした"),)
        )
    if rec is None:
        return Normalized(value, (issue(spec, "postal_unknown", f"郵便番号が存在しません（{value}）"),))
    return Normalized(value)


def phone(spec: FieldSpec, raw: Raw) -> Normalized:
    text = unicodedata.normalize("NFKC", as_text(raw))
    text = re.sub(DASH_CLASS, "-", text)
    international = text.strip().startswith("+")
    digits = re.sub(r"\D", "", text)
    invalid = issue(spec, "phone_invalid", f"電話番号が正しくありません（{spec.label}）")
    num = jp_phone.parse(digits, international)
    if num is None:
        return Normalized(digits, (invalid,))
    return Normalized(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL))
