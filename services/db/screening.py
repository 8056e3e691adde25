"""Tables of 全农户排查 (household screening): bulk import jobs and what they bring in (household
size, yearly income by source, monthly signals), screening runs and the leads they opened, and the
grid workers' screening visits. Migration 0015 creates them.

Imported rows carry the job and file row that last carried them (`import_job`, `import_row`), so a
row meeting its key already written by an earlier row of the same job is a duplicate, while its own
earlier write (a resumed job) is not; and the job that last changed their values (`changed_job`),
so a run after an import screens only the households that job changed. Imported members (家庭成员)
go into the register's own `members` table, which migration 0018 gives the same three columns.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, LargeBinary, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def _at(nullable: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=nullable, server_default=None if nullable else func.now()),
    )


# The statuses an import job ends in (services/workers/screening/imports.py).
IMPORT_FINISHED = ("done", "rejected", "truncated")


class ImportJob(SQLModel, table=True):
    """One imported file. (county, kind, mode, content hash) is unique: the same file again is the same job."""

    __tablename__ = "import_jobs"
    __table_args__ = (UniqueConstraint("county_code", "kind", "mode", "content_hash", name="uq_import_jobs_file"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    county_code: str = Field(max_length=12)
    kind: str = Field(max_length=20)  # households | incomes | signals
    mode: str = Field(max_length=20)  # all_or_nothing | row_by_row
    file_name: str = Field(max_length=200)
    file_format: str = Field(max_length=10)  # csv | xlsx
    content_hash: str = Field(max_length=64)
    status: str = Field(max_length=20)  # queued | running | done | rejected
    rows_total: int = 0
    rows_read: int = 0
    rows_changed: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    created_by: str = Field(max_length=50)
    created_at: datetime | None = _at()
    finished_at: datetime | None = _at(nullable=True)


class ImportFilePart(SQLModel, table=True):
    """The file as uploaded, in parts of at most 1 MB, so neither side ever holds a whole large file."""

    __tablename__ = "import_file_parts"

    job_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    part: int = Field(primary_key=True)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ImportRejection(SQLModel, table=True):
    """Why one row of a file was not taken (Chinese, for the person who sent it)."""

    __tablename__ = "import_rejections"
    __table_args__ = (Index("ix_import_rejections_job_row", "job_id", "row_number"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    job_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    row_number: int
    field: str = Field(max_length=50)
    message: str = Field(max_length=500)


class HouseholdProfile(SQLModel, table=True):
    """What an import says of a household beyond the register: its size as the platform counts it."""

    __tablename__ = "household_profiles"

    household_code: str = Field(primary_key=True, foreign_key="households.code", max_length=20)
    household_size: int
    import_job: int = Field(sa_column=Column(BigInteger, nullable=False))
    import_row: int
    changed_job: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))


class HouseholdIncome(SQLModel, table=True):
    """A household's income of one year from one source (yuan, the whole household)."""

    __tablename__ = "household_incomes"

    household_code: str = Field(primary_key=True, foreign_key="households.code", max_length=20)
    year: int = Field(primary_key=True)
    source: str = Field(primary_key=True, max_length=20)
    yuan: float
    import_job: int = Field(sa_column=Column(BigInteger, nullable=False))
    import_row: int
    changed_job: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))


class HouseholdSignal(SQLModel, table=True):
    """A monthly signal a department hands over: wages paid, a medical bill, a subsidy, a pupil
    leaving school, a house found unsafe."""

    __tablename__ = "household_signals"

    household_code: str = Field(primary_key=True, foreign_key="households.code", max_length=20)
    month: str = Field(primary_key=True, max_length=7)
    kind: str = Field(primary_key=True, max_length=30)
    amount: float | None = None
    import_job: int = Field(sa_column=Column(BigInteger, nullable=False))
    import_row: int
    changed_job: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))


class ScreeningRun(SQLModel, table=True):
    """One screening of the register (or of what one import changed) under one policy version."""

    __tablename__ = "screening_runs"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    county_code: str = Field(max_length=12)
    year: int
    policy_version: int
    import_job: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    status: str = Field(max_length=20)  # flagging | opening | done
    flagged: int = 0
    opened: int = 0
    joined: int = 0
    skipped: int = 0
    started_by: str = Field(max_length=50)
    started_at: datetime | None = _at()
    finished_at: datetime | None = _at(nullable=True)


class ScreeningHit(SQLModel, table=True):
    """A household a run flagged, with its rules and score; the run opens leads in (score, code) order."""

    __tablename__ = "screening_hits"
    __table_args__ = (Index("ix_screening_hits_order", "run_id", "score", "household_code"),)

    run_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    household_code: str = Field(primary_key=True, max_length=20)
    township_code: str = Field(max_length=12)
    village_code: str = Field(max_length=12)
    score: int
    rules: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    # opened | joined | monitored (not led: already a monitoring target) | known (led before) | None: pending
    outcome: str | None = Field(default=None, max_length=20)
    case_id: str | None = Field(default=None, max_length=40)


class ScreeningLead(SQLModel, table=True):
    """A (household, year, rule) that screening has already led to a case: a later run leads again only
    for a rule the household did not meet before."""

    __tablename__ = "screening_leads"

    household_code: str = Field(primary_key=True, max_length=20)
    year: int = Field(primary_key=True)
    rule: str = Field(primary_key=True, max_length=30)
    run_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    case_id: str = Field(max_length=40)


class ScreeningVisit(SQLModel, table=True):
    """A grid worker's screening visit (排查走访) to a household."""

    __tablename__ = "screening_visits"
    __table_args__ = (Index("ix_screening_visits_household_on", "household_code", "visited_on"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    household_code: str = Field(foreign_key="households.code", max_length=20)
    village_code: str = Field(max_length=12, index=True)
    visited_on: date
    findings: str = Field(max_length=2000)
    risk_found: bool
    recorded_by: str = Field(max_length=50)
    recorded_at: datetime | None = _at()
