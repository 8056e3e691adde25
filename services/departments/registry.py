"""Reading the department registry (table `departments`), for the worker and the API."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from services.db.tables import DepartmentRecord
from services.departments.secret_box import SecretBox
from services.settings import Settings


@lru_cache
def _box(key_b64: str) -> SecretBox:
    return SecretBox(key_b64)


def secret_box(settings: Settings) -> SecretBox:
    return _box(settings.department_secret_key)


async def enabled_department(conn: AsyncConnection, county_code: str, kind: str) -> DepartmentRecord | None:
    row = (
        await conn.execute(
            select(DepartmentRecord).where(
                col(DepartmentRecord.county_code) == county_code,
                col(DepartmentRecord.kind) == kind,
                col(DepartmentRecord.enabled),
            )
        )
    ).first()
    return DepartmentRecord.model_validate(row._mapping) if row else None


def department_secret(settings: Settings, department: DepartmentRecord) -> str:
    return secret_box(settings).open(department.secret_sealed, department.county_code, department.kind)
