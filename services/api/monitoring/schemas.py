"""What the monitoring endpoints answer.

A monitoring view is the workflow's state (services/domain/monitoring/state.py) as its reader may
see it, with Chinese labels and its open tasks. Plans, visit tasks and exits carry labels of their
own; their fields are those of the state's records and of the forms that made them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.api.answers import Moment, Page
from services.api.timelines import TimelineEntry
from services.domain.identification.state import RefusedAction
from services.domain.monitoring.forms import MeasureDraft
from services.domain.monitoring.state import ExitAssessment, IdentificationSummary, RiskRecord, SupportPerson
from services.domain.vocabulary import Category, HouseholdStatus, LabourCapacity, RiskType

# A record of the state built on submitted forms, with its `*_label` fields added.
LabelledRecord = dict[str, Any]


class MonitoringView(BaseModel):
    """One monitoring period (监测帮扶): its detail page and the answer to every action on it."""

    monitoring_id: str
    household_code: str
    county_code: str
    township_code: str
    village_code: str
    policy_version: int
    status: HouseholdStatus
    status_label: str
    since: datetime
    clock_started_at: datetime
    visits_owed_from: datetime
    category: Category | None = None
    risk_types: list[RiskType] = Field(default_factory=list)
    risk_type_labels: list[str]
    labour_capacity: LabourCapacity | None = None
    able_workers: int | None = None
    living_conditions: dict[str, bool] | None = Field(default=None, description="两不愁三保障及饮水安全")
    per_capita_net_income: float | None = None
    cases: list[IdentificationSummary] = Field(default_factory=list)
    support_people: list[SupportPerson] = Field(default_factory=list)
    plans: list[LabelledRecord] = Field(default_factory=list, description="帮扶计划及措施（含状态名称）")
    plan_revision_due: bool = False
    visit_tasks: list[LabelledRecord] = Field(default_factory=list, description="近期走访任务（含状态名称）")
    visits_recorded: int = 0
    risks: list[RiskRecord] = Field(default_factory=list)
    exits: list[LabelledRecord] = Field(default_factory=list, description="风险消除程序（含环节、结果名称）")
    assessment: ExitAssessment | None = None
    risk_eliminated_at: datetime | None = None
    needs_attention: list[RefusedAction] = Field(default_factory=list)
    seq: int = 0
    tasks: list[dict[str, Any]] = Field(description="待办：谁（角色或指定人）在何时前办理什么")


class VisitView(BaseModel):
    """A recorded visit (走访记录)."""

    monitoring_id: str
    visit_no: int
    household_code: str
    village_code: str
    period: str
    visited_on: date
    visitors: list[str]
    findings: str
    per_capita_net_income: float
    living_conditions: dict[str, Any]
    new_risks: list[str]
    new_risk_note: str
    recorded_by: str
    recorded_at: Moment


class MonitoringWithVisits(MonitoringView):
    """A period in the household file, with every visit recorded in it."""

    visits: list[VisitView]


class MonitoringSummary(BaseModel):
    """One line of the monitoring list."""

    monitoring_id: str
    household_code: str
    head_name: str
    village_code: str
    status: HouseholdStatus
    status_label: str
    since: Moment
    support_person: str | None
    exit_step: str | None
    exit_step_label: str | None
    exit_eligible: bool
    risk_eliminated_at: Moment | None
    tasks: list[dict[str, Any]]


class MonitoringPage(Page[MonitoringSummary]):
    pass


class VisitTaskView(BaseModel):
    """One visit owed by a monitored household for one month."""

    monitoring_id: str
    period: str
    household_code: str
    county_code: str
    township_code: str
    village_code: str
    opens_on: date
    due_at: Moment
    status: str
    status_label: str
    visit_count: int
    first_visited_on: date | None
    escalated_to: str | None
    head_name: str


class VisitTaskPage(Page[VisitTaskView]):
    pass


class CoverageRow(BaseModel):
    village_code: str
    village_name: str
    period: str
    owed: int = Field(description="应走访户数")
    visited: int = Field(description="已走访户数")
    overdue: int = Field(description="逾期未走访户数")
    open: int = Field(description="本月尚未走访户数")
    visits: int = Field(description="走访次数")
    coverage: float | None = Field(description="覆盖率：已走访 ÷ 应走访")
    owed_by_population: dict[str, int] = Field(
        default_factory=dict,
        description="应走访户数按对象分：monitoring_target 监测期内的监测对象，formerly_poor 脱贫户，"
        "risk_eliminated 风险已消除的监测对象",
    )


class VisitCoverage(BaseModel):
    area: str
    from_period: str
    to_period: str
    rows: list[CoverageRow]


class MonitoringTimeline(BaseModel):
    monitoring_id: str
    entries: list[TimelineEntry]


class ProposedMeasureView(MeasureDraft):
    model_config = ConfigDict(json_schema_extra=None)  # the form's example is not a proposal

    kind_label: str


class ProposedMeasures(BaseModel):
    measures: list[ProposedMeasureView]
