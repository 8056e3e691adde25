"""admin safety: county settings, admin grants waiting for a second admin

Revision ID: 0012
Revises: 0011
Create Date: 2027-01-27

- `county_settings`: a county's own settings (services/db/admin_safety.py); no row: the defaults
  (making an account admin needs no second admin, as before the upgrade).
- `admin_grants`: requests to make an account admin, pending until a second admin decides when
  the county requires one; at most one pending per account.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'county_settings',
        sa.Column('county_code', sa.String(length=12), primary_key=True),
        sa.Column('second_admin_for_admin_grants', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('updated_by', sa.String(length=50), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        'admin_grants',
        sa.Column('id', sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column('county_code', sa.String(length=12), nullable=False),
        sa.Column('username', sa.String(length=50), sa.ForeignKey('accounts.username'), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.String(length=2000), nullable=False),
        sa.Column('requested_by', sa.String(length=50), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column('decided_by', sa.String(length=50), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_note', sa.String(length=2000), nullable=True),
    )
    op.create_index(
        'uq_admin_grants_pending', 'admin_grants', ['username'], unique=True, postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index('ix_admin_grants_county_requested', 'admin_grants', ['county_code', 'requested_at'])


def downgrade() -> None:
    op.drop_table('admin_grants')
    op.drop_table('county_settings')
