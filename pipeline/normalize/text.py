"""Text kinds: text_ja (names, addresses), free_text, kana."""

from __future__ import annotations

import re

import jaconv

from pipeline.forms.template import FieldSpec
from pipeline.jp.address import close_building_gap, fold_address_digits
from pipeline.jp.kana import fix_small_kana
from pipeline.jp.text import DASH_CLASS, SPACES_RE
from pipeline.normalize.common import (
    Normalized,
    Raw,
    as_text,
    charset_issues,
    is_address_field,
    issue,
    length_issue,
)
from pipeline.result import Issue

# Facility names end in one of a few words (保育園, こども園, 認定こども園, 保育所, 保育ルーム),
# and the recogniser's usual slips on them are a lost dakuten (ことも) or a look-alike kanji
# (保斎, 保有, 国 for 園). At the end of a value these are never meant, so they are folded back.
_FACILITY_SLIPS = (
    (re.compile(r"ことも([園国圃團圈])$"), "こども園"),
    (re.compile(r"こども[国圃團圈]$"), "こども園"),
    (re.compile(r"保[斎有斉]([園国圃團圈所])$"), None),
    (re.compile(r"保育[国圃團圈]$"), "保育園"),
)
# The box's printed rule or the pen's run-out read as a row of dashes after the value.
_TRAILING_RULE = re.compile(r"[-_‐―－—–＿]{2,}$")
# Japanese text takes full-width brackets: 清一（市立みどり保育園）.
_BRACKETS = str.maketrans({"(": "（", ")": "）"})
_BRACKETED = re.compile(r"（[^（）]*）")


def fold_facility_suffix(value: str) -> str:
    """`〜ことも園` → `〜こども園`, `〜保斎園` → `〜保育園`: a facility-name ending misread."""
    # A facility in brackets (a sibling's: 年宏（山宮保育團）) has its ending fixed too.
    m = _BRACKETED.search(value)
    if m is not None and m.end() == len(value):
        inner = fold_facility_suffix(value[m.start() + 1 : m.end() - 1])
        return value[: m.start() + 1] + inner + "）"
    for pat, repl in _FACILITY_SLIPS:
        m = pat.search(value)
        if m is None:
            continue
        if repl is None:  # keep the last character (園 or 所), fix 育
            last = "園" if m.group(1) in "国圃團圈" else m.group(1)
            return value[: m.start()] + "保育" + last
        return value[: m.start()] + repl
    return value


def text_ja(spec: FieldSpec, raw: Raw) -> Normalized:
    # Lines of a multi-line box are wrapping, not structure, in Japanese: join them directly.
    text = "".join(line.strip() for line in as_text(raw).splitlines())
    value = SPACES_RE.sub("\u3000", text.strip(" \t\u3000\u00a0"))
    value = _TRAILING_RULE.sub("", value)
    if is_address_field(spec):
        # An address never ends in punctuation: a full stop there is a speck or the pen lifting.
        value = close_building_gap(fold_address_digits(value)).rstrip("。、．，.,")
    else:
        value = fold_facility_suffix(value.translate(_BRACKETS))
    issues = charset_issues(spec, value) + length_issue(spec, value)
    return Normalized(value, tuple(issues))


def free_text(spec: FieldSpec, raw: Raw) -> Normalized:
    lines = [SPACES_RE.sub(" ", line).strip() for line in as_text(raw, "\n").splitlines()]
    value = "\n".join(lines).strip("\n")
    value = re.sub(r"\n{3,}", "\n\n", value)
    if is_address_field(spec):
        value = fold_address_digits(value)
    issues = charset_issues(spec, value) + length_issue(spec, value)
    return Normalized(value, tuple(issues))


_KANA_OK = re.compile(r"^[\u30a1-\u30fe]*$")  # katakana, ・ ー ヽ ヾ


def kana(spec: FieldSpec, raw: Raw) -> Normalized:
    text = jaconv.h2z(as_text(raw), kana=True, ascii=False, digit=False)
    text = jaconv.hira2kata(text)
    text = re.sub(r"\s+", "", text)
    # A dash after a kana is a long-vowel mark written or read as a dash.
    text = re.sub(rf"(?<=[\u30a1-\u30fa]){DASH_CLASS}", "ー", text)
    text = fix_small_kana(text)
    issues: list[Issue] = []
    if not _KANA_OK.match(text):
        bad = "".join(dict.fromkeys(c for c in text if not _KANA_OK.match(c)))
        issues.append(issue(spec, "kana_invalid", f"フリガナにカナ以外の文字があります（{bad}）"))
    issues += length_issue(spec, text)
    if spec.script == "hiragana":
        # Read and checked as katakana like any furigana; given in the script the form asks for.
        text = jaconv.kata2hira(text)
    return Normalized(text, tuple(issues))
