"""Plausible date ranges for date fields, and the year/month/day values they allow.

A template may give a field `date_range: ["-7y", "+1y"]`, offsets from the day the scan is
processed (an application date is near today, a nursery child is under seven), or absolute dates
(`[2020-04-01, 2030-03-31]`), or one of each. Reading a date
written in boxes then becomes a choice among valid numbers instead of free digits, which turns
a misread `8` into `令和8年` rather than `令和48年`.
"""

from __future__ import annotations

import datetime as dt
import re

from pipeline.jp.wareki import ERAS
from pipeline.result import Issue

_OFFSET = re.compile(r"^([+-])(\d+)([ymd])$")


def shift(day: dt.date, offset: str) -> dt.date:
    m = _OFFSET.match(offset.strip())
    if not m:
        raise ValueError(f"date offset {offset!r} should look like -7y, +2m or +30d")
    sign = 1 if m[1] == "+" else -1
    n = int(m[2]) * sign
    if m[3] == "d":
        return day + dt.timedelta(days=n)
    months = n * 12 if m[3] == "y" else n
    y, mo = divmod(day.month - 1 + months, 12)
    year = day.year + y
    month = mo + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(offset)


def bound(text: str, today: dt.date) -> dt.date:
    """One end of a `date_range`: an absolute ISO date as it is, an offset from `today` shifted."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return shift(today, text)


def resolve(date_range: tuple[str, str], today: dt.date) -> tuple[dt.date, dt.date]:
    """The field's plausible dates on `today`; each bound is absolute (2020-04-01) or relative (-7y)."""
    return bound(date_range[0], today), bound(date_range[1], today)


def year_words(eras: list[str], lo: dt.date, hi: dt.date) -> tuple[str, ...]:
    """Era years (as written: 元 or digits) that fall in [lo, hi] for any of `eras`."""
    words: list[str] = []
    for name in eras:
        era = ERAS.get(name)
        if era is None:
            continue
        start = max(lo, era.since)
        end = min(hi, (era.until - dt.timedelta(days=1)) if era.until else hi)
        for year in range(start.year, end.year + 1):
            n = year - era.since.year + 1
            words += [str(n)] + (["元"] if n == 1 else [])
    return tuple(dict.fromkeys(words))


def infer_era(
    eras: list[str], parts: tuple[str, str, str], within: tuple[dt.date, dt.date] | None
) -> str | None:
    """The one era among `eras` whose (year, month, day) as written is a real date inside `within`
    (the field's date range); None when none or several fit, or the parts are not numbers.

    A writer who leaves both printed eras (昭和・平成) uncircled still wrote a year, and the years
    the two eras allow for one field rarely overlap: 平成30 is 2018, 昭和30 is 1955."""
    if within is None:
        return None
    try:
        y, m, d = (1 if p.strip() == "元" else int(p) for p in parts)
    except ValueError:
        return None
    fits = []
    for name in eras:
        era = ERAS.get(name)
        if era is None:
            continue
        try:
            day = dt.date(era.since.year + y - 1, m, d)
        except ValueError:
            continue
        if day < era.since or (era.until is not None and day >= era.until):
            continue
        if within[0] <= day <= within[1]:
            fits.append(name)
    return fits[0] if len(fits) == 1 else None


MONTH_WORDS = tuple(str(i) for i in range(1, 13)) + tuple(f"0{i}" for i in range(1, 10))
DAY_WORDS = tuple(str(i) for i in range(1, 32)) + tuple(f"0{i}" for i in range(1, 10))


def range_issue(
    name: str, label: str, date_range: tuple[str, str] | None, value: object, today: dt.date
) -> Issue | None:
    """An error when a date lies outside the field's plausible range (a misread year, usually)."""
    if date_range is None or not isinstance(value, str):
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    lo, hi = resolve(date_range, today)
    if lo <= day <= hi:
        return None
    return Issue(
        "date_out_of_range",
        f"「{label}」の日付（{day.year}年{day.month}月{day.day}日）がありえない範囲です。読み取りを確認してください。",
        (name,),
    )


def wareki_pattern(lo: dt.date, hi: dt.date, eras: tuple[str, ...] = ("令和", "平成", "昭和")) -> str:
    """Decoder grammar for a written 和暦 date inside [lo, hi]: only the eras that overlap the
    range, a month of 1–2 digits that starts 0 or 1, a day that starts 0–3. (Listing every valid
    year/month/day literally is exact but ten times slower to decode; the range check after
    decoding catches the rest.)"""
    used = [e for e in eras if year_words([e], lo, hi)] or list(eras)
    return f"({'|'.join(used)})(元|D{{1,2}})年(D|1D|0D)月(D|1D|2D|3D|0D)日"
