"""Accounts of people (村干部, 镇审核, 县乡村振兴局, admins): what an admin may set, the rules an
account must follow, and what readers see of it. Department systems never hold accounts: they
sign their requests (../shared/INTERFACES.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import ROLE_AREA_LEVELS
from services.api.errors import forbidden, invalid
from services.api.people.schemas import AccountView
from services.api.people.security import password_problem
from services.db.tables import Account, Area, Task
from services.domain.areas import area_contains, area_level
from services.domain.form_fields import Secret, ShortText
from services.domain.vocabulary import ROLE_LABELS, Role

# Names the service itself uses as actors in the audit (the system, department systems).
_RESERVED = ("system", "department.")


def _strong(password: SecretStr | None) -> SecretStr | None:
    if password is not None and (problem := password_problem(password.get_secret_value())):
        raise ValueError(problem)
    return password


class AccountIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "dongkeng.zhang",
                    "display_name": "东坑村 张建军",
                    "role": "village_cadre",
                    "area_code": "610824100201",
                    "password": "Dongkeng#2026",
                }
            ]
        },
    )

    username: str = Field(
        max_length=50, pattern=r"^[a-z0-9][a-z0-9._-]{2,49}$", description="登录名：小写字母、数字、. _ -，3–50位"
    )
    display_name: ShortText = Field(description="姓名及单位，如 东坑村 张村干部")
    role: Role = Field(description="角色")
    area_code: str = Field(max_length=12, pattern=r"^\d{12}$", description="所在区划代码（须与角色层级一致）")
    password: Secret = Field(description="初始密码")

    @field_validator("username")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == "system" or value.startswith(_RESERVED[1]):
            raise ValueError("该登录名为系统保留，请换一个")
        return value

    _strong_password = field_validator("password")(_strong)


class AccountUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"display_name": "伙场湾村 张建军", "area_code": "610824100202"},
                {"disabled": True},
                {"password": "Huochang@2026"},
            ]
        },
    )

    display_name: ShortText | None = None
    role: Role | None = None
    area_code: str | None = Field(default=None, max_length=12, pattern=r"^\d{12}$")
    disabled: bool | None = Field(default=None, description="停用后该账号的登录凭证立即失效")
    password: Secret | None = Field(default=None, description="重置密码（该账号原有登录凭证立即失效）")

    _strong_password = field_validator("password")(_strong)


class PasswordChange(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"current_password": "Dongkeng#2026", "new_password": "Jingbian@2027"}]},
    )

    current_password: Secret
    new_password: Secret

    _strong_password = field_validator("new_password")(_strong)


def account_view(account: Account) -> AccountView:
    role = Role(account.role)
    return AccountView(
        username=account.username,
        display_name=account.display_name,
        role=role,
        role_label=ROLE_LABELS[role],
        area_code=account.area_code,
        disabled=account.disabled,
        created_at=account.created_at,
        updated_at=account.updated_at,
        updated_by=account.updated_by,
    )


def audit_view(account: Account) -> dict[str, Any]:
    """What the audit keeps of an account: never its password hash."""
    return {
        "display_name": account.display_name,
        "role": account.role,
        "area_code": account.area_code,
        "disabled": account.disabled,
        "token_version": account.token_version,
    }


async def check_placement(session: AsyncSession, admin: Account, role: Role, area_code: str) -> None:
    """The area exists, lies inside the admin's area, and is of the role's level."""
    if role not in ROLE_AREA_LEVELS:
        raise invalid("role", f"「{ROLE_LABELS[role]}」不是账号的角色")
    if not area_contains(admin.area_code, area_code):
        raise forbidden("只能在本人辖区内设置账号")
    if await session.get(Area, area_code) is None:
        raise invalid("area_code", "没有这个区划代码")
    if area_level(area_code) != ROLE_AREA_LEVELS[role]:
        raise invalid("area_code", f"{ROLE_LABELS[role]}的区划应为{_LEVEL_LABELS[ROLE_AREA_LEVELS[role]]}级")


_LEVEL_LABELS = {"county": "县", "township": "镇", "village": "村"}


async def release_claims_of(session: AsyncSession, username: str) -> list[int]:
    """Frees the open tasks someone holds (they were disabled or moved): others may take them."""
    released = await session.execute(
        update(Task)
        .where(col(Task.claimed_by) == username, col(Task.closed_at).is_(None))
        .values(claimed_by=None, claimed_at=None, assigned_by=None, version=col(Task.version) + 1)
        .returning(col(Task.id))
    )
    return sorted(released.scalars().all())
