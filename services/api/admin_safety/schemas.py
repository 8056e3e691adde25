"""What the admin safety endpoints take and answer."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.api.answers import Moment
from services.domain.form_fields import LongText, RequiredText, ShortText, Text


class CountySettingsIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"second_admin_for_admin_grants": True, "reason": "按等保要求实行双人复核"}]},
    )

    second_admin_for_admin_grants: bool = Field(description="授予系统管理员权限是否须经另一名管理员批准（双人复核）")
    reason: RequiredText = Field(description="修改理由（记入审计）")


class CountySettingsView(BaseModel):
    county_code: str
    second_admin_for_admin_grants: bool
    updated_by: str | None = Field(description="最后修改人；从未修改过为空（默认设置）")
    updated_at: Moment | None


class AdminGrantIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"username": "county.officer", "reason": "原管理员调岗，由其接任系统管理员"}]},
    )

    username: ShortText = Field(description="要授予系统管理员权限的账号（本县内）")
    reason: RequiredText = Field(description="授权事由")


class GrantRefusal(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "该同志未经县局研究确定"}]})

    note: RequiredText = Field(description="不予批准（或撤回申请）的理由")


class GrantApproval(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": ""}]})

    note: LongText = Field(default="", description="批准意见，可为空")


GrantStatus = Literal["pending", "granted", "refused"]


class AdminGrantView(BaseModel):
    id: int
    username: str
    status: GrantStatus = Field(description="pending 待另一名管理员批准；granted 已授权；refused 未批准或已撤回")
    status_label: str
    reason: str
    requested_by: str
    requested_at: Moment
    decided_by: str | None
    decided_at: Moment | None
    decision_note: str | None


class SignInUnlockIn(BaseModel):
    """Exactly one of the two: an account of the admin's area, or a client address."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"username": "dongkeng.cadre"}, {"address": "10.20.30.40"}]},
    )

    username: ShortText | None = Field(default=None, description="解除该账号的登录锁定")
    # Typed text first: an IPv6 scope (fe80::1%…) may hold any character, a NUL too.
    address: Annotated[str, Text(45, strip=False)] | None = Field(
        default=None, description="解除该网络地址（IP）的登录锁定"
    )

    @field_validator("address")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError("不是有效的 IP 地址") from None

    @model_validator(mode="after")
    def _exactly_one(self) -> SignInUnlockIn:
        if (self.username is None) == (self.address is None):
            raise ValueError("请填写账号（username）或网络地址（address）其中之一")
        return self


class SignInUnlockView(BaseModel):
    username: str | None
    address: str | None
    was_locked: bool = Field(description="解除前是否处于锁定状态")
    locked_until: Moment | None = Field(description="原定锁定到何时（未锁定为空）")
