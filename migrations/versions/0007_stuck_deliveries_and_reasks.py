"""department inbox rows that need attention; re-asking silent departments

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03

- `cross_check_callbacks.needs_attention_since`, `early_warnings.needs_attention_since`: set by
  the worker's forwarder once a case has failed to take the row several times (it is still
  retried); the county officer's lists show it.
- `departments.reask_hours`: hours without an answer after which a department that accepted a
  cross-check request is asked again with the same request id (existing departments: 24).
- The officers' cross-check task index also covers the new request status `silent`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None

_TASKS_BEFORE = "is_live AND is_latest AND status IN ('overdue', 'not_configured')"
_TASKS_AFTER = "is_live AND is_latest AND status IN ('overdue', 'not_configured', 'silent')"


def upgrade() -> None:
    op.add_column('cross_check_callbacks', sa.Column('needs_attention_since', sa.DateTime(timezone=True), nullable=True))
    op.add_column('early_warnings', sa.Column('needs_attention_since', sa.DateTime(timezone=True), nullable=True))
    op.add_column('departments', sa.Column('reask_hours', sa.Float(), server_default='24', nullable=False))
    op.drop_index('ix_cross_check_requests_tasks', table_name='cross_check_requests')
    op.create_index('ix_cross_check_requests_tasks', 'cross_check_requests', ['county_code', 'respond_by'],
                    unique=False, postgresql_where=sa.text(_TASKS_AFTER))


def downgrade() -> None:
    op.drop_index('ix_cross_check_requests_tasks', table_name='cross_check_requests')
    op.create_index('ix_cross_check_requests_tasks', 'cross_check_requests', ['county_code', 'respond_by'],
                    unique=False, postgresql_where=sa.text(_TASKS_BEFORE))
    op.drop_column('departments', 'reask_hours')
    op.drop_column('early_warnings', 'needs_attention_since')
    op.drop_column('cross_check_callbacks', 'needs_attention_since')
