"""Kept weekly and monthly reports: listed, read, downloaded (Excel) and printed, each reader only
those of their own area; a county officer produces them for a past week or month."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError

from services.api.access import list_scope, require_role, visible
from services.api.deps import CurrentAccount, Resources, SessionDep
from services.api.errors import invalid, workflow_unavailable
from services.api.reports.downloads import JSON_REFUSAL, XLSX_RESPONSES, workbook_answer
from services.api.reports.report_documents import report_page, report_workbook, title_of
from services.api.reports.schemas import KeptReportList, KeptReportView, ReportOrder, Statistics
from services.db.reports import KeptReport
from services.domain.areas import area_prefix
from services.domain.months import local_date
from services.domain.reports.periods import REPORT_KIND_LABELS, ReportKind, period_containing
from services.domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/reports/kept", tags=["reports 统计报表与台账"])
_NOT_FOUND = "没有找到该报表，或不在您的管辖区域内"
PRODUCE_SECONDS = 60


def _view(report: KeptReport) -> KeptReportView:
    assert report.produced_at is not None
    return KeptReportView(
        report_key=report.report_key,
        kind=report.kind,
        kind_label=REPORT_KIND_LABELS[ReportKind(report.kind)],
        area_code=report.area_code,
        area_name=report.area_name,
        from_date=report.from_date,
        to_date=report.to_date,
        produced_by=report.produced_by,
        produced_at=report.produced_at,
    )


def _require_reader(account: CurrentAccount) -> None:
    """Reports are the townships' and the county's: what their officers hand in and file."""
    require_role(account, Role.township_approver, Role.county_officer, Role.admin)


async def _visible_report(session: AsyncSession, account: CurrentAccount, report_key: str) -> KeptReport:
    _require_reader(account)
    return await visible(session, account, KeptReport, report_key, _NOT_FOUND, area_field="area_code")


@router.get("", summary="已生成的周报、月报（本人辖区内的县、镇报表）")
async def list_reports(
    account: CurrentAccount,
    session: SessionDep,
    area: Annotated[str | None, Query(description="区划代码，默认本人辖区")] = None,
    kind: Annotated[ReportKind | None, Query(description="weekly 周报 / monthly 月报")] = None,
    limit: int = Query(default=50, ge=1, le=200),
) -> KeptReportList:
    """Newest period first."""
    _require_reader(account)
    scope = list_scope(account, area)
    query = select(KeptReport).where(col(KeptReport.area_code).startswith(area_prefix(scope)))
    if kind is not None:
        query = query.where(col(KeptReport.kind) == kind)
    query = query.order_by(col(KeptReport.from_date).desc(), col(KeptReport.area_code)).limit(limit)
    return KeptReportList(items=[_view(r) for r in (await session.execute(query)).scalars()])


@router.post("", status_code=201, summary="生成过去某周或某月的报表（县乡村振兴局）")
async def produce_reports(order: ReportOrder, account: CurrentAccount, resources: Resources) -> KeptReportList:
    """The reports of every township and the county for the week or month containing `day`; those
    already kept are answered as they were (the same numbers: they are read as of the period's end)."""
    from services.workflows.reports import ReportRequest, ReportWorkflow

    require_role(account, Role.county_officer)
    first, last = period_containing(order.kind, order.day)
    if last >= local_date(datetime.now(UTC)):
        raise invalid("day", "只能生成已结束的周或月的报表")
    request = ReportRequest(kind=order.kind, from_date=first, to_date=last, produced_by=account.username)
    try:
        # Seconds, not minutes: with no worker to run it the request is answered 503, not left waiting.
        async with asyncio.timeout(PRODUCE_SECONDS):
            await resources.temporal.execute_workflow(
                ReportWorkflow.run,
                request,
                id=f"report-{order.kind.value}-{first.isoformat()}",
                task_queue=resources.settings.temporal_task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
    except (RPCError, TimeoutError) as error:
        raise workflow_unavailable() from error
    async with resources.sessions() as session:
        query = select(KeptReport).where(
            col(KeptReport.kind) == order.kind,
            col(KeptReport.from_date) == first,
            col(KeptReport.area_code).startswith(area_prefix(account.area_code)),
        )
        return KeptReportList(
            items=[_view(r) for r in (await session.execute(query.order_by(col(KeptReport.area_code)))).scalars()]
        )


@router.get("/{report_key}", summary="报表数字")
async def get_report(report_key: str, account: CurrentAccount, session: SessionDep) -> Statistics:
    return Statistics.model_validate((await _visible_report(session, account, report_key)).statistics)


@router.get(
    "/{report_key}/workbook",
    response_class=StreamingResponse,
    responses=XLSX_RESPONSES,
    summary="报表下载（Excel）",
)
async def download_report(report_key: str, account: CurrentAccount, session: SessionDep) -> StreamingResponse:
    report = await _visible_report(session, account, report_key)
    kind, figures = ReportKind(report.kind), Statistics.model_validate(report.statistics)
    return workbook_answer(report_workbook(kind, figures), f"{title_of(kind, figures)}.xlsx")


@router.get(
    "/{report_key}/page", response_class=HTMLResponse, responses={422: JSON_REFUSAL}, summary="报表（可打印页面）"
)
async def print_report(report_key: str, account: CurrentAccount, session: SessionDep) -> HTMLResponse:
    report = await _visible_report(session, account, report_key)
    return HTMLResponse(report_page(ReportKind(report.kind), Statistics.model_validate(report.statistics)))
