"""Moments in the county's time (Beijing, UTC+8) where date arithmetic goes wrong if a date is
taken in the wrong zone. Time-skipping tests skip the server's clock to one of them on purpose
instead of depending on when the suite runs. Each is the first such moment at least `lead`
after `now`, so a test has room to prepare what must happen before it."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import datetime, timedelta

from services.domain.months import CHINA_TIME

Moment = Callable[[datetime, timedelta], datetime]


def _first_on_or_after(earliest: datetime, candidates: Callable[[int, int], datetime | None]) -> datetime:
    local = earliest.astimezone(CHINA_TIME)
    year, month = local.year, local.month
    while True:
        moment = candidates(year, month)
        if moment is not None and moment >= earliest:
            return moment
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def first_minutes_of_a_month(now: datetime, lead: timedelta) -> datetime:
    """00:05 Beijing on the 1st: in UTC it is still the previous day, and the previous month."""
    return _first_on_or_after(now + lead, lambda y, m: datetime(y, m, 1, 0, 5, tzinfo=CHINA_TIME))


def last_minutes_of_a_month(now: datetime, lead: timedelta) -> datetime:
    """23:55 Beijing on a month's last day: five minutes before the month (and its visit period) ends."""
    return _first_on_or_after(
        now + lead, lambda y, m: datetime(y, m, calendar.monthrange(y, m)[1], 23, 55, tzinfo=CHINA_TIME)
    )


def leap_day(now: datetime, lead: timedelta) -> datetime:
    """Noon Beijing on 29 February: six months on is 29 August, twelve months on does not exist."""
    return _first_on_or_after(
        now + lead, lambda y, m: datetime(y, 2, 29, 12, 0, tzinfo=CHINA_TIME) if m == 2 and calendar.isleap(y) else None
    )


AWKWARD_MOMENTS: dict[str, Moment] = {
    "first_minutes_of_a_month": first_minutes_of_a_month,
    "last_minutes_of_a_month": last_minutes_of_a_month,
    "leap_day": leap_day,
}
