"""A case's state as the workflow holds it, its start input and its events.

The workflow is the source of truth; activities copy each event's state into
the PostgreSQL read model (`case_records`) and the audit log (`audit_entries`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from services.domain.eligibility import Eligibility
from services.domain.identification.cross_check import CrossCheckRound, MemberFindings, findings_by_member
from services.domain.identification.forms import (
    Announcement,
    Authorisation,
    CountyDecision,
    CrossCheckResult,
    DemocraticReview,
    FastTrack,
    HomeVerification,
    Lead,
    Objection,
    ObjectionResolution,
    TownshipReview,
)
from services.domain.policy import Policy
from services.domain.vocabulary import Channel, Department, Outcome, Role, Step


class Actor(BaseModel):
    """Who acts: a signed-in person, or the service itself (timers)."""

    username: str
    display_name: str
    role: Role | None  # None: the service
    area_code: str

    @classmethod
    def system(cls, area_code: str) -> Actor:
        return cls(username="system", display_name="系统", role=None, area_code=area_code)


class CaseStart(BaseModel):
    case_id: str
    household_code: str
    village_code: str
    channel: Channel
    lead_note: str = ""
    policy: Policy
    opened_by: Actor
    # The register's 脱贫户 flag as the case opened (None: not known); eligibility reads it.
    formerly_poor: bool | None = None


class LeadRecord(Lead):
    added_by: str
    added_at: datetime


class FastTrackRecord(FastTrack):
    """Support started before the identification ended (绿色通道): the case and, once it is a
    monitoring target, its monitoring period say so."""

    started_by: str
    recorded_at: datetime


class ReviewRecord(DemocraticReview):
    passed: bool
    # Departments whose cross-check results the meeting did not have yet (they may come later).
    cross_check_pending: list[Department] = Field(default_factory=list)


class TownshipReturn(BaseModel):
    """The township sent the procedure back to the village for rework (镇审核退回): home verification
    again, with its reasons. What the returned round recorded stays here and in the audit."""

    verification_round: int  # the round returned
    opinion: str  # the township's reasons
    returned_by: str
    returned_at: datetime
    review: ReviewRecord | None


class ObjectionRecord(BaseModel):
    objection_id: int
    objection: Objection
    filed_by: str
    resolution: ObjectionResolution | None = None
    resolved_by: str | None = None


class NoticePeriod(BaseModel):
    starts_at: datetime
    ends_at: datetime
    objections: list[ObjectionRecord] = Field(default_factory=list)

    @property
    def pending_objections(self) -> list[ObjectionRecord]:
        return [o for o in self.objections if o.resolution is None]


class Escalation(BaseModel):
    """A deadline that passed while the case still waited: the level above was told
    (services/domain/identification/escalation.py)."""

    scope: Literal["step", "identification"]
    step: Step  # the step the case was at
    step_started_at: datetime
    due_at: datetime
    escalated_at: datetime
    from_role: Role | None  # who was late; None for the whole identification
    to_role: Role
    to_area_code: str
    # When the level above should have followed it up (policy `escalation_days`).
    respond_by: datetime


class RefusedAction(BaseModel):
    """An action PostgreSQL refused to store for good (a value it cannot hold): the action changed
    nothing and its caller was told so. Its record needs a person's attention (the county officer's
    for a case) until the same action is recorded."""

    action: str
    label: str  # what was refused, in Chinese
    actor: str  # username, or `system` / `department.<kind>`
    at: datetime
    error: str  # the error's kind (types, SQLSTATE, table or constraint), never the refused values


class CaseState(BaseModel):
    case_id: str
    household_code: str
    county_code: str
    township_code: str
    village_code: str
    channel: Channel
    lead_note: str
    further_leads: list[LeadRecord] = Field(default_factory=list)
    policy_version: int
    step: Step
    outcome: Outcome | None = None
    opened_at: datetime
    due_at: datetime
    step_started_at: datetime
    step_due_at: datetime | None
    closed_at: datetime | None = None
    # Rises by one with every recorded change; the read model keeps the highest.
    seq: int = 0
    verification_round: int = 1
    verification: HomeVerification | None = None
    per_capita_net_income: float | None = None
    # What the figures of the verification support (the service's proposal), beside the cadres' category.
    eligibility: Eligibility | None = None
    authorisation: Authorisation | None = None
    # Results by department (from the department, or recorded by hand) of the current round.
    cross_checks: dict[Department, CrossCheckResult] = Field(default_factory=dict)
    cross_check: CrossCheckRound | None = None
    review: ReviewRecord | None = None
    notice: NoticePeriod | None = None
    township_review: TownshipReview | None = None
    township_returns: list[TownshipReturn] = Field(default_factory=list)
    county_decision: CountyDecision | None = None
    announcement: Announcement | None = None
    fast_track: FastTrackRecord | None = None
    escalations: list[Escalation] = Field(default_factory=list)
    needs_attention: list[RefusedAction] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.step != Step.closed

    @computed_field  # type: ignore[prop-decorator]
    @property
    def findings_by_member(self) -> list[MemberFindings]:
        """The cross-check findings, each attached to the member it names (for the case page and the reviews)."""
        return findings_by_member(self.cross_check.subjects if self.cross_check else [], self.cross_checks)


class StepRecorded(BaseModel):
    """What a case's action Update answers: the event that recorded it. The read model holds the
    case as of that event (or later) when the answer comes: callers read the case there."""

    case_id: str
    seq: int


class RecordedEvent(BaseModel):
    """One recorded change of a workflow's state (case, monitoring period, self-report): who did what,
    when, with which data; its audit or history entry."""

    workflow_id: str
    run_id: str
    seq: int
    action: str
    actor: Actor
    at: datetime
    data: dict[str, Any]
    # What this event changed in the workflow's state: only the differing parts, before and after
    # (services/domain/changes.py), so the audit holds both without copying the whole state.
    # None where the workflow does not work them out (monitoring, self-reports).
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class CaseEvent(RecordedEvent):
    """One recorded change of a case: the audit entry and the read model's new row.

    The read model's row is the state as of the event before with `before`/`after` applied; the
    event carries the whole `state` only where that row may be missing or behind (the first event,
    one after an event that was not written, and events of cases recorded before this was so)."""

    state: CaseState | None = None
    case_id: str = ""  # "" in events that carry the state (it names the case)
    # The case's task queue: the worker serving it forwards department results to it.
    task_queue: str = ""
