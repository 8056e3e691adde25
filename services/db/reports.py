"""Kept reports (周报、月报): one row per kind, area and period, never produced twice."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class KeptReport(SQLModel, table=True):
    """A weekly or monthly report of a township or the county, as produced: its statistics as of the
    period's last day (services/api/reports/statistics.py). The key (kind, area, first day) makes a
    repeated production (a retry, a schedule's catch-up) find the row already kept."""

    __tablename__ = "kept_reports"

    report_key: str = Field(primary_key=True, max_length=60)
    kind: str = Field(max_length=10)
    area_code: str = Field(max_length=12, index=True)
    area_name: str = Field(max_length=50)
    from_date: date
    to_date: date
    statistics: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    produced_by: str = Field(max_length=50)
    produced_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
