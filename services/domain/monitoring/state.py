"""A monitoring period's state as the monitoring workflow holds it, its start input and its events.

One period runs from the announcement that made the household a monitoring target
to "risk eliminated" (and stays readable after). The state is bounded: it keeps the
recent visit tasks the exit rules need; every visit and every task ever recorded
is in PostgreSQL (`visit_tasks`, `monitoring_visits`, `audit_entries`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.domain.identification.forms import CountyDecision, LivingConditions, TownshipReview
from services.domain.identification.state import (
    Actor,
    CaseState,
    FastTrackRecord,
    NoticePeriod,
    RecordedEvent,
    RefusedAction,
    ReviewRecord,
    TownshipReturn,
)
from services.domain.monitoring.forms import ExitProposal, ExitReversal, ExitVerification, MeasureDelivery, MeasureDraft
from services.domain.monitoring.vocabulary import (
    ExitOutcome,
    ExitStep,
    MeasureStatus,
    PlanStatus,
    VisitTaskStatus,
)
from services.domain.policy import Policy
from services.domain.vocabulary import Category, Channel, HouseholdStatus, LabourCapacity, Outcome, RiskType


class IdentificationSummary(BaseModel):
    """What the monitoring needs of an identification case of the household."""

    case_id: str
    household_code: str
    village_code: str
    outcome: Outcome | None
    opened_at: datetime
    closed_at: datetime | None
    category: Category | None = None
    risk_types: list[RiskType] = Field(default_factory=list)
    labour_capacity: LabourCapacity | None = None
    able_workers: int | None = None
    living_conditions: LivingConditions | None = None
    per_capita_net_income: float | None = None
    # Support that started before the identification ended (绿色通道, 先帮后评).
    fast_track: FastTrackRecord | None = None

    @classmethod
    def of(cls, case: CaseState) -> IdentificationSummary:
        found = case.verification
        return cls(
            case_id=case.case_id,
            household_code=case.household_code,
            village_code=case.village_code,
            outcome=case.outcome,
            opened_at=case.opened_at,
            closed_at=case.closed_at,
            category=found.proposed_category if found else None,
            risk_types=list(found.risk_types) if found else [],
            labour_capacity=found.labour_capacity if found else None,
            able_workers=found.able_workers if found else None,
            living_conditions=found.living_conditions if found else None,
            per_capita_net_income=case.per_capita_net_income,
            fast_track=case.fast_track,
        )


class MonitoringStart(BaseModel):
    monitoring_id: str
    household_code: str
    village_code: str
    policy: Policy
    identification: IdentificationSummary
    # Set when the workflow continues as new: the state goes on unchanged.
    carried: MonitoringState | None = None
    # The answers the runs before gave recently, by update id (services/workflows/earlier_answers.py).
    answers: list[MonitoringAnswer] = []


class MonitoringAnswer(BaseModel):
    update_id: str
    at: datetime
    answer: MonitoringState


class SupportPerson(BaseModel):
    username: str
    display_name: str
    area_code: str
    appointed_by: str
    appointed_at: datetime
    note: str = ""


class MeasureRecord(MeasureDraft):
    measure_id: int
    plan_no: int
    status: MeasureStatus
    delivery: MeasureDelivery | None = None
    delivered_by: str | None = None


class PlanRecord(BaseModel):
    plan_no: int
    status: PlanStatus
    notes: str
    measures: list[MeasureRecord]
    drafted_by: str
    submitted_at: datetime
    review: TownshipReview | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None


class VisitTask(BaseModel):
    """The visit owed for one period (a calendar month by default)."""

    period: str
    opens_on: date
    due_at: datetime
    status: VisitTaskStatus
    visit_count: int = 0
    first_visited_on: date | None = None
    # The income reported at the period's latest visit.
    per_capita_net_income: float | None = None
    escalated_to: str | None = None


class RiskRecord(BaseModel):
    """A new risk found while monitored: open until its identification case ends."""

    risk_id: int
    source: Literal["visit", "lead"]
    risk_types: list[RiskType] = Field(default_factory=list)
    note: str = ""
    found_at: datetime
    found_by: str
    case_id: str | None = None
    closed_at: datetime | None = None
    confirmed: bool | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class UnmetCriterion(BaseModel):
    code: str
    message: str


class ExitAssessment(BaseModel):
    eligible: bool
    # No one in the household can work: it stays monitored under social protection (兜底保障).
    social_protection: bool
    unmet: list[UnmetCriterion]
    assessed_at: datetime


class ExitProcedure(BaseModel):
    exit_no: int
    step: ExitStep
    outcome: ExitOutcome | None = None
    proposal: ExitProposal
    proposed_by: str
    proposed_at: datetime
    verification_round: int = 1
    verification: ExitVerification | None = None
    unmet: list[UnmetCriterion] = Field(default_factory=list)
    review: ReviewRecord | None = None
    notice: NoticePeriod | None = None
    township_review: TownshipReview | None = None
    township_returns: list[TownshipReturn] = Field(default_factory=list)
    county_decision: CountyDecision | None = None
    closed_at: datetime | None = None
    reversal: ExitReversal | None = None
    reversed_by: str | None = None
    reversed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.step != ExitStep.closed


class MonitoringState(BaseModel):
    monitoring_id: str
    household_code: str
    county_code: str
    township_code: str
    village_code: str
    policy_version: int
    status: HouseholdStatus
    since: datetime
    # The exit rules count months, visits and measures from here: the start, the latest
    # confirmed new risk, or the latest reversal of an exit.
    clock_started_at: datetime
    # Visit tasks are owed from this moment's period on (the start, or a reversal).
    visits_owed_from: datetime
    category: Category | None = None
    risk_types: list[RiskType] = Field(default_factory=list)
    labour_capacity: LabourCapacity | None = None
    able_workers: int | None = None
    living_conditions: LivingConditions | None = None
    per_capita_net_income: float | None = None
    cases: list[IdentificationSummary] = Field(default_factory=list)
    support_people: list[SupportPerson] = Field(default_factory=list)
    plans: list[PlanRecord] = Field(default_factory=list)
    # A confirmed new risk asks for a revised plan.
    plan_revision_due: bool = False
    visit_tasks: list[VisitTask] = Field(default_factory=list)
    visits_recorded: int = 0
    risks: list[RiskRecord] = Field(default_factory=list)
    exits: list[ExitProcedure] = Field(default_factory=list)
    assessment: ExitAssessment | None = None
    risk_eliminated_at: datetime | None = None
    # Actions PostgreSQL refused to store: each awaits a person's attention until it is recorded.
    needs_attention: list[RefusedAction] = Field(default_factory=list)
    # Rises by one with every recorded change; the read model keeps the highest.
    seq: int = 0

    @property
    def support_person(self) -> SupportPerson | None:
        return self.support_people[-1] if self.support_people else None

    @property
    def current_plan(self) -> PlanRecord | None:
        """The plan in force, or awaiting review: the latest one not returned or superseded."""
        for plan in reversed(self.plans):
            if plan.status in (PlanStatus.submitted, PlanStatus.approved):
                return plan
        return None

    @property
    def exit(self) -> ExitProcedure | None:
        return self.exits[-1] if self.exits else None

    @property
    def open_exit(self) -> ExitProcedure | None:
        return self.exit if self.exit is not None and self.exit.is_open else None

    @property
    def open_risks(self) -> list[RiskRecord]:
        return [r for r in self.risks if r.is_open]

    @property
    def is_monitored(self) -> bool:
        return self.status == HouseholdStatus.risk_not_eliminated

    def measures(self) -> list[MeasureRecord]:
        return [m for plan in self.plans for m in plan.measures]

    def measure(self, measure_id: int) -> MeasureRecord | None:
        return next((m for m in self.measures() if m.measure_id == measure_id), None)


MonitoringAnswer.model_rebuild()
MonitoringStart.model_rebuild()


class MonitoringEvent(RecordedEvent):
    """The audit entry and the read model's new rows."""

    state: MonitoringState


class RiskLead(BaseModel):
    """A new risk found while monitored, to open (or join) the household's identification case."""

    household_code: str
    village_code: str
    # The id a new case gets, chosen by the monitoring workflow so that it knows the case at once.
    case_id: str
    channel: Channel
    note: str
    reported_by: Actor
