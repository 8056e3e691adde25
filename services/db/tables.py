"""PostgreSQL tables (SQLModel). Alembic migrations in `migrations/` create them.

What lives here: the household registry, accounts, policy versions, the case
read model, the monitoring read model (periods, visit tasks, visits), the
append-only audit log, stored idempotent responses, and the departments side
(registered department systems, cross-check requests, the inboxes of department
results and early warnings), the self-reports, and the task inbox (tasks, claims,
counts). Where each case and each monitoring period stands lives in Temporal, not here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def _timestamp(nullable: bool = False, default_now: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True),
            nullable=nullable,
            server_default=func.now() if default_now else None,
        ),
    )


class Area(SQLModel, table=True):
    __tablename__ = "areas"

    code: str = Field(primary_key=True, max_length=12)
    name: str = Field(max_length=50)
    level: str = Field(max_length=10)
    parent_code: str | None = Field(default=None, foreign_key="areas.code", max_length=12)


class Account(SQLModel, table=True):
    __tablename__ = "accounts"

    username: str = Field(primary_key=True, max_length=50)
    display_name: str = Field(max_length=50)
    role: str = Field(max_length=20)
    area_code: str = Field(foreign_key="areas.code", max_length=12)
    password_hash: str = Field(max_length=200)
    disabled: bool = Field(default=False)
    # Carried in every token; raised when the password changes, so older tokens stop working.
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime | None = _timestamp(default_now=True)
    updated_at: datetime | None = _timestamp(nullable=True)
    updated_by: str | None = Field(default=None, max_length=50)


class Household(SQLModel, table=True):
    __tablename__ = "households"

    code: str = Field(primary_key=True, max_length=20)
    county_code: str = Field(max_length=12)
    township_code: str = Field(max_length=12, index=True)
    village_code: str = Field(foreign_key="areas.code", max_length=12, index=True)
    head_name: str = Field(max_length=50)
    address: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=11)
    category: str | None = Field(default=None, max_length=30)
    status: str = Field(default="not_monitored", max_length=30)
    created_by: str = Field(max_length=50)
    created_at: datetime | None = _timestamp(default_now=True)
    # Flags the rules depend on (set by township and county, audited): 脱贫户 and the year it left
    # poverty (followed with monthly visits and a contact person), 低保, 特困, 残疾
    # (services/domain/household_flags.py).
    formerly_poor: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    poverty_exit_year: int | None = None
    minimum_living_allowance: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    extreme_poverty_support: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    disabled_member: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    # Set when the household merged into another one: its members live on there; it takes no more changes.
    merged_into: str | None = Field(default=None, max_length=20)


class HouseholdChange(SQLModel, table=True):
    """One change of a household's members (户籍变动): birth, death, marriage, move, split or merge,
    with its date and reason. Never updated or deleted: the register's history."""

    __tablename__ = "household_changes"

    id: int | None = Field(default=None, primary_key=True)
    household_code: str = Field(foreign_key="households.code", max_length=20, index=True)
    kind: str = Field(max_length=20)
    occurred_on: date
    reason: str = Field(max_length=500)
    # The household split off (split) or taken in (merge).
    other_household: str | None = Field(default=None, max_length=20)
    recorded_by: str = Field(max_length=50)
    recorded_at: datetime | None = _timestamp(default_now=True)


