"""What department systems send: cross-check results and early warnings (INTERFACES.md §2, §3).

No sign-in: each request is signed with the department's shared secret."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.api.departments.callbacks import accept_result
from services.api.departments.early_warnings import receive_batch
from services.api.departments.schemas import BatchReceipt, CallbackReceipt
from services.api.deps import Resources
from services.departments.registry import secret_box

router = APIRouter(prefix="/api/v1", tags=["departments 部门接口（签名）"])

_SIGNED = "Signed with the department's secret: `X-Timestamp`, `X-Signature: sha256=<hex>` (INTERFACES.md)."


@router.post(
    "/callbacks/cross-checks/{request_id}",
    summary="部门回传信息比对结果",
    description=_SIGNED + " 200 recorded (or a repeat); 401 bad signature; 404 no such request; "
    "409 no longer awaited; 422 body does not match the contract.",
)
async def cross_check_result(request_id: str, request: Request, resources: Resources) -> CallbackReceipt:
    body = await request.body()
    status = await accept_result(resources.engine, secret_box(resources.settings), request_id, request.headers, body)
    return CallbackReceipt(request_id=request_id, status=status)


@router.post(
    "/early-warnings",
    response_model=BatchReceipt,
    response_model_exclude_unset=True,  # `reason` only where there is one (INTERFACES.md §3)
    summary="部门推送预警信息（每批最多1000条）",
    description=_SIGNED + " 200 with one outcome per warning, in order: opened, joined, below_threshold, "
    "unknown_person, duplicate, or invalid (with a reason).",
)
async def early_warnings(request: Request, resources: Resources) -> dict[str, Any]:
    body = await request.body()
    return await receive_batch(
        resources.engine, secret_box(resources.settings), resources.settings.temporal_task_queue, request.headers, body
    )
