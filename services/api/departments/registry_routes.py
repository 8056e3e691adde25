"""The department registry of a county: where each department system is reached, its shared
secret, its answer deadline and when a silent one is asked again. Managed by the county's
admin; secrets are write-only."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import select

from services.api.access import require_role
from services.api.departments.schemas import DepartmentView
from services.api.deps import CurrentAccount, Resources, SessionDep
from services.api.errors import invalid, not_found
from services.db.audit import append_audit
from services.db.tables import DepartmentRecord
from services.departments.registry import secret_box
from services.domain.areas import county_of
from services.domain.form_fields import Number, Secret, Text
from services.domain.identification.cross_check import DEFAULT_REASK_HOURS, REASK_FLOOR_HOURS
from services.domain.vocabulary import DEPARTMENT_KIND_LABELS, DepartmentKind, Role

router = APIRouter(prefix="/api/v1/departments", tags=["departments 部门配置"])
log = logging.getLogger("services.departments")


class DepartmentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "靖边县不动产登记中心",
                    "base_url": "https://bdc.jingbian.example.gov.cn/api",
                    "secret": "k3J9-ZxQ2-mW7v-Lp4s-Rt8y-Nb6c-Hd1f",
                    "answer_days": 5,
                    "reask_hours": 24,
                    "enabled": True,
                }
            ]
        },
    )

    name: Text(100, min_length=1) | None = Field(default=None, description="部门名称，默认为部门类别名称")
    base_url: Text(500) = Field(
        description="部门系统地址，如 https://bdc.example.gov.cn/api（比对请求发往 {base_url}/cross-checks）"
    )
    secret: Secret | None = Field(
        default=None,
        min_length=32,
        description="共享密钥（至少32个字符）；新建时必填，修改时不填则保留原密钥；从不返回",
    )
    answer_days: Number(gt=0, le=60) | None = Field(
        default=None, description="比对反馈时限（天）；不填则按案件政策的信息比对时限"
    )
    reask_hours: Number(ge=REASK_FLOOR_HOURS, le=60 * 24) = Field(
        default=DEFAULT_REASK_HOURS,
        description="部门受理比对请求后超过多少小时未反馈，即以同一请求编号重新询问（默认24小时，不少于1小时），直至反馈时限",
    )
    enabled: bool = Field(default=True, description="停用后不再发送比对请求、不再接收预警")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError("应为 http:// 或 https:// 开头的地址")
        return value.rstrip("/")


def _view(department: DepartmentRecord) -> DepartmentView:
    kind = DepartmentKind(department.kind)
    return DepartmentView(
        kind=kind,
        kind_label=DEPARTMENT_KIND_LABELS[kind],
        county_code=department.county_code,
        name=department.name,
        base_url=department.base_url,
        answer_days=department.answer_days,
        reask_hours=department.reask_hours,
        enabled=department.enabled,
        secret_set=bool(department.secret_sealed),
        secret_updated_at=department.secret_updated_at,
        updated_by=department.updated_by,
        updated_at=department.updated_at,
    )


@router.get("", summary="本县已配置的部门")
async def list_departments(account: CurrentAccount, session: SessionDep) -> list[DepartmentView]:
    require_role(account, Role.admin, Role.county_officer)
    rows = (
        await session.exec(
            select(DepartmentRecord)
            .where(DepartmentRecord.county_code == county_of(account.area_code))
            .order_by(DepartmentRecord.kind)
        )
    ).all()
    return [_view(d) for d in rows]


@router.get("/{kind}", summary="部门配置")
async def get_department(kind: DepartmentKind, account: CurrentAccount, session: SessionDep) -> DepartmentView:
    require_role(account, Role.admin, Role.county_officer)
    department = await _find(session, county_of(account.area_code), kind)
    if department is None:
        raise not_found("本县尚未配置该部门")
    return _view(department)


@router.put("/{kind}", summary="新增或修改部门配置（系统管理员）")
async def put_department(
    kind: DepartmentKind, body: DepartmentIn, account: CurrentAccount, session: SessionDep, resources: Resources
) -> DepartmentView:
    require_role(account, Role.admin)
    county = county_of(account.area_code)
    department = await _find(session, county, kind)
    before = _view(department).model_dump() if department is not None else {}
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
            created_by=account.username,
            updated_by=account.username,
        )
    department.name = body.name or DEPARTMENT_KIND_LABELS[kind]
    department.base_url = body.base_url
    department.answer_days = body.answer_days
    department.reask_hours = body.reask_hours
    department.enabled = body.enabled
    department.updated_by, department.updated_at = account.username, now
    if body.secret is not None:
        department.secret_sealed = secret_box(resources.settings).seal(body.secret.get_secret_value(), county, kind)
        department.secret_updated_at = now
    session.add(department)
    await session.flush()
    await append_audit(
        session,
        account,
        "put_department",
        "department",
        f"{county}:{kind}",
        body.model_dump(mode="json", exclude={"secret"}) | {"secret_replaced": body.secret is not None},
        before=before,
        after=_view(department).model_dump(),
    )
    await session.commit()
    await session.refresh(department)
    log.info(
        "department %s of %s set by %s (secret %s)",
        kind,
        county,
        account.username,
        "replaced" if body.secret is not None else "kept",
    )
    return _view(department)


async def _find(session: SessionDep, county_code: str, kind: DepartmentKind) -> DepartmentRecord | None:
    return (
        await session.exec(
            select(DepartmentRecord).where(DepartmentRecord.county_code == county_code, DepartmentRecord.kind == kind)
        )
    ).first()
