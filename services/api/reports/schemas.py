"""What the statistics answer: every figure of one area and period, as of one day."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.domain.form_fields import FormDate
from services.domain.reports.periods import ReportKind


class Count(BaseModel):
    code: str = Field(description="代码")
    label: str = Field(description="中文名称")
    count: int


class HouseholdCounts(BaseModel):
    total: int = Field(description="监测对象户数（纳入监测的户，含风险已消除）")
    by_status: list[Count] = Field(description="按风险状态：风险未消除、风险已消除")
    by_category: list[Count] = Field(description="按监测对象类别")
    by_risk_type: list[Count] = Field(description="按风险类型（一户可有多种）")


class MonthFlow(BaseModel):
    month: str = Field(description="月份，如 2026-11")
    identified: int = Field(description="新识别纳入监测户数")
    exited: int = Field(description="标注风险消除户数")


class LateCase(BaseModel):
    case_id: str
    household_code: str
    village_code: str
    days: float = Field(description="识别用时（天）")
    due_on: date = Field(description="识别期限")
    closed_on: date = Field(description="认定日期")


class IdentificationTime(BaseModel):
    identified: int = Field(description="期内认定为监测对象的案件数")
    median_days: float | None = Field(description="识别用时中位数（天）")
    within_limit: int = Field(description="在15天时限内完成的")
    within_limit_share: float | None = Field(description="时限内完成的比例")
    late: list[LateCase] = Field(description="超过时限的案件（最多200件）")


class StepCount(BaseModel):
    step: str
    label: str
    open: int
    overdue: int = Field(description="已超过识别期限或本环节期限")


class OpenCases(BaseModel):
    open: int = Field(description="截至当日尚在办理的案件")
    overdue: int
    by_step: list[StepCount]


class SelfReportFigures(BaseModel):
    submitted: int = Field(description="期内农户自主申报件数")
    accepted: int = Field(description="已受理")
    accepted_within_limit: int = Field(description="在2天受理时限内受理的")
    within_limit_share: float | None
    pending: int = Field(description="截至当日尚未处理的")


class VisitFigures(BaseModel):
    owed: int = Field(description="应走访户次（期内各月）")
    visited: int = Field(description="已走访户次")
    overdue: int = Field(description="逾期未走访户次")
    coverage: float | None = Field(description="走访覆盖率")


class MeasureCount(BaseModel):
    kind: str
    label: str
    planned: int = Field(description="已列入帮扶计划的措施（未撤回）")
    delivered: int = Field(description="截至当日已落实")
    delivered_in_period: int = Field(description="期内落实")


class Statistics(BaseModel):
    area: str = Field(description="统计区划代码")
    area_name: str
    from_date: date = Field(description="统计期起始日")
    as_of: date = Field(description="截至日（含当天）：所有数字按当日结束时的记录计算")
    households: HouseholdCounts
    months: list[MonthFlow] = Field(description="期内各月新识别与风险消除")
    identification_time: IdentificationTime
    open_cases: OpenCases
    self_reports: SelfReportFigures
    visits: VisitFigures
    measures: list[MeasureCount]
    early_warnings: list[Count] = Field(description="期内收到的行业部门预警，按处理结果")


class KeptReportView(BaseModel):
    report_key: str
    kind: str = Field(description="weekly 周报 / monthly 月报")
    kind_label: str
    area_code: str
    area_name: str
    from_date: date
    to_date: date
    produced_by: str = Field(description="schedule（定时生成）或生成人账号")
    produced_at: datetime


class KeptReportList(BaseModel):
    items: list[KeptReportView]


class ReportOrder(BaseModel):
    """A county officer produces the reports of a past week or month (every township and the county)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"kind": "monthly", "day": "2026-10-15"}]})

    kind: ReportKind = Field(description="weekly 周报 / monthly 月报")
    day: FormDate = Field(description="所要生成的周或月中的任意一天（须为已结束的周或月）")
