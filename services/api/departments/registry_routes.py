"""The department registry of a county: where each department system is reached, its shared
secret, its answer deadline and when a silent one is asked again. Managed by the county's
admin; secrets are write-only."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from services.api.access import require_role
from services.api.departments.schemas import DepartmentIn, DepartmentView
from services.api.departments.service import department_of, departments_of, set_department
from services.api.departments.views import department_view
from services.api.deps import CurrentAccount, Resources, SessionDep
from services.api.errors import not_found
from services.departments.registry import secret_box
from services.domain.areas import county_of
from services.domain.vocabulary import DepartmentKind, Role

router = APIRouter(prefix="/api/v1/departments", tags=["departments 部门配置"])
log = logging.getLogger("services.departments")


@router.get("", summary="本县已配置的部门")
async def list_departments(account: CurrentAccount, session: SessionDep) -> list[DepartmentView]:
    require_role(account, Role.admin, Role.county_officer)
    return [department_view(d) for d in await departments_of(session, county_of(account.area_code))]


@router.get("/{kind}", summary="部门配置")
async def get_department(kind: DepartmentKind, account: CurrentAccount, session: SessionDep) -> DepartmentView:
    require_role(account, Role.admin, Role.county_officer)
    department = await department_of(session, county_of(account.area_code), kind)
    if department is None:
        raise not_found("本县尚未配置该部门")
    return department_view(department)


@router.put("/{kind}", summary="新增或修改部门配置（系统管理员）")
async def put_department(
    kind: DepartmentKind, body: DepartmentIn, account: CurrentAccount, session: SessionDep, resources: Resources
) -> DepartmentView:
    require_role(account, Role.admin)
    department = await set_department(session, secret_box(resources.settings), account, kind, body)
    await session.commit()
    await session.refresh(department)
    log.info(
        "department %s of %s set by %s (secret %s)",
        kind,
        department.county_code,
        account.username,
        "replaced" if body.secret is not None else "kept",
    )
    return department_view(department)
