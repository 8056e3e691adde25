"""staff sign-in limits; a grace period for a department's replaced secret

Revision ID: 0011
Revises: 0010
Create Date: 2027-01-20

- `sign_in_limits`: failed staff sign-ins per account name and per client address, and until when
  each is locked (services/api/people/sign_in.py). Starts empty: nobody is locked by the upgrade.
- `departments.previous_secret_sealed`, `departments.previous_secret_until`: the secret replaced
  last and until when it is still accepted on what the department sends. Empty for existing rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sign_in_limits',
        sa.Column('key', sa.String(length=80), primary_key=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column('departments', sa.Column('previous_secret_sealed', sa.String(length=500), nullable=True))
    op.add_column('departments', sa.Column('previous_secret_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('departments', 'previous_secret_until')
    op.drop_column('departments', 'previous_secret_sealed')
    op.drop_table('sign_in_limits')
