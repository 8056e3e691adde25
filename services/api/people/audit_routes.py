"""The audit log, for county officers: who did what, when, with the data given and what it
changed. Read-only: this router has no other method, and the table refuses UPDATE, DELETE and
TRUNCATE (migration 0001). Personal data in it is masked here, as in every list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api.access import require_role
from services.api.deps import CurrentAccount, SessionDep
from services.api.errors import invalid
from services.api.people.schemas import AuditPage
from services.api.people.service import AuditFilter, audit_page
from services.domain.form_fields import FormDateTime
from services.domain.vocabulary import Role

router = APIRouter(prefix="/api/v1/audit", tags=["audit 审计"])


@router.get("", summary="审计日志查询（县乡村振兴局）")
async def query_audit(
    account: CurrentAccount,
    session: SessionDep,
    case_id: Annotated[str | None, Query(max_length=40, description="案件编号")] = None,
    actor: Annotated[
        str | None, Query(max_length=50, description="操作人登录名（system、department.* 为系统）")
    ] = None,
    subject_type: Annotated[
        str | None, Query(max_length=20, description="case、monitoring、account、task、policy、department、household")
    ] = None,
    subject_id: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[FormDateTime | None, Query(description="起始时间（含），如 2026-11-29T00:00:00+08:00")] = None,
    until: Annotated[FormDateTime | None, Query(description="截止时间（不含）")] = None,
    limit: int = Query(default=50, ge=1, le=500),
    cursor: str | None = Query(default=None, max_length=200),
) -> AuditPage:
    """Newest first. Entries of actions taken inside the caller's area (by its people and by the
    systems acting for it)."""
    require_role(account, Role.county_officer)
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise invalid(name, "日期时间须带时区，如 +08:00")
    wanted = AuditFilter(account.area_code, case_id, actor, subject_type, subject_id, action, since, until)
    return await audit_page(session, wanted, limit, cursor)
