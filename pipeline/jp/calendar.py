"""Business days in Japan: weekends and national holidays (the maintained `jpholiday` calendar)
are not working days. Used for review deadlines (`deadline: {business_days: N}` in a template)
and the days left shown in the review queue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import jpholiday

JST = ZoneInfo("Asia/Tokyo")


def is_business_day(d: date) -> bool:
    return d.weekday() < 5 and not jpholiday.is_holiday(d)


def add_business_days(start: date, n: int) -> date:
    """The n-th business day after `start` (start itself does not count, as for 受付日 + n日)."""
    d = start
    while n > 0:
        d += timedelta(days=1)
        if is_business_day(d):
            n -= 1
    return d


def business_days_left(deadline: date, today: date) -> int:
    """Business days from today to the deadline; 0 on the day, negative once it has passed."""
    if deadline == today:
        return 0
    step = 1 if deadline > today else -1
    n, d = 0, today
    while d != deadline:
        d += timedelta(days=step)
        if is_business_day(d):
            n += step
    return n


def jst_date(moment: datetime) -> date:
    """The calendar day in Japan of a UTC timestamp (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(JST).date()
