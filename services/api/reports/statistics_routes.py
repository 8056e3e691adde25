"""Statistics (统计): every figure of the reader's area, or a part of it, for a period, as of a day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from services.api.access import list_scope
from services.api.deps import CurrentAccount, SessionDep
from services.api.errors import invalid
from services.api.reports.schemas import Statistics
from services.api.reports.statistics import Window, statistics_of
from services.domain.form_fields import FormDate
from services.domain.months import local_date

router = APIRouter(prefix="/api/v1/reports", tags=["reports 统计报表与台账"])


@router.get("/statistics", summary="统计（按区划、统计期，可查询历史某日的数字）")
async def get_statistics(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="区划代码（县、镇或村），默认本人辖区")] = None,
    from_date: Annotated[FormDate | None, Query(description="统计期起始日，默认截至日所在月的1日")] = None,
    as_of: Annotated[FormDate | None, Query(description="截至日（含当天），默认今天；可为过去某日")] = None,
) -> Statistics:
    """Households by status, category and risk type; new identifications and exits per month;
    identification time against the 15-day limit; open cases by step and overdue; self-reports
    accepted within their limit; visit coverage; measures by kind; early warnings by outcome.
    Asked again for the same area, period and day, it gives the same numbers."""
    today = local_date(datetime.now(UTC))
    as_of = as_of or today
    if as_of > today:
        raise invalid("as_of", "截至日不能晚于今天")
    from_date = from_date or as_of.replace(day=1)
    if from_date > as_of:
        raise invalid("from_date", "起始日不能晚于截至日")
    return await statistics_of(session, Window(list_scope(account, area), from_date, as_of))
