"""The weekly progress report (进展情况周报) and the monthly report (月报): which days each covers.

A report made on a day covers the last complete week (Monday to Sunday) or calendar month before
that day, in the county's calendar; its key names the kind, the area and the period, so producing
it again (a retry, a schedule's catch-up, a county officer asking for it) finds the one kept."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum


class ReportKind(StrEnum):
    weekly = "weekly"
    monthly = "monthly"


REPORT_KIND_LABELS = {ReportKind.weekly: "进展情况周报", ReportKind.monthly: "月报"}


def period_containing(kind: ReportKind, day: date) -> tuple[date, date]:
    """The week (Monday to Sunday) or month that `day` lies in."""
    if kind == ReportKind.weekly:
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def period_before(kind: ReportKind, day: date) -> tuple[date, date]:
    """The last complete week or month before `day` (what a report made on `day` covers)."""
    start, _ = period_containing(kind, day)
    return period_containing(kind, start - timedelta(days=1))


def report_key(kind: ReportKind, area_code: str, first_day: date) -> str:
    return f"{kind.value}-{area_code}-{first_day.isoformat()}"
