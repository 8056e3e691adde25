"""member records by import (家庭成员导入)

Revision ID: 0018
Revises: 0016 (the lead re-chains it after 0017)
Create Date: 2026-12-04

- `members` gains the columns every imported table has: the job and file row that last wrote a
  member (`import_job`, `import_row`: a repeated ID number in one file is refused with its first
  row) and the job that last changed one of its values (`changed_job`: a run after the import
  screens the households whose members changed). NULL for members registered by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('members', sa.Column('import_job', sa.BigInteger(), nullable=True))
    op.add_column('members', sa.Column('import_row', sa.Integer(), nullable=True))
    op.add_column('members', sa.Column('changed_job', sa.BigInteger(), nullable=True))
    op.create_index('ix_members_changed_job', 'members', ['changed_job'])


def downgrade() -> None:
    op.drop_index('ix_members_changed_job', table_name='members')
    op.drop_column('members', 'changed_job')
    op.drop_column('members', 'import_row')
    op.drop_column('members', 'import_job')
