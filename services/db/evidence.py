"""Evidence (证明材料): one row per file kept, attached to a case's step or a monitoring visit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, func
from sqlmodel import Field, SQLModel


class Evidence(SQLModel, table=True):
    """The bytes live in the evidence store under `storage_key`; the row says what they prove and
    where, so area rules apply as to the case or period. A file sent twice to the same place (a
    resent form) is the same row: (target, sha256) is unique."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_target_file", "target", "sha256", unique=True),)

    evidence_id: str = Field(primary_key=True, max_length=40)
    household_code: str = Field(max_length=20, index=True)
    village_code: str = Field(max_length=12)
    case_id: str | None = Field(default=None, max_length=40, index=True)
    step: str | None = Field(default=None, max_length=30)
    monitoring_id: str | None = Field(default=None, max_length=40, index=True)
    visit_no: int | None = None
    # What it proves, as one key: "case:{case_id}:{step}" or "monitoring:{monitoring_id}:{visit_no}".
    target: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    note: str = Field(default="", max_length=200)
    file_name: str = Field(max_length=100)
    media_type: str = Field(max_length=30)
    size_bytes: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=120)
    uploaded_by: str = Field(max_length=50)
    uploaded_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
