"""Roster downloads (台账): Excel workbooks streamed from the database, each reader's own area."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.access import CASEWORK_ROLES, list_scope
from services.api.deps import CurrentAccount, Resources
from services.api.errors import invalid
from services.api.reports.downloads import XLSX_RESPONSES, workbook_answer
from services.api.reports.rosters import (
    ROSTER_TITLES,
    RosterFilter,
    RosterKind,
    roster_query,
    roster_shape,
)
from services.api.reports.xlsx_stream import xlsx_stream
from services.domain.form_fields import FormDate
from services.domain.vocabulary import HouseholdStatus

router = APIRouter(prefix="/api/v1/reports", tags=["reports 统计报表与台账"])

# Rows fetched from the database per round trip while streaming.
_BATCH = 5000


async def _rendered_rows(engine: AsyncEngine, query: Any) -> AsyncIterator[Sequence[str]]:
    """The roster's rows, a batch at a time, through a server-side cursor of its own connection
    (the request's session is done with once the response starts)."""
    async with engine.connect() as conn:
        result = await conn.stream(query.execution_options(yield_per=_BATCH))
        async for batch in result.partitions(_BATCH):
            yield [row[0] for row in batch]


async def _sheet_bytes(engine: AsyncEngine, kind: RosterKind, wanted: RosterFilter) -> AsyncIterator[bytes]:
    shape = roster_shape(kind, wanted)
    rows = _rendered_rows(engine, roster_query(shape))
    async for chunk in xlsx_stream(ROSTER_TITLES[kind], [c.heading for c in shape.columns], rows):
        yield chunk


@router.get(
    "/rosters/{kind}",
    response_class=StreamingResponse,
    responses=XLSX_RESPONSES,
    summary="台账下载（Excel）：监测对象、脱贫户、走访、帮扶措施、识别认定案件",
)
async def download_roster(
    kind: RosterKind,
    account: CurrentAccount,
    resources: Resources,
    area: Annotated[str | None, Query(description="区划代码（县、镇或村），默认本人辖区")] = None,
    status: Annotated[HouseholdStatus | None, Query(description="户的监测状态")] = None,
    from_date: Annotated[
        FormDate | None, Query(description="起始日期（纳入监测、走访、措施开始或案件启动的日期）")
    ] = None,
    to_date: Annotated[FormDate | None, Query(description="截止日期（含当天）")] = None,
) -> StreamingResponse:
    """Chinese column headings; ID numbers and phones whole for the village cadres, township approvers
    and county officers of the area, masked for everyone else. The rows stream: memory stays flat."""
    if from_date is not None and to_date is not None and from_date > to_date:
        raise invalid("from_date", "起始日期不能晚于截止日期")
    wanted = RosterFilter(
        scope=list_scope(account, area),
        whole_personal_data=account.role in CASEWORK_ROLES,
        status=status,
        from_date=from_date,
        to_date=to_date,
    )
    return workbook_answer(_sheet_bytes(resources.engine, kind, wanted), f"{ROSTER_TITLES[kind]}-{wanted.scope}.xlsx")
