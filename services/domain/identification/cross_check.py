"""The department cross-check (信息比对) of one verification round, as the case holds it.

After the household signs the authorisation, the case asks every department of its
policy about every household member (the subjects), one request per department. The
departments answer asynchronously (INTERFACES.md §1–2); a department that does not
answer by `respond_by` becomes a task for the county officer: re-send, or record the
result by hand with a reason. Findings are evidence for the reviews, attached here to
the member each one names.

A department that accepted a request and then stays silent (its answer lost in an
outage, say) is asked again with the same request id every `reask_hours` (a registry
setting, per department: how long its system normally takes is its own) until the
deadline; a repeated request id is the same request (INTERFACES.md §1), so asking again
is always safe. It is then `silent`, and the county officer sees it before it is overdue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from services.domain.identification.forms import CrossCheckResult
from services.domain.vocabulary import AWAITING_RESULT, SETTLED, CrossCheckStatus, Department

# Hours without an answer before an accepted request is asked again: a day by default (a
# department's system answers within hours when it is up); never sooner than an hour, so a
# slow department is not flooded with repeats.
DEFAULT_REASK_HOURS = 24.0
REASK_FLOOR_HOURS = 1.0


class Subject(BaseModel):
    """A household member the departments are asked about."""

    name: str
    id_number: str
    relation: str


class DepartmentSetup(BaseModel):
    """A registered department's settings that a round needs (read when the round starts)."""

    answer_days: float | None = None
    reask_hours: float | None = None


class CrossCheckPlan(BaseModel):
    """What the `plan_cross_check` activity reads from PostgreSQL for a new round."""

    subjects: list[Subject]
    # Departments registered (and enabled) for the case's county; the rest must be recorded by hand.
    configured: dict[Department, DepartmentSetup]


class DepartmentRequest(BaseModel):
    department: Department
    # None while no department of this kind is registered for the county.
    request_id: str | None
    # Request ids of this round sent before a re-send: a late answer to one of them still counts.
    earlier_request_ids: list[str] = Field(default_factory=list)
    status: CrossCheckStatus
    requested_at: datetime
    answer_days: float
    respond_by: datetime
    accepted_at: datetime | None = None
    answered_at: datetime | None = None
    resends: int = 0
    # Hours without an answer before asking again (None: planned before the setting existed).
    reask_hours: float | None = None
    # Times this request id was asked again, and when last.
    reasks: int = 0
    reasked_at: datetime | None = None
    recorded_by: str | None = None
    reason: str | None = None

    @property
    def next_reask_at(self) -> datetime | None:
        """When to ask again a department that accepted this request and has not answered;
        None when it is not in that state, or when its deadline comes first."""
        if self.status not in (CrossCheckStatus.awaiting, CrossCheckStatus.silent) or self.accepted_at is None:
            return None
        hours = max(self.reask_hours or DEFAULT_REASK_HOURS, REASK_FLOOR_HOURS)
        at = (self.reasked_at or self.accepted_at) + timedelta(hours=hours)
        return at if at < self.respond_by else None

    @property
    def request_ids(self) -> list[str]:
        return [*self.earlier_request_ids, *([self.request_id] if self.request_id else [])]

    @property
    def awaits_result(self) -> bool:
        return self.status in AWAITING_RESULT


class CrossCheckRound(BaseModel):
    round: int
    subjects: list[Subject]
    requests: dict[Department, DepartmentRequest]
    started_at: datetime
    completed_at: datetime | None = None

    def request_with_id(self, request_id: str) -> DepartmentRequest | None:
        return next((r for r in self.requests.values() if request_id in r.request_ids), None)

    @property
    def pending(self) -> list[Department]:
        return [d for d, r in self.requests.items() if r.status not in SETTLED]

    @property
    def complete(self) -> bool:
        return not self.pending


class MemberMatch(BaseModel):
    department: Department
    kind: str
    description: str
    value: float | None = None


class MemberFindings(BaseModel):
    """Everything the departments reported about one person."""

    id_number: str
    # None: a department reported on someone who is not a member of the household.
    name: str | None
    relation: str | None
    matches: list[MemberMatch]


def findings_by_member(subjects: list[Subject], results: dict[Department, CrossCheckResult]) -> list[MemberFindings]:
    """Each finding attached to the member it names, members in household order; findings
    about anyone else follow, so no evidence is dropped."""
    people = {
        s.id_number: MemberFindings(id_number=s.id_number, name=s.name, relation=s.relation, matches=[])
        for s in subjects
    }
    for department, result in results.items():
        for finding in result.findings:
            person = people.setdefault(
                finding.id_number, MemberFindings(id_number=finding.id_number, name=None, relation=None, matches=[])
            )
            person.matches += [MemberMatch(department=department, **m.model_dump()) for m in finding.matches]
    return list(people.values())


class CrossCheckPlanInput(BaseModel):
    household_code: str
    county_code: str
    departments: list[Department]


class CrossCheckDispatch(BaseModel):
    """One request for the `send_cross_check_request` activity; the same on every retry."""

    request_id: str
    department: Department
    county_code: str
    case_reference: str
    # None: the subjects of the case's cross-check round `round`, as the read model holds it (written
    # before any send); dispatches scheduled before carried them.
    subjects: list[Subject] | None = None
    round: int | None = None
    respond_by: datetime
