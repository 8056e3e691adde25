"""Tables for admin safety: a county's own settings, and grants of the admin role that wait
for a second admin (services/api/admin_safety/)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, func, text
from sqlmodel import Field, SQLModel


class CountySetting(SQLModel, table=True):
    """One row per county that changed a setting; a county without a row has the defaults."""

    __tablename__ = "county_settings"

    county_code: str = Field(primary_key=True, max_length=12)
    # Making an account admin waits until another admin (not the one asking) approves it.
    second_admin_for_admin_grants: bool = Field(default=False)
    updated_by: str = Field(max_length=50)
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))


class AdminGrant(SQLModel, table=True):
    """An admin's request to make an account admin: `pending` (its county requires a second
    admin), `granted` or `refused`. At most one pending request per account."""

    __tablename__ = "admin_grants"
    __table_args__ = (
        Index(
            "uq_admin_grants_pending",
            "username",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_admin_grants_county_requested", "county_code", "requested_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    county_code: str = Field(max_length=12)
    username: str = Field(foreign_key="accounts.username", max_length=50)
    status: str = Field(max_length=10)
    reason: str = Field(max_length=2000)
    requested_by: str = Field(max_length=50)
    requested_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()))
    decided_by: str | None = Field(default=None, max_length=50)
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    decision_note: str | None = Field(default=None, max_length=2000)
