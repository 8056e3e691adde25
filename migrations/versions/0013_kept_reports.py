"""kept weekly and monthly reports

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

- `kept_reports`: each weekly or monthly report of a township or the county as produced (by the
  report schedules or a county officer), keyed by kind, area and first day, so it is never doubled
  (services/db/reports.py). Starts empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'kept_reports',
        sa.Column('report_key', sa.String(length=60), primary_key=True),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('area_code', sa.String(length=12), nullable=False),
        sa.Column('area_name', sa.String(length=50), nullable=False),
        sa.Column('from_date', sa.Date(), nullable=False),
        sa.Column('to_date', sa.Date(), nullable=False),
        sa.Column('statistics', postgresql.JSONB(), nullable=False),
        sa.Column('produced_by', sa.String(length=50), nullable=False),
        sa.Column('produced_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index('ix_kept_reports_area_code', 'kept_reports', ['area_code'])


def downgrade() -> None:
    op.drop_index('ix_kept_reports_area_code', table_name='kept_reports')
    op.drop_table('kept_reports')
