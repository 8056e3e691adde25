"""evidence (证明材料)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

- `evidence`: each file kept as evidence (signed 承诺授权书, review minutes, the notice as posted,
  visit photos), attached to a case's step or a monitoring period's visit; its bytes are in the
  evidence store (services/storage/evidence_store.py). Starts empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'evidence',
        sa.Column('evidence_id', sa.String(length=40), primary_key=True),
        sa.Column('household_code', sa.String(length=20), nullable=False),
        sa.Column('village_code', sa.String(length=12), nullable=False),
        sa.Column('case_id', sa.String(length=40), nullable=True),
        sa.Column('step', sa.String(length=30), nullable=True),
        sa.Column('monitoring_id', sa.String(length=40), nullable=True),
        sa.Column('visit_no', sa.Integer(), nullable=True),
        sa.Column('target', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('file_name', sa.String(length=100), nullable=False),
        sa.Column('media_type', sa.String(length=30), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('storage_key', sa.String(length=120), nullable=False),
        sa.Column('uploaded_by', sa.String(length=50), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index('ix_evidence_household_code', 'evidence', ['household_code'])
    op.create_index('ix_evidence_case_id', 'evidence', ['case_id'])
    op.create_index('ix_evidence_monitoring_id', 'evidence', ['monitoring_id'])
    op.create_index('ix_evidence_target_file', 'evidence', ['target', 'sha256'], unique=True)


def downgrade() -> None:
    op.drop_table('evidence')
