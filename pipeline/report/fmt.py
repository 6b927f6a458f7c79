"""Numbers and dates as a Japanese office writes them: 1,234件, 12.3%, 2026年11月28日（令和8年11月28日）.

Used by the HTML page only; the DataFrames, CSV and XLSX keep plain numbers so a spreadsheet can
sum them.
"""

from __future__ import annotations

import datetime as dt
import math

from japanera import EraDate

WEEKDAYS = "月火水木金土日"


def wareki(d: dt.date) -> str:
    """令和8年11月28日; the first year of an era is 元年 (令和元年5月1日)."""
    era = EraDate.from_date(d).era
    year = d.year - era.since.year + 1
    return f"{era.kanji}{'元' if year == 1 else year}年{d.month}月{d.day}日"


def seireki(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def date_ja(d: dt.date, *, weekday: bool = False) -> str:
    """2026年11月28日（令和8年11月28日）, or with the weekday: 2026年11月28日（土）（令和8年11月28日）."""
    wd = f"（{WEEKDAYS[d.weekday()]}）" if weekday else ""
    return f"{seireki(d)}{wd}（{wareki(d)}）"


def short_date(d: dt.date) -> str:
    """11/28（土）: for table columns and chart axes, where the full form does not fit."""
    return f"{d.month}/{d.day}（{WEEKDAYS[d.weekday()]}）"


def is_missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def count(n: object, unit: str = "件") -> str:
    """1,234件; a missing value is a dash, never 0."""
    if is_missing(n):
        return "－"
    return f"{int(round(float(n))):,}{unit}"  # type: ignore[arg-type]


def percent(share: object, digits: int = 1) -> str:
    """0.1234 → 12.3%."""
    if is_missing(share):
        return "－"
    return f"{float(share) * 100:,.{digits}f}%"  # type: ignore[arg-type]


def number(x: object, digits: int = 1, unit: str = "") -> str:
    if is_missing(x):
        return "－"
    return f"{float(x):,.{digits}f}{unit}"  # type: ignore[arg-type]


def duration(seconds: object) -> str:
    """95 → 1分35秒; 4000 → 1時間6分40秒; under a minute keeps one decimal (12.5秒)."""
    if is_missing(seconds):
        return "－"
    s = float(seconds)  # type: ignore[arg-type]
    if s < 60:
        return f"{s:.1f}秒"
    total = int(round(s))
    h, rest = divmod(total, 3600)
    m, sec = divmod(rest, 60)
    return (f"{h:,}時間" if h else "") + f"{m}分{sec}秒"


def cell(value: object, kind: str) -> str:
    """One table cell by its column kind (see `pipeline.report.sections.Table.kinds`)."""
    if kind == "text":
        return "" if is_missing(value) else str(value)
    if kind == "date":
        return short_date(value) if isinstance(value, dt.date) else str(value)  # type: ignore[arg-type]
    if kind == "percent":
        return percent(value)
    if kind == "seconds":
        return duration(value)
    if kind == "rate":
        return number(value, 1)
    if kind.startswith("count:"):
        return count(value, kind.split(":", 1)[1])
    if kind == "int":
        return count(value, "")
    return str(value)
