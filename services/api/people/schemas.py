"""What the people endpoints answer: accounts, tokens and audit entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.api.answers import Moment, Page
from services.domain.vocabulary import Role


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class Me(BaseModel):
    username: str
    display_name: str
    role: Role
    role_label: str
    area_code: str


class AccountView(BaseModel):
    username: str
    display_name: str
    role: Role
    role_label: str = Field(description="角色名称")
    area_code: str
    disabled: bool
    created_at: Moment | None
    updated_at: Moment | None
    updated_by: str | None


class AccountPage(Page[AccountView]):
    pass


class AuditEntryView(BaseModel):
    """One audited action; ID numbers and phones in its data are masked."""

    id: int
    at: Moment
    action: str
    actor: str = Field(description="操作人登录名（system、department.* 为系统）")
    role: str | None
    area_code: str
    case_id: str | None
    seq: int | None
    subject_type: str
    subject_id: str | None
    data: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(Page[AuditEntryView]):
    pass
