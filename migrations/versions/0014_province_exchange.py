"""the exchange with the province's monitoring platform

Revision ID: 0014
Revises: 0013
Create Date: 2027-02-01

- `province_batches`: export batches, numbered per county, with their file as first written.
- `province_sent`: the acknowledged content hash of every exported record (the watermark).
- `province_warnings`: the platform's warnings received, once each, with their case.
- `province_discrepancies`: the roster check (体外循环), until the county resolves each.
All start empty: the first export after the upgrade holds every record of the county.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'province_batches',
        sa.Column('county_code', sa.String(length=12), primary_key=True),
        sa.Column('batch_no', sa.Integer(), primary_key=True),
        sa.Column('record_count', sa.Integer(), nullable=False),
        sa.Column('records_by_kind', postgresql.JSONB(), nullable=False),
        sa.Column('record_hashes', postgresql.JSONB(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('created_by', sa.String(length=50), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by', sa.String(length=50), nullable=True),
        sa.Column('platform_receipt', sa.String(length=100), nullable=True),
    )
    op.create_table(
        'province_sent',
        sa.Column('county_code', sa.String(length=12), primary_key=True),
        sa.Column('kind', sa.String(length=20), primary_key=True),
        sa.Column('key', sa.String(length=100), primary_key=True),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('batch_no', sa.Integer(), nullable=False),
    )
    op.create_table(
        'province_warnings',
        sa.Column('county_code', sa.String(length=12), primary_key=True),
        sa.Column('warning_id', sa.String(length=100), primary_key=True),
        sa.Column('list_id', sa.String(length=100), nullable=False),
        sa.Column('household_code', sa.String(length=20), nullable=False, index=True),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('case_id', sa.String(length=40), nullable=False),
        sa.Column('received_by', sa.String(length=50), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        'province_discrepancies',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('county_code', sa.String(length=12), nullable=False, index=True),
        sa.Column('household_code', sa.String(length=20), nullable=False),
        sa.Column('village_code', sa.String(length=12), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('roster_id', sa.String(length=100), nullable=False),
        sa.Column('roster_as_of', sa.Date(), nullable=False),
        sa.Column('platform_head_name', sa.String(length=50), nullable=True),
        sa.Column('platform_status', sa.String(length=30), nullable=True),
        sa.Column('our_status', sa.String(length=30), nullable=True),
        sa.Column('found_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_by', sa.String(length=50), nullable=True),
        sa.Column('resolution', sa.String(length=2000), nullable=True),
    )
    op.create_index(
        'ux_province_discrepancies_open',
        'province_discrepancies',
        ['county_code', 'household_code', 'kind'],
        unique=True,
        postgresql_where=sa.text('resolved_at IS NULL'),
    )


def downgrade() -> None:
    op.drop_table('province_discrepancies')
    op.drop_table('province_warnings')
    op.drop_table('province_sent')
    op.drop_table('province_batches')
