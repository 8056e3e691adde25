"""What the province exchange endpoints answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.api.answers import Moment
from services.domain.form_fields import Text


class BatchView(BaseModel):
    batch_no: int = Field(description="批次号（本县从1起连续编号）")
    file_name: str
    record_count: int
    records_by_kind: dict[str, int] = Field(description="各类记录条数")
    sha256: str = Field(description="批次文件校验值，平台回执须一致")
    created_by: str
    created_at: Moment | None
    acknowledged_at: Moment | None = Field(description="平台确认接收时间；未确认前不生成新批次")
    acknowledged_by: str | None
    platform_receipt: str | None


class ExportAnswer(BaseModel):
    batch: BatchView | None = Field(description="新生成的批次；自上次确认以来没有变化时为空")
    message: str


class WarningAnswer(BaseModel):
    index: int
    warning_id: str
    outcome: str = Field(
        description="opened 新发起识别、joined 并入在办案件、duplicate 已接收过、unknown_household 本县无此户"
    )
    case_id: str | None = None


class WarningListAnswer(BaseModel):
    list_id: str
    received: int
    outcomes: list[WarningAnswer]


class DiscrepancyView(BaseModel):
    discrepancy_id: int
    household_code: str
    village_code: str
    kind: str = Field(
        description="platform_only 平台有本系统无、service_only 本系统有平台无、status_differs 监测状态不一致"
    )
    kind_label: str
    roster_id: str
    roster_as_of: date
    platform_head_name: str | None
    platform_status: str | None
    our_status: str | None
    found_at: Moment | None
    resolved_at: Moment | None
    resolved_by: str | None
    resolution: str | None


class RosterCheckAnswer(BaseModel):
    roster_id: str
    platform_households: int
    our_households: int
    found: list[DiscrepancyView] = Field(description="本次核对发现的差异（已在待处理清单中的不重复列出）")
    open_total: int = Field(description="待处理差异总数")


class DiscrepancyList(BaseModel):
    items: list[DiscrepancyView]


class Resolution(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"resolution": "经核实，该户已于11月识别为监测对象，已在平台补录"}]},
    )

    resolution: Annotated[str, Text(2000, min_length=1, lines=True)] = Field(description="处理结果说明")
