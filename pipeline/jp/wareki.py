"""和暦: the modern eras (明治 onward, from japanera's table) and parsing a written 和暦 date
(令和6年4月1日, R6.4.1, kanji numerals, 元年) into a date or a clerk's message."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from japanera import ERA_DATA_GENERAL, Era, EraDate


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


def era_year(y: int) -> str:
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
    written = f"{era.kanji}{era_year(y)}年{mo}月{d}日"
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
            f"。{era.kanji}は{era_year(last.year - era.since.year + 1)}年{last.month}月{last.day}日までです"
        )
    if greg < era.since:
        return f"。{era.kanji}は元年{era.since.month}月{era.since.day}日からです"
    return ""
