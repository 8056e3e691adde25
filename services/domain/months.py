"""Calendar months in China's time (UTC+8, no daylight saving): visit periods and month arithmetic.

A visit period is a block of `months` calendar months (1: every month), aligned to
January, named by its first month ("2026-11"). Its end is the first instant of the
next block, Beijing time.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone

CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_date(moment: datetime) -> date:
    return moment.astimezone(CHINA_TIME).date()


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _first_of(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def period_of(day: date, months: int) -> str:
    """The name of the period that holds `day`: its first month, "YYYY-MM"."""
    index = _month_index(day)
    return f"{_first_of(index - index % months):%Y-%m}"


def period_first_day(period: str) -> date:
    year, month = period.split("-")
    return date(int(year), int(month), 1)


def next_period(period: str, months: int) -> str:
    """The period `months` later (earlier, if negative)."""
    return f"{_first_of(_month_index(period_first_day(period)) + months):%Y-%m}"


def period_end(period: str, months: int) -> datetime:
    """The first instant after the period, Beijing time."""
    first_after = period_first_day(next_period(period, months))
    return datetime(first_after.year, first_after.month, 1, tzinfo=CHINA_TIME)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later; the 31st becomes the month's last day."""
    local = moment.astimezone(CHINA_TIME)
    index = _month_index(local.date()) + months
    first = _first_of(index)
    day = min(local.day, calendar.monthrange(first.year, first.month)[1])
    return local.replace(year=first.year, month=first.month, day=day).astimezone(moment.tzinfo)
