"""Japanese number and date formatting of the report, and the Wilson interval (no services)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from pipeline.report import fmt
from pipeline.report.stats import wilson_interval


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 11, 28), "2026年11月28日（令和8年11月28日）"),
        (dt.date(2019, 5, 1), "2019年5月1日（令和元年5月1日）"),
        (dt.date(2019, 4, 30), "2019年4月30日（平成31年4月30日）"),
        (dt.date(1989, 1, 7), "1989年1月7日（昭和64年1月7日）"),
        (dt.date(1989, 1, 8), "1989年1月8日（平成元年1月8日）"),
    ],
)
def test_dates_in_seireki_and_wareki(day: dt.date, expected: str) -> None:
    assert fmt.date_ja(day) == expected


def test_weekday_and_short_date() -> None:
    assert fmt.date_ja(dt.date(2026, 11, 28), weekday=True) == "2026年11月28日（土）（令和8年11月28日）"
    assert fmt.short_date(dt.date(2026, 11, 30)) == "11/30（月）"


def test_numbers() -> None:
    assert fmt.count(1234) == "1,234件"
    assert fmt.count(7, "ページ") == "7ページ"
    assert fmt.count(float("nan")) == "－" and fmt.count(None) == "－"
    assert fmt.percent(0.1234) == "12.3%" and fmt.percent(1) == "100.0%"
    assert fmt.percent(math.nan) == "－"
    assert fmt.duration(12.54) == "12.5秒"
    assert fmt.duration(95) == "1分35秒"
    assert fmt.duration(4000) == "1時間6分40秒"
    assert fmt.cell(12345, "count:項目") == "12,345項目"
    assert fmt.cell("保育", "text") == "保育"


def test_wilson_interval_matches_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, Table I: 0/10 -> 0, 0.2775; 1/29 -> 0.0061, 0.1718
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(1, 29) == pytest.approx((0.0061, 0.1718), abs=1e-4)
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    lo, hi = wilson_interval(0, 0)
    assert math.isnan(lo) and math.isnan(hi)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
