"""Department settings of a county and what the county officer follows of the departments' work.
Nothing here commits: the route does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import area_scope
from services.api.departments.schemas import CrossCheckTasks, DepartmentIn, ReceivedWarnings
from services.api.departments.views import cross_check_task, department_view, received_warning
from services.api.errors import invalid
from services.db.audit import append_audit
from services.db.tables import (
    Account,
    CrossCheckCallbackRecord,
    CrossCheckRequestRecord,
    DepartmentRecord,
    EarlyWarningRecord,
)
from services.departments.secret_box import SecretBox
from services.domain.areas import county_of
from services.domain.vocabulary import DEPARTMENT_KIND_LABELS, OFFICER_SEES, DepartmentKind, WarningOutcome


async def departments_of(session: AsyncSession, county_code: str) -> list[DepartmentRecord]:
    query = (
        select(DepartmentRecord)
        .where(col(DepartmentRecord.county_code) == county_code)
        .order_by(col(DepartmentRecord.kind))
    )
    return list((await session.exec(query)).all())


async def department_of(session: AsyncSession, county_code: str, kind: DepartmentKind) -> DepartmentRecord | None:
    return (
        await session.exec(
            select(DepartmentRecord).where(
                col(DepartmentRecord.county_code) == county_code, col(DepartmentRecord.kind) == kind
            )
        )
    ).first()


async def set_department(
    session: AsyncSession, box: SecretBox, admin: Account, kind: DepartmentKind, body: DepartmentIn
) -> DepartmentRecord:
    """Adds or changes the county's department of this kind; a new one needs its secret."""
    county = county_of(admin.area_code)
    # Two admins setting the same department at once: the second waits, then changes what the first made.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"department:{county}:{kind}"))))
    department = await department_of(session, county, kind)
    before = department_view(department).model_dump() if department is not None else {}
    now = datetime.now(UTC)
    if department is None:
        if body.secret is None:
            raise invalid("secret", "新建部门配置时必须填写共享密钥")
        department = DepartmentRecord(
            county_code=county,
            kind=kind,
            name="",
            base_url="",
            secret_sealed="",
            created_by=admin.username,
            updated_by=admin.username,
        )
    department.name = body.name or DEPARTMENT_KIND_LABELS[kind]
    department.base_url = body.base_url
    department.answer_days = body.answer_days
    department.reask_hours = body.reask_hours
    department.enabled = body.enabled
    department.updated_by, department.updated_at = admin.username, now
    if body.secret is not None:
        if department.secret_sealed:
            department.previous_secret_sealed = department.secret_sealed
            department.previous_secret_until = now + timedelta(hours=body.previous_secret_hours)
        department.secret_sealed = box.seal(body.secret.get_secret_value(), county, kind)
        department.secret_updated_at = now
    session.add(department)
    await session.flush()
    await append_audit(
        session,
        admin,
        "put_department",
        "department",
        f"{county}:{kind}",
        body.model_dump(mode="json", exclude={"secret"}) | {"secret_replaced": body.secret is not None},
        before=before,
        after=department_view(department).model_dump(),
    )
    return department


async def cross_check_tasks(session: AsyncSession, area_code: str, limit: int) -> CrossCheckTasks:
    """Soonest deadline first."""
    in_area = area_scope(CrossCheckRequestRecord, area_code)
    requests = (
        await session.exec(
            select(CrossCheckRequestRecord)
            .where(
                in_area,
                col(CrossCheckRequestRecord.is_live),
                col(CrossCheckRequestRecord.is_latest),
                col(CrossCheckRequestRecord.status).in_([str(s) for s in OFFICER_SEES]),
            )
            .order_by(col(CrossCheckRequestRecord.respond_by))
            .limit(limit)
        )
    ).all()
    stuck = (
        await session.exec(
            select(CrossCheckRequestRecord, CrossCheckCallbackRecord)
            .join(
                CrossCheckCallbackRecord,
                col(CrossCheckCallbackRecord.request_id) == col(CrossCheckRequestRecord.request_id),
            )
            .where(
                in_area,
                col(CrossCheckCallbackRecord.delivered_at).is_(None),
                col(CrossCheckCallbackRecord.needs_attention_since).is_not(None),
            )
            .order_by(col(CrossCheckRequestRecord.respond_by))
            .limit(limit)
        )
    ).all()
    items = {(r.case_id, r.department): cross_check_task(r) for r in requests}
    # An answer waiting for its case stands for the department, whatever its request's status.
    items |= {(r.case_id, r.department): cross_check_task(r, answer) for r, answer in stuck}
    return CrossCheckTasks(items=sorted(items.values(), key=lambda t: t.respond_by)[:limit])


async def received_warnings(
    session: AsyncSession,
    county_code: str,
    outcome: WarningOutcome | None,
    household_code: str | None,
    needs_attention: bool | None,
    limit: int,
) -> ReceivedWarnings:
    """Newest first."""
    query = select(EarlyWarningRecord).where(col(EarlyWarningRecord.county_code) == county_code)
    if outcome is not None:
        query = query.where(col(EarlyWarningRecord.outcome) == outcome)
    if household_code is not None:
        query = query.where(col(EarlyWarningRecord.household_code) == household_code)
    if needs_attention is not None:
        stuck = col(EarlyWarningRecord.delivered_at).is_(None) & col(EarlyWarningRecord.needs_attention_since).is_not(
            None
        )
        query = query.where(stuck if needs_attention else ~stuck)
    rows = (await session.exec(query.order_by(col(EarlyWarningRecord.id).desc()).limit(limit))).all()
    return ReceivedWarnings(items=[received_warning(w) for w in rows])
