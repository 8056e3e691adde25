"""Requests and answers of 全农户排查: import jobs, the rules' preview, runs, screening visits."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.domain.form_fields import LongText, PastDate, Text
from services.domain.policy import PolicyBody
from services.domain.screening.import_rows import ImportKind, ImportMode
from services.domain.screening.rules import ScreeningRule

Year = Annotated[int, Field(ge=2000, le=2100, description="年度")]
# A file sent in the request (under the service's 4 MB body limit, base64 makes it 4/3 larger).
MAX_FILE_BYTES = 2_900_000


class ImportAbout(BaseModel):
    """What is said of an import file besides its content: the JSON body's fields, or the upload's."""

    model_config = ConfigDict(extra="forbid")

    kind: ImportKind = Field(
        description="households 农户基本信息 / members 家庭成员 / incomes 分项年收入 / signals 月度监测信号"
    )
    mode: ImportMode = Field(description="all_or_nothing 整个文件全部通过才导入 / row_by_row 逐行导入，问题行退回")
    file_name: Annotated[str, Text(200, min_length=5)] = Field(description="文件名，.csv 或 .xlsx")
    screen_year: Year | None = Field(default=None, description="导入后按此年度排查本次变动的农户；不填则不排查")

    @field_validator("file_name")
    @classmethod
    def _csv_or_excel(cls, name: str) -> str:
        if not name.lower().endswith((".csv", ".xlsx")):
            raise ValueError("只能导入 .csv 或 .xlsx 文件")
        return name

    @property
    def file_format(self) -> str:
        return "xlsx" if self.file_name.lower().endswith(".xlsx") else "csv"


class ImportIn(ImportAbout):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "incomes",
                    "mode": "row_by_row",
                    "file_name": "2026年收入.csv",
                    "content_base64": base64.b64encode(
                        "户编号,年度,收入来源,金额\n610824100201000003,2026,工资性收入,12000\n".encode()
                    ).decode(),
                    "screen_year": 2026,
                }
            ]
        },
    )

    content_base64: str = Field(min_length=1, max_length=4 * MAX_FILE_BYTES // 3 + 4, description="文件内容（base64）")

    @field_validator("content_base64")
    @classmethod
    def _base64(cls, content: str) -> str:
        try:
            base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("不是有效的 base64 内容") from None
        return content

    @property
    def content(self) -> bytes:
        return base64.b64decode(self.content_base64)


class ImportJobView(BaseModel):
    job_id: int
    kind: ImportKind
    mode: ImportMode
    file_name: str
    status: str = Field(
        description="queued 排队 / running 导入中 / done 完成 / rejected 未导入（全部通过才导入时有问题行，或缺少列）"
        " / truncated 部分导入（逐行导入时文件从某行起无法读取：此前的行已导入，该行见退回的行）"
    )
    rows_read: int = Field(description="已读取的数据行数（进度）")
    rows_changed: int = Field(description="新增或有变化的行数")
    rows_unchanged: int = Field(description="与已有数据相同的行数")
    rows_rejected: int = Field(description="退回的行数")
    repeated: bool = Field(default=False, description="同一文件此前已导入：返回原导入任务，未做任何改动")


class RejectionView(BaseModel):
    row_number: int = Field(description="文件中的行号（表头为第1行）")
    field: str
    message: str


class RejectionPage(BaseModel):
    items: list[RejectionView]
    next_after: int | None = Field(description="下一页：after 参数")


class PreviewIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"year": 2026, "policy": {"income_line_yuan": 7500}}]},
    )

    year: Year
    policy: PolicyBody | None = Field(default=None, description="拟发布的政策参数；不填则按现行政策")


class TownshipCount(BaseModel):
    township_code: str
    township_name: str
    flagged: int = Field(description="拟发布政策下预警的农户数")
    flagged_now: int = Field(description="现行政策下预警的农户数")
    by_rule: dict[ScreeningRule, int]


class PreviewView(BaseModel):
    year: int
    policy_version_now: int
    townships: list[TownshipCount]
    total: int
    total_now: int


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"year": 2026}]})

    year: Year


class RunView(BaseModel):
    run_id: int
    year: int
    policy_version: int
    import_job: int | None
    status: str = Field(description="flagging 筛查中 / opening 推送线索中 / done 完成")
    flagged: int
    opened: int
    joined: int
    skipped: int = Field(description="已是监测对象、同一风险此前已推送，或数据库拒绝保存")


class HitView(BaseModel):
    household_code: str
    village_code: str
    score: int
    rules: list[ScreeningRule]
    rule_labels: list[str]
    outcome: str | None = Field(
        description="opened 新立线索 / joined 并入在办案件 / monitored 已是监测对象 / known 此前已推送 / unrecordable 数据库拒绝保存 / 空：待推送"
    )
    case_id: str | None


class HitPage(BaseModel):
    items: list[HitView]
    next_after: str | None


class VisitIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "household_code": "610824100201000003",
                    "visited_on": "2026-11-29",
                    "findings": "家中4口人，务工收入稳定，未发现风险",
                    "risk_found": False,
                }
            ]
        },
    )

    household_code: str = Field(min_length=18, max_length=18, pattern=r"^\d{18}$")
    visited_on: PastDate = Field(description="走访日期（不晚于今天）")
    findings: Annotated[str, Text(2000, min_length=1, lines=True)] = Field(description="走访情况")
    risk_found: bool = Field(description="是否发现风险（发现风险请另行登记线索）")


class VisitView(BaseModel):
    visit_id: int
    household_code: str
    visited_on: date
    findings: LongText
    risk_found: bool
    recorded_by: str


class GridHousehold(BaseModel):
    household_code: str
    village_code: str
    head_name: str
    address: str
    last_visited_on: date | None = Field(description="本年度最近一次排查走访日期；空：本年度尚未走访")


class GridHouseholdPage(BaseModel):
    items: list[GridHousehold]
    next_after: str | None
