"""Tables of the exchange with the province's monitoring platform (docs/province-exchange.md).

- `province_batches`: every export batch, numbered per county, with its file exactly as first
  written (a re-send is the same bytes) and when the platform acknowledged it.
- `province_sent`: per exported record, the hash of the content the platform has acknowledged:
  the watermark. An export holds the records whose content differs from it; an ack moves it.
- `province_warnings`: the platform's warnings received, each once per county, with the case
  it opened or joined.
- `province_discrepancies`: the roster check (体外循环): households on the platform's roster
  and not monitored here, or the other way round, until the county marks each resolved.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, LargeBinary, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def _moment(nullable: bool = False, default_now: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=nullable, server_default=func.now() if default_now else None
        ),
    )


class ProvinceBatch(SQLModel, table=True):
    __tablename__ = "province_batches"

    county_code: str = Field(primary_key=True, max_length=12)
    batch_no: int = Field(primary_key=True)
    record_count: int
    records_by_kind: dict[str, int] = Field(sa_column=Column(JSONB, nullable=False))
    # [kind, key, content hash] of every record in the file: what its acknowledgement records as sent.
    record_hashes: list[list[str]] = Field(sa_column=Column(JSONB, nullable=False))
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_by: str = Field(max_length=50)
    created_at: datetime | None = _moment(default_now=True)
    acknowledged_at: datetime | None = _moment(nullable=True)
    acknowledged_by: str | None = Field(default=None, max_length=50)
    platform_receipt: str | None = Field(default=None, max_length=100)


class ProvinceSent(SQLModel, table=True):
    __tablename__ = "province_sent"

    county_code: str = Field(primary_key=True, max_length=12)
    kind: str = Field(primary_key=True, max_length=20)
    key: str = Field(primary_key=True, max_length=100)
    content_hash: str = Field(max_length=64)
    batch_no: int


class ProvinceWarning(SQLModel, table=True):
    __tablename__ = "province_warnings"

    county_code: str = Field(primary_key=True, max_length=12)
    warning_id: str = Field(primary_key=True, max_length=100)
    list_id: str = Field(max_length=100)
    household_code: str = Field(max_length=20, index=True)
    outcome: str = Field(max_length=20)
    case_id: str = Field(max_length=40)
    received_by: str = Field(max_length=50)
    received_at: datetime | None = _moment(default_now=True)


class ProvinceDiscrepancy(SQLModel, table=True):
    __tablename__ = "province_discrepancies"
    __table_args__ = (
        # One open difference per household and kind: a roster received again adds nothing.
        Index(
            "ux_province_discrepancies_open",
            "county_code",
            "household_code",
            "kind",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    county_code: str = Field(max_length=12, index=True)
    household_code: str = Field(max_length=20)
    # Where the household lies (a code the platform sent may be one we do not know: then the county's).
    village_code: str = Field(max_length=12)
    kind: str = Field(max_length=20)
    roster_id: str = Field(max_length=100)
    roster_as_of: date
    platform_head_name: str | None = Field(default=None, max_length=50)
    platform_status: str | None = Field(default=None, max_length=30)
    our_status: str | None = Field(default=None, max_length=30)
    found_at: datetime | None = _moment(default_now=True)
    resolved_at: datetime | None = _moment(nullable=True)
    resolved_by: str | None = Field(default=None, max_length=50)
    resolution: str | None = Field(default=None, max_length=2000)
