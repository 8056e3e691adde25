"""household register that stays true: member changes, household flags

Revision ID: 0009
Revises: 0008
Create Date: 2027-01-20

- `household_changes`: every change of a household's members (birth, death, marriage in/out,
  move in/out, split, merge) with its date and reason; append-only (the audit trigger).
- `members.joined_on/joined_change/ended_on/ended_change`: a member is never deleted, only ended.
  An ID number is unique among current members only (it may have ended rows elsewhere).
- `households`: the flags the rules depend on (`formerly_poor` 脱贫户 and `poverty_exit_year`,
  `minimum_living_allowance` 低保, `extreme_poverty_support` 特困, `disabled_member` 残疾) and
  `merged_into`. Backfill: a household identified as 脱贫不稳定户 is a 脱贫户 (its exit year
  unknown until the township sets it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'household_changes',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('household_code', sa.String(length=20), sa.ForeignKey('households.code'), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('occurred_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('other_household', sa.String(length=20), nullable=True),
        sa.Column('recorded_by', sa.String(length=50), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    )
    op.create_index('ix_household_changes_household_code', 'household_changes', ['household_code'])
    # Append-only, like the audit log (the function is migration 0001's).
    op.execute(
        "CREATE TRIGGER household_changes_append_only BEFORE UPDATE OR DELETE ON household_changes "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
    )
    op.execute(
        "CREATE TRIGGER household_changes_no_truncate BEFORE TRUNCATE ON household_changes "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change()"
    )

    op.add_column('members', sa.Column('joined_on', sa.Date(), nullable=True))
    op.add_column('members', sa.Column('joined_change', sa.Integer(), sa.ForeignKey('household_changes.id'),
                                       nullable=True))
    op.add_column('members', sa.Column('ended_on', sa.Date(), nullable=True))
    op.add_column('members', sa.Column('ended_change', sa.Integer(), sa.ForeignKey('household_changes.id'),
                                       nullable=True))
    op.drop_constraint('members_id_number_key', 'members', type_='unique')
    op.create_index('ix_members_id_number', 'members', ['id_number'])
    op.create_index('ux_members_current_id_number', 'members', ['id_number'], unique=True,
                    postgresql_where=sa.text('ended_on IS NULL'))

    for flag in ('formerly_poor', 'minimum_living_allowance', 'extreme_poverty_support', 'disabled_member'):
        op.execute(f"ALTER TABLE households ADD COLUMN IF NOT EXISTS {flag} boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE households ADD COLUMN IF NOT EXISTS poverty_exit_year integer")
    op.add_column('households', sa.Column('merged_into', sa.String(length=20), nullable=True))
    op.execute("UPDATE households SET formerly_poor = true WHERE category = 'unstable_formerly_poor'")


def downgrade() -> None:
    op.drop_column('households', 'merged_into')
    for column in ('poverty_exit_year', 'disabled_member', 'extreme_poverty_support', 'minimum_living_allowance',
                   'formerly_poor'):
        op.drop_column('households', column)
    op.drop_index('ux_members_current_id_number', table_name='members')
    op.drop_index('ix_members_id_number', table_name='members')
    op.create_unique_constraint('members_id_number_key', 'members', ['id_number'])
    for column in ('ended_change', 'ended_on', 'joined_change', 'joined_on'):
        op.drop_column('members', column)
    op.drop_table('household_changes')
