"""What the department endpoints answer: the county's department settings, the cross-check
tasks and warnings the county officer follows, and the answers to department systems
(INTERFACES.md §2, §3)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.api.answers import Items, Moment
from services.domain.form_fields import Number, Secret, Text
from services.domain.identification.cross_check import DEFAULT_REASK_HOURS, REASK_FLOOR_HOURS
from services.domain.vocabulary import DepartmentKind, WarningDelivery, WarningOutcome


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

    name: Annotated[str, Text(100, min_length=1)] | None = Field(
        default=None, description="部门名称，默认为部门类别名称"
    )
    base_url: Annotated[str, Text(500)] = Field(
        description="部门系统地址，如 https://bdc.example.gov.cn/api（比对请求发往 {base_url}/cross-checks）"
    )
    secret: Secret | None = Field(
        default=None,
        min_length=32,
        description="共享密钥（至少32个字符）；新建时必填，修改时不填则保留原密钥；从不返回",
    )
    answer_days: Annotated[float, Number(gt=0, le=60)] | None = Field(
        default=None, description="比对反馈时限（天）；不填则按案件政策的信息比对时限"
    )
    reask_hours: Annotated[float, Number(ge=REASK_FLOOR_HOURS, le=60 * 24)] = Field(
        default=DEFAULT_REASK_HOURS,
        description="部门受理比对请求后超过多少小时未反馈，即以同一请求编号重新询问（默认24小时，不少于1小时），直至反馈时限",
    )
    enabled: bool = Field(default=True, description="停用后不再发送比对请求、不再接收预警")
    previous_secret_hours: Annotated[float, Number(ge=0, le=7 * 24)] = Field(
        default=24,
        description="更换共享密钥后，原密钥在多少小时内仍可用于部门发来的签名（默认24小时，便于双方先后切换）；"
        "密钥泄露时填0，原密钥立即失效",
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError("应为 http:// 或 https:// 开头的地址")
        return value.rstrip("/")


class DepartmentView(BaseModel):
    """A department system of the county; its secret is never answered, only whether it is set."""

    kind: DepartmentKind
    kind_label: str
    county_code: str
    name: str
    base_url: str
    answer_days: float | None
    reask_hours: float
    enabled: bool
    secret_set: bool
    secret_updated_at: Moment | None
    previous_secret_until: Moment | None = Field(description="更换前的密钥仍被接受至此时（已过期或未更换则为空）")
    updated_by: str
    updated_at: Moment | None


class CrossCheckTask(BaseModel):
    """One department of one case waiting for the county officer."""

    case_id: str
    household_code: str
    village_code: str
    department: str
    department_label: str
    status: str = Field(description="not_configured、overdue、silent 或 needs_attention")
    status_label: str
    request_id: str
    requested_at: Moment
    respond_by: Moment
    send_attempts: int
    last_send_error: str | None
    accepted_at: Moment | None
    answer_received_at: Moment | None
    needs_attention_since: Moment | None
    delivery_attempts: int | None


class CrossCheckTasks(Items[CrossCheckTask]):
    pass


class ReceivedWarning(BaseModel):
    """A warning a department sent, with what became of it (ID number masked)."""

    department: str
    warning_id: str | None
    id_number: str | None
    kind: str | None
    amount: float | None
    occurred_on: date | None
    outcome: WarningOutcome
    reason: str | None
    household_code: str | None
    low_income: bool | None
    threshold: float | None
    received_at: Moment | None
    delivery_status: WarningDelivery | None
    delivery_label: str | None
    needs_attention_since: Moment | None
    delivered_as: str | None
    case_id: str | None


class ReceivedWarnings(Items[ReceivedWarning]):
    pass


class CallbackReceipt(BaseModel):
    request_id: str
    status: str = Field(description="recorded（已记录）或 repeat（重复回传，已忽略）")


class WarningReceipt(BaseModel):
    """What became of one warning of a batch, in the batch's order."""

    index: int
    warning_id: str | None
    outcome: WarningOutcome
    reason: str | None = Field(default=None, description="invalid 时说明原因")


class BatchReceipt(BaseModel):
    department: str
    received: int
    outcomes: list[WarningReceipt]