class Member(SQLModel, table=True):
    """A person of a household. Never deleted: a member who leaves (death, marriage, move, split,
    merge) is ended (`ended_on`, `ended_change`); one ID number is a current member of one household
    at most (a partial unique index), and may have ended rows in others."""

    __tablename__ = "members"
    __table_args__ = (
        Index("ux_members_current_id_number", "id_number", unique=True, postgresql_where=text("ended_on IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_code: str = Field(foreign_key="households.code", max_length=20, index=True)
    name: str = Field(max_length=50)
    id_number: str = Field(max_length=18, index=True)
    relation: str = Field(max_length=20)
    sex: str = Field(max_length=6)
    birth_date: date
    labour_capacity: str = Field(max_length=10)
    health: str | None = Field(default=None, max_length=200)
    disability: str | None = Field(default=None, max_length=200)
    schooling: str | None = Field(default=None, max_length=50)
    # None: registered with the household; otherwise the change that brought the member in.
    joined_on: date | None = None
    joined_change: int | None = Field(default=None, foreign_key="household_changes.id")
    ended_on: date | None = None
    ended_change: int | None = Field(default=None, foreign_key="household_changes.id")
    # Set by a member import (services/db/screening_imports.py), NULL for members registered by hand:
    # the job and file row that last wrote the member, and the job that last changed its values.
    import_job: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    import_row: int | None = None
    changed_job: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))


class PolicyVersion(SQLModel, table=True):
    __tablename__ = "policy_versions"

    version: int = Field(primary_key=True)
    body: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_by: str = Field(max_length=50)
    created_at: datetime | None = _timestamp(default_now=True)


class CaseRecord(SQLModel, table=True):
    """Read model of a case, written only by the `record_case_event` activity."""

    __tablename__ = "case_records"
    __table_args__ = (
        Index("ix_case_records_open_by_due", "due_at", postgresql_where=text("closed_at IS NULL")),
        Index("ix_case_records_township_step", "township_code", "step"),
        # Statistics as of a day (services/api/reports/statistics.py): cases closed in a period, and
        # the cases open now in an area read from the index alone.
        Index("ix_case_records_closed_at", "closed_at"),
        Index(
            "ix_case_records_open_by_area",
            "county_code",
            "township_code",
            "village_code",
            postgresql_include=["case_id", "step", "opened_at", "due_at", "step_due_at", "updated_at"],
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    case_id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(max_length=80)
    run_id: str = Field(max_length=64)
    household_code: str = Field(max_length=20, index=True)
    county_code: str = Field(max_length=12)
    township_code: str = Field(max_length=12)
    village_code: str = Field(max_length=12, index=True)
    channel: str = Field(max_length=30)
    step: str = Field(max_length=30)
    outcome: str | None = Field(default=None, max_length=30)
    policy_version: int
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    step_due_at: datetime | None = _timestamp(nullable=True)
    closed_at: datetime | None = _timestamp(nullable=True)
    last_seq: int
    state: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    updated_at: datetime | None = _timestamp(default_now=True)


class AuditEntry(SQLModel, table=True):
    """Every action, by people and systems. Append-only: a database trigger refuses UPDATE,
    DELETE and TRUNCATE (migration 0001). A case's events are keyed by (case_id, seq); other
    actions (accounts, task claims, policy, departments) name their subject instead."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_audit_case_seq"),
        Index("ix_audit_entries_at", "at", "id"),
        Index("ix_audit_entries_actor_at", "actor_username", "at", "id"),
        Index("ix_audit_entries_subject", "subject_type", "subject_id", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    case_id: str | None = Field(default=None, max_length=40, index=True)
    seq: int | None = None
    # What was acted on: `case`, `monitoring` (a period), `account`, `task`, `policy`, `department`, `household`.
    subject_type: str = Field(default="case", max_length=20, sa_column_kwargs={"server_default": "case"})
    subject_id: str | None = Field(default=None, max_length=200)
    action: str = Field(max_length=40)
    actor_username: str = Field(max_length=50, index=True)
    actor_role: str | None = Field(default=None, max_length=20)
    actor_area_code: str = Field(max_length=12)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    # The subject's state before and after, only the parts that changed (services/domain/changes.py).
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a request sent with an `Idempotency-Key`."""

    __tablename__ = "idempotency_records"

    username: str = Field(primary_key=True, max_length=50)
    key: str = Field(primary_key=True, max_length=100)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None
    response: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    created_at: datetime | None = _timestamp(default_now=True)


class MonitoringRecord(SQLModel, table=True):
    """Read model of a monitoring period, written only by the `record_monitoring_event` activity."""

    __tablename__ = "monitoring_records"
    __table_args__ = (
        Index("ix_monitoring_records_township_status", "township_code", "status"),
        # Inboxes: "tasks @> [{...}]" finds the periods waiting for a role or a person.
        Index("ix_monitoring_records_tasks", "tasks", postgresql_using="gin"),
    )

    monitoring_id: str = Field(primary_key=True, max_length=40)
    workflow_id: str = Field(max_length=80)
    household_code: str = Field(max_length=20, index=True)
    county_code: str = Field(max_length=12)
    township_code: str = Field(max_length=12)
    village_code: str = Field(max_length=12, index=True)
    status: str = Field(max_length=30)
    exit_step: str | None = Field(default=None, max_length=30)
    exit_eligible: bool = Field(default=False)
    support_person: str | None = Field(default=None, max_length=50, index=True)
    since: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    risk_eliminated_at: datetime | None = _timestamp(nullable=True)
    tasks: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    last_seq: int
    state: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    updated_at: datetime | None = _timestamp(default_now=True)


class VisitTaskRecord(SQLModel, table=True):
    """One visit owed by a monitored household for one period; the source of visit coverage."""

    __tablename__ = "visit_tasks"
    __table_args__ = (
        Index("ix_visit_tasks_village_period", "village_code", "period"),
        Index("ix_visit_tasks_township_status", "township_code", "status"),
    )

    monitoring_id: str = Field(primary_key=True, max_length=40)
    period: str = Field(primary_key=True, max_length=7)
    household_code: str = Field(max_length=20, index=True)
    county_code: str = Field(max_length=12)
    township_code: str = Field(max_length=12)
    village_code: str = Field(max_length=12)
    opens_on: date
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(max_length=20)
    visit_count: int
    first_visited_on: date | None = None
    escalated_to: str | None = Field(default=None, max_length=12)
    last_seq: int


class VisitRecord(SQLModel, table=True):
    """A visit as recorded (走访记录): every visit, for the household file."""

    __tablename__ = "monitoring_visits"

    monitoring_id: str = Field(primary_key=True, max_length=40)
    visit_no: int = Field(primary_key=True)
    household_code: str = Field(max_length=20, index=True)
    village_code: str = Field(max_length=12)
    period: str = Field(max_length=7)
    visited_on: date
    visitors: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    findings: str = Field(max_length=2000)
    per_capita_net_income: float
    living_conditions: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    new_risks: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    new_risk_note: str = Field(max_length=2000)
    recorded_by: str = Field(max_length=50)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DepartmentRecord(SQLModel, table=True):
    """A county's department system (INTERFACES.md): where to send cross-checks, and the
    shared secret both sides sign with, stored sealed (services/departments/secret_box.py)."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("county_code", "kind", name="uq_departments_county_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    county_code: str = Field(foreign_key="areas.code", max_length=12)
    kind: str = Field(max_length=40, index=True)
    name: str = Field(max_length=100)
    base_url: str = Field(max_length=500)
    secret_sealed: str = Field(max_length=500)
    # Days a department has to answer a cross-check; None: the case policy's cross-check days.
    answer_days: float | None = None
    # Hours without an answer after which an accepted cross-check request is asked again (same request id).
    reask_hours: float = Field(default=24.0, sa_column_kwargs={"server_default": "24"})
    enabled: bool = True
    created_by: str = Field(max_length=50)
    updated_by: str = Field(max_length=50)
    created_at: datetime | None = _timestamp(default_now=True)
    updated_at: datetime | None = _timestamp(default_now=True)
    secret_updated_at: datetime | None = _timestamp(default_now=True)
    # The secret replaced last, still accepted on what the department sends until `previous_secret_until`,
    # so a rotation needs no moment when both sides switch at once.
    previous_secret_sealed: str | None = Field(default=None, max_length=500)
    previous_secret_until: datetime | None = _timestamp(nullable=True)


class CrossCheckRequestRecord(SQLModel, table=True):
    """Read model of the cross-check requests, one row per request id, written by
    `record_case_event` from the case state (only ever moved forward by `last_seq`).
    The callback endpoint finds a request, its department and whether it still
    awaits a result here; the send activity adds how delivery went."""

    __tablename__ = "cross_check_requests"
    __table_args__ = (
        Index(
            "ix_cross_check_requests_tasks",
            "county_code",
            "respond_by",
            postgresql_where=text("is_live AND is_latest AND status IN ('overdue', 'not_configured', 'silent')"),
        ),
    )

    request_id: str = Field(primary_key=True, max_length=64)
    case_id: str = Field(max_length=40, index=True)
    workflow_id: str = Field(max_length=80)
    run_id: str = Field(max_length=64)
    task_queue: str = Field(max_length=100)
    household_code: str = Field(max_length=20)
    county_code: str = Field(max_length=12)
    township_code: str = Field(max_length=12)
    village_code: str = Field(max_length=12)
    department: str = Field(max_length=40)
    round: int
    status: str = Field(max_length=20)
    # The department's newest request id (a re-send makes a new one).
    is_latest: bool
    # In the case's current round, and the case is open.
    is_live: bool
    requested_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    respond_by: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    answered_at: datetime | None = _timestamp(nullable=True)
    last_seq: int
    send_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_send_error: str | None = Field(default=None, max_length=200)
    accepted_at: datetime | None = _timestamp(nullable=True)


class CrossCheckCallbackRecord(SQLModel, table=True):
    """Inbox of department results: stored by the callback endpoint before it answers
    200, then handed to the case by the worker's forwarder (services/workers/departments/inbox.py)."""

    __tablename__ = "cross_check_callbacks"
    __table_args__ = (
        Index(
            "ix_cross_check_callbacks_undelivered",
            "task_queue",
            "received_at",
            postgresql_where=text("delivered_at IS NULL"),
        ),
    )

    request_id: str = Field(primary_key=True, max_length=64)
    department: str = Field(max_length=40)
    workflow_id: str = Field(max_length=80)
    run_id: str = Field(max_length=64)
    task_queue: str = Field(max_length=100)
    result: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    result_hash: str = Field(max_length=64)
    received_at: datetime | None = _timestamp(default_now=True)
    claimed_until: datetime | None = _timestamp(nullable=True)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    delivered_at: datetime | None = _timestamp(nullable=True)
    # Set once the case has failed to take it several times (still retried): shown to the county officer.
    needs_attention_since: datetime | None = _timestamp(nullable=True)
    # recorded | repeat | not_awaiting | case_closed: what the case made of it.
    delivery_outcome: str | None = Field(default=None, max_length=20)


class EarlyWarningRecord(SQLModel, table=True):
    """Every early warning received (INTERFACES.md §3), with its outcome. Warnings that
    became leads are handed to a case (opened or joined) by the worker's forwarder."""

    __tablename__ = "early_warnings"
    __table_args__ = (
        # "unique per department": a repeated warning_id is a duplicate; an invalid one never counted.
        Index(
            "uq_early_warnings_department_warning",
            "department_id",
            "warning_id",
            unique=True,
            postgresql_where=text("outcome <> 'invalid'"),
        ),
        Index(
            "ix_early_warnings_undelivered",
            "task_queue",
            "id",
            postgresql_where=text("outcome IN ('opened', 'joined') AND delivered_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    department_id: int = Field(foreign_key="departments.id")
    department: str = Field(max_length=40)
    county_code: str = Field(max_length=12)
    warning_id: str | None = Field(default=None, max_length=100)
    id_number: str | None = Field(default=None, max_length=18)
    kind: str | None = Field(default=None, max_length=30)
    amount: float | None = None
    occurred_on: date | None = None
    detail: str | None = Field(default=None, max_length=500)
    # The warning as sent, kept for invalid ones (whose fields may not fit the columns).
    raw: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    outcome: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=1000)
    household_code: str | None = Field(default=None, max_length=20, index=True)
    low_income: bool | None = None
    threshold: float | None = None
    task_queue: str = Field(max_length=100)
    received_at: datetime | None = _timestamp(default_now=True)
    claimed_until: datetime | None = _timestamp(nullable=True)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    delivered_at: datetime | None = _timestamp(nullable=True)
    # Set once its case has failed to take it several times (still retried): shown to the county officer.
    needs_attention_since: datetime | None = _timestamp(nullable=True)
    delivered_as: str | None = Field(default=None, max_length=20)
    case_id: str | None = Field(default=None, max_length=40)


# -- household self-reports (一键申报) ------------------------------------------------


class Applicant(SQLModel, table=True):
    """A household member signed in to the mini-program with a verified phone number."""

    __tablename__ = "applicants"

    id: str = Field(primary_key=True, max_length=32)
    phone: str = Field(max_length=11, unique=True)
    wechat_openid: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime | None = _timestamp(default_now=True)
    last_signed_in_at: datetime | None = _timestamp(nullable=True)


class SmsCode(SQLModel, table=True):
    """A one-time sign-in code, stored only as a keyed hash. Rows also count requests for the rate limits."""

    __tablename__ = "sms_codes"
    __table_args__ = (
        Index("ix_sms_codes_phone_created", "phone", "created_at"),
        Index("ix_sms_codes_address_created", "client_address", "created_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    phone: str = Field(max_length=11)
    code_hash: str = Field(max_length=64)
    client_address: str = Field(max_length=45)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    attempts: int = Field(default=0)
    used_at: datetime | None = _timestamp(nullable=True)


class SignInLimit(SQLModel, table=True):
    """Failed staff sign-ins counted per account name and per client address
    (services/api/people/sign_in.py); a row is locked until `locked_until`."""

    __tablename__ = "sign_in_limits"

    # `account:<sha256 of the name typed>` (a password typed as a name is never stored) or `address:<ip>`.
    key: str = Field(primary_key=True, max_length=80)
    failures: int
    last_failure_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    locked_until: datetime | None = _timestamp(nullable=True)


class SelfReport(SQLModel, table=True):
    """Read model of a self-report application, written only by the `record_self_report_event` activity.

    At most one pending application per head ID number and per registered household (partial unique
    indexes): the activity that writes the first event is refused on a duplicate."""

    __tablename__ = "self_reports"
    __table_args__ = (
        Index(
            "ux_self_reports_pending_head", "head_id_number", unique=True, postgresql_where=text("status = 'pending'")
        ),
        Index(
            "ux_self_reports_pending_household",
            "household_code",
            unique=True,
            postgresql_where=text("status = 'pending' AND household_code IS NOT NULL"),
        ),
        Index("ix_self_reports_township_status", "township_code", "status"),
    )

    application_id: str = Field(primary_key=True, max_length=32)
    workflow_id: str = Field(max_length=80)
    run_id: str = Field(max_length=64)
    applicant_id: str = Field(foreign_key="applicants.id", max_length=32, index=True)
    head_id_number: str = Field(max_length=18)
    household_code: str | None = Field(default=None, max_length=20)
    county_code: str = Field(max_length=12)
    township_code: str = Field(max_length=12)
    village_code: str = Field(max_length=12)
    status: str = Field(max_length=20)
    submitted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    escalated_at: datetime | None = _timestamp(nullable=True)
    decided_at: datetime | None = _timestamp(nullable=True)
    case_id: str | None = Field(default=None, max_length=40, index=True)
    last_seq: int
    state: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    updated_at: datetime | None = _timestamp(default_now=True)


class SelfReportEvent(SQLModel, table=True):
    """Append-only history of an application (the same trigger as `audit_entries`)."""

    __tablename__ = "self_report_events"
    __table_args__ = (UniqueConstraint("application_id", "seq", name="uq_self_report_event_seq"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    application_id: str = Field(max_length=32, index=True)
    seq: int
    action: str = Field(max_length=40)
    actor_username: str = Field(max_length=50)
    actor_role: str | None = Field(default=None, max_length=20)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


class SelfReportNotice(SQLModel, table=True):
    """One SMS notice per application and kind: a retried activity never sends a second one."""

    __tablename__ = "self_report_notices"

    application_id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(primary_key=True, max_length=20)
    text: str = Field(max_length=500)
    created_at: datetime | None = _timestamp(default_now=True)
    sent_at: datetime | None = _timestamp(nullable=True)


# Open tasks only: the inbox, the county's overdue list and a case's own tasks read these.
_OPEN = text("closed_at IS NULL")


class Task(SQLModel, table=True):
    """One occurrence of a wait on a person (services/domain/tasks.py) — an identification step, a
    monitoring period's wait, a self-report's acceptance, an escalation — written by the activity
    that records the workflow's event, closed in the same transaction when the wait ends.
    Claims live here: `version` rises with every claim, release or assignment."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_inbox", "area_code", "role", "due_at", "id", postgresql_where=_OPEN),
        Index("ix_tasks_inbox_step", "area_code", "role", "step", "due_at", "id", postgresql_where=_OPEN),
        Index("ix_tasks_inbox_village", "area_code", "role", "village_code", "due_at", "id", postgresql_where=_OPEN),
        Index("ix_tasks_open_county", "county_code", "due_at", "id", postgresql_where=_OPEN),
        Index("ix_tasks_open_township", "township_code", "due_at", "id", postgresql_where=_OPEN),
        Index("ix_tasks_open_case", "case_id", postgresql_where=_OPEN),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    key: str = Field(max_length=200, unique=True)
    source: str = Field(max_length=30)  # the kind of workflow: `identification`, `monitoring`, `self_report`
    case_id: str = Field(max_length=40)  # the case, monitoring period or application the task belongs to
    workflow_id: str = Field(max_length=80)
    step: str = Field(max_length=40)
    action: str | None = Field(default=None, max_length=40)
    subject: str | None = Field(default=None, max_length=64)
    title: str = Field(max_length=200)
    household_code: str | None = Field(default=None, max_length=20)  # None: a self-report not registered yet
    county_code: str = Field(max_length=12)
    township_code: str = Field(max_length=12)
    village_code: str = Field(max_length=12)
    # Who may act: people of this role whose area is this one.
    role: str = Field(max_length=20)
    area_code: str = Field(max_length=12)
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    escalated_at: datetime | None = _timestamp(nullable=True)
    detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    )
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    opened_seq: int
    closed_at: datetime | None = _timestamp(nullable=True)
    closed_seq: int | None = None
    closed_by: str | None = Field(default=None, max_length=50)
    claimed_by: str | None = Field(default=None, max_length=50)
    claimed_at: datetime | None = _timestamp(nullable=True)
    assigned_by: str | None = Field(default=None, max_length=50)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class TaskCount(SQLModel, table=True):
    """Open tasks per inbox (area, role) and step, kept by a trigger on `tasks` (migration 0005),
    so an inbox's counts cost the same however many tasks it holds."""

    __tablename__ = "task_counts"

    area_code: str = Field(primary_key=True, max_length=12)
    role: str = Field(primary_key=True, max_length=20)
    step: str = Field(primary_key=True, max_length=40)
    open: int = Field(default=0)


class ContactPerson(SQLModel, table=True):
    """A 脱贫户's contact person (帮扶联系人), named by the township: one current per household
    (`ended_at` null); a replaced one is ended, never deleted."""

    __tablename__ = "contact_people"
    __table_args__ = (
        Index("ux_contact_people_current", "household_code", unique=True, postgresql_where=text("ended_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_code: str = Field(foreign_key="households.code", max_length=20, index=True)
    username: str = Field(foreign_key="accounts.username", max_length=50)
    note: str = Field(default="", max_length=500)
    appointed_by: str = Field(max_length=50)
    appointed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: datetime | None = _timestamp(nullable=True)


class FollowUpVisitTask(SQLModel, table=True):
    """One month's visit owed by a household followed outside a monitoring period (a 脱贫户, or a
    monitoring target whose risk is eliminated); the key (household, month) makes it one a month."""

    __tablename__ = "follow_up_visit_tasks"
    __table_args__ = (
        Index("ix_follow_up_visit_tasks_village_period", "village_code", "period"),
        Index("ix_follow_up_visit_tasks_open", "period", postgresql_where=text("status = 'open'")),
    )

    household_code: str = Field(foreign_key="households.code", primary_key=True, max_length=20)
    period: str = Field(primary_key=True, max_length=7)
    population: str = Field(max_length=20)
    county_code: str = Field(max_length=12)
    township_code: str = Field(max_length=12)
    village_code: str = Field(max_length=12)
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(max_length=20)
    visit_count: int = 0
    first_visited_on: date | None = None


class FollowUpVisitRecord(SQLModel, table=True):
    """A visit to a followed household (走访记录), as recorded."""

    __tablename__ = "follow_up_visits"

    id: int | None = Field(default=None, primary_key=True)
    household_code: str = Field(foreign_key="households.code", max_length=20, index=True)
    village_code: str = Field(max_length=12)
    period: str = Field(max_length=7)
    visited_on: date
    visitors: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    findings: str = Field(max_length=2000)
    living_conditions: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    recorded_by: str = Field(max_length=50)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


# The tables of later concepts live in their own modules; importing them registers them in the metadata.
from services.db import admin_safety, province, reports, screening  # noqa: E402,F401

from services.db import evidence  # noqa: E402,F401  # isort: skip
from services.db import ended_sessions  # noqa: E402,F401  # isort: skip
