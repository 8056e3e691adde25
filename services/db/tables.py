"""PostgreSQL tables (SQLModel). Alembic migrations in `migrations/` create them.

What lives here: the household registry, accounts, policy versions, the case
read model, the monitoring read model (periods, visit tasks, visits), the
append-only audit log and stored idempotent responses. Where each case and
each monitoring period stands lives in Temporal, not here.
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
    created_at: datetime | None = _timestamp(default_now=True)


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


class Member(SQLModel, table=True):
    __tablename__ = "members"

    id: int | None = Field(default=None, primary_key=True)
    household_code: str = Field(foreign_key="households.code", max_length=20, index=True)
    name: str = Field(max_length=50)
    id_number: str = Field(max_length=18, unique=True)
    relation: str = Field(max_length=20)
    sex: str = Field(max_length=6)
    birth_date: date
    labour_capacity: str = Field(max_length=10)
    health: str | None = Field(default=None, max_length=200)
    disability: str | None = Field(default=None, max_length=200)
    schooling: str | None = Field(default=None, max_length=50)


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
    """Append-only: a database trigger refuses UPDATE and DELETE (migration 0001)."""

    __tablename__ = "audit_entries"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_audit_case_seq"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    case_id: str = Field(max_length=40, index=True)
    seq: int
    action: str = Field(max_length=40)
    actor_username: str = Field(max_length=50, index=True)
    actor_role: str | None = Field(default=None, max_length=20)
    actor_area_code: str = Field(max_length=12)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))


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
