"""Date kinds: date_wareki (和暦) and date (西暦, or 和暦 written in a 西暦 box)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from pipeline.forms.template import FieldSpec
from pipeline.jp.wareki import parse_wareki
from pipeline.normalize.common import (
    Normalized,
    Raw,
    as_text,
    issue,
)


def _wareki_text(spec: FieldSpec, raw: Raw) -> str:
    """A date read in parts arrives as [year, month, day] (era printed) or [era, year, month, day]."""
    if isinstance(raw, list):
        parts = [unicodedata.normalize("NFKC", str(p)).strip() for p in raw]
        if len(parts) == 3:
            return f"{spec.era or ''}{parts[0]}年{parts[1]}月{parts[2]}日"
        if len(parts) == 4:
            return f"{parts[0]}{parts[1]}年{parts[2]}月{parts[3]}日"
        return "".join(parts)
    return as_text(raw)


def date_wareki(spec: FieldSpec, raw: Raw) -> Normalized:
    date, problem = parse_wareki(_wareki_text(spec, raw), default_era=spec.era)
    if date is None:
        return Normalized(None, (issue(spec, "date_invalid", problem or "日付が正しくありません"),))
    return Normalized(date.isoformat())


_DATE_RE = re.compile(r"^(?P<y>\d{4})(?:年|[./\-])(?P<m>\d{1,2})(?:月|[./\-])(?P<d>\d{1,2})日?$")


def date(spec: FieldSpec, raw: Raw) -> Normalized:
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", as_text(raw)))
    m = _DATE_RE.match(s) or re.fullmatch(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})", s)
    if m is None:
        # Someone wrote 和暦 in a 西暦 box: accept it, strictly.
        date, problem = parse_wareki(s)
        if date is None:
            return Normalized(None, (issue(spec, "date_invalid", "日付として読み取れません"),))
        return Normalized(date.isoformat())
    y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
    try:
        return Normalized(dt.date(y, mo, d).isoformat())
    except ValueError:
        return Normalized(
            None, (issue(spec, "date_invalid", f"日付が正しくありません（{y}年{mo}月{d}日は存在しません）"),)
        )
