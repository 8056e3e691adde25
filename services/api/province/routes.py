"""The exchange with the province's monitoring platform (陕西省防返贫监测预警平台), by file
(docs/province-exchange.md): export batches and their acknowledgements, the platform's
warning list and its roster of monitoring targets. County officers only, for their county."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from services.api.access import require_role
from services.api.deps import CurrentAccount, Resources, SessionDep
from services.api.errors import ERROR_RESPONSES, ERROR_SCHEMA
from services.api.province import batches
from services.api.province.roster_check import check_roster, county_discrepancies, discrepancy_view, resolve
from services.api.province.schemas import (
    BatchView,
    DiscrepancyList,
    DiscrepancyView,
    ExportAnswer,
    Resolution,
    RosterCheckAnswer,
    WarningListAnswer,
)
from services.api.province.warnings import receive_warnings
from services.db.tables import Account
from services.domain.province.exchange_format import Acknowledgement, Roster, WarningList, batch_file_name
from services.domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/province", tags=["province 省平台数据交换"])
BatchNo = Annotated[int, Path(ge=1, le=2_147_483_647, description="批次号")]
DiscrepancyId = Annotated[int, Path(ge=1, le=2_147_483_647, description="差异编号")]
_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/x-ndjson": {"schema": {"type": "string", "format": "binary"}}},
        "description": "批次文件（JSON Lines，UTF-8）",
    },
    422: {
        "description": ERROR_RESPONSES[422]["description"],
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    },
}


def _county_officer(account: Account) -> None:
    require_role(account, Role.county_officer)


@router.post("/exports", summary="生成报送批次（自上次确认以来的全部变化）")
async def export(account: CurrentAccount, session: SessionDep) -> ExportAnswer:
    """A new numbered batch of every record changed since the last acknowledged one. 409
    `batch_unacknowledged` (naming the batch) while a batch still awaits the platform's receipt."""
    _county_officer(account)
    batch = await batches.new_batch(session, account)
    if batch is None:
        return ExportAnswer(batch=None, message="自上次平台确认以来没有变化，无需报送")
    view = batches.batch_view(batch)
    await session.commit()
    return ExportAnswer(batch=view, message=f"已生成第{view.batch_no}批次，共{view.record_count}条记录")


@router.get("/exports", summary="报送批次列表")
async def list_exports(account: CurrentAccount, session: SessionDep) -> list[BatchView]:
    _county_officer(account)
    return [batches.batch_view(b) for b in await batches.county_batches(session, account)]


@router.get("/exports/{batch_no}/file", response_class=Response, responses=_FILE, summary="下载（重新报送）批次文件")
async def export_file(batch_no: BatchNo, account: CurrentAccount, session: SessionDep) -> Response:
    """The batch's file, the same bytes every time it is asked for."""
    _county_officer(account)
    batch = await batches.county_batch(session, account, batch_no)
    name = batch_file_name(batch.county_code, batch.batch_no)
    return Response(
        batch.content,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Batch-Sha256": batch.sha256},
    )


@router.post("/exports/{batch_no}/ack", summary="登记省平台回执（确认接收）")
async def acknowledge(
    batch_no: BatchNo, body: Acknowledgement, account: CurrentAccount, session: SessionDep
) -> BatchView:
    _county_officer(account)
    view = batches.batch_view(await batches.acknowledge(session, account, batch_no, body))
    await session.commit()
    return view


@router.post("/warnings", summary="导入省平台监测预警名单（生成识别线索）")
async def import_warnings(
    body: WarningList, account: CurrentAccount, session: SessionDep, resources: Resources
) -> WarningListAnswer:
    _county_officer(account)
    answer = await receive_warnings(session, resources.temporal, resources.settings.temporal_task_queue, account, body)
    await session.commit()
    return answer


@router.post("/rosters", summary="导入省平台监测对象名单并核对（体外循环检查）")
async def import_roster(body: Roster, account: CurrentAccount, session: SessionDep) -> RosterCheckAnswer:
    _county_officer(account)
    answer = await check_roster(session, account, body)
    await session.commit()
    return answer


@router.get("/discrepancies", summary="名单核对差异清单")
async def list_discrepancies(
    account: CurrentAccount,
    session: SessionDep,
    resolved: bool | None = Query(default=None, description="已处理（true）或待处理（false），默认全部"),
) -> DiscrepancyList:
    _county_officer(account)
    return DiscrepancyList(items=[discrepancy_view(r) for r in await county_discrepancies(session, account, resolved)])


@router.post("/discrepancies/{discrepancy_id}/resolution", summary="标记差异已处理")
async def resolve_discrepancy(
    discrepancy_id: DiscrepancyId, body: Resolution, account: CurrentAccount, session: SessionDep
) -> DiscrepancyView:
    _county_officer(account)
    view = discrepancy_view(await resolve(session, account, discrepancy_id, body))
    await session.commit()
    return view
