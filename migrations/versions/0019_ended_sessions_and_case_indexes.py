"""ended workbench sessions; case indexes for statistics as of a day

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

- `ended_sessions`: the workbench's session cookies ended by signing out (by the SHA-256 of the
  token), refused on every page request until the token would have expired. Starts empty.
- `case_records`: an index by closing time (cases identified in a period) and a partial index
  of open cases by area carrying what the open-case figures read (services/api/reports/statistics.py),
  so the statistics page at a million cases reads no table rows for them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ended_sessions",
        sa.Column("token_sha256", sa.String(length=64), primary_key=True),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ended_sessions_expires_at", "ended_sessions", ["expires_at"])
    op.create_index("ix_case_records_closed_at", "case_records", ["closed_at"])
    op.create_index(
        "ix_case_records_open_by_area",
        "case_records",
        ["county_code", "township_code", "village_code"],
        postgresql_include=["case_id", "step", "opened_at", "due_at", "step_due_at", "updated_at"],
        postgresql_where=sa.text("closed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_case_records_open_by_area", table_name="case_records")
    op.drop_index("ix_case_records_closed_at", table_name="case_records")
    op.drop_index("ix_ended_sessions_expires_at", table_name="ended_sessions")
    op.drop_table("ended_sessions")
