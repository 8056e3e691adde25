"""全农户排查: bulk import jobs, imported household data, screening runs, screening visits

Revision ID: 0015
Revises: 0014
Create Date: 2027-02-01

- `import_jobs`, `import_file_parts`, `import_rejections`: each imported file (one job per county, kind,
  mode and content hash), its bytes, and the rows refused with the reason.
- `household_profiles`, `household_incomes`, `household_signals`: what imports bring in, keyed by
  their natural keys, with the job and row that last changed them.
- `screening_runs`, `screening_hits`, `screening_leads`: runs, the households each flagged, and the
  (household, year, rule) already led to a case.
- `screening_visits`: grid workers' screening visits (排查走访).
All start empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _now() -> sa.Column:
    return sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _imported() -> list[sa.Column]:
    return [
        sa.Column('import_job', sa.BigInteger(), nullable=False),
        sa.Column('import_row', sa.Integer(), nullable=False),
        sa.Column('changed_job', sa.BigInteger(), nullable=False, index=True),
    ]


def upgrade() -> None:
    op.create_table(
        'import_jobs',
        sa.Column('id', sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column('county_code', sa.String(12), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('mode', sa.String(20), nullable=False),
        sa.Column('file_name', sa.String(200), nullable=False),
        sa.Column('file_format', sa.String(10), nullable=False),
        sa.Column('content_hash', sa.String(64), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False)
          for c in ('rows_total', 'rows_read', 'rows_changed', 'rows_unchanged', 'rows_rejected')],
        sa.Column('created_by', sa.String(50), nullable=False),
        _now(),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint('county_code', 'kind', 'mode', 'content_hash', name='uq_import_jobs_file'),
    )
    op.create_table(
        'import_file_parts',
        sa.Column('job_id', sa.BigInteger(), primary_key=True),
        sa.Column('part', sa.Integer(), primary_key=True),
        sa.Column('content', sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        'import_rejections',
        sa.Column('id', sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column('job_id', sa.BigInteger(), nullable=False),
        sa.Column('row_number', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(50), nullable=False),
        sa.Column('message', sa.String(500), nullable=False),
    )
    op.create_index('ix_import_rejections_job_row', 'import_rejections', ['job_id', 'row_number'])
    op.create_table(
        'household_profiles',
        sa.Column('household_code', sa.String(20), sa.ForeignKey('households.code'), primary_key=True),
        sa.Column('household_size', sa.Integer(), nullable=False),
        *_imported(),
    )
    op.create_table(
        'household_incomes',
        sa.Column('household_code', sa.String(20), sa.ForeignKey('households.code'), primary_key=True),
        sa.Column('year', sa.Integer(), primary_key=True),
        sa.Column('source', sa.String(20), primary_key=True),
        sa.Column('yuan', sa.Float(), nullable=False),
        *_imported(),
    )
    op.create_table(
        'household_signals',
        sa.Column('household_code', sa.String(20), sa.ForeignKey('households.code'), primary_key=True),
        sa.Column('month', sa.String(7), primary_key=True),
        sa.Column('kind', sa.String(30), primary_key=True),
        sa.Column('amount', sa.Float(), nullable=True),
        *_imported(),
    )
    op.create_table(
        'screening_runs',
        sa.Column('id', sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column('county_code', sa.String(12), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('policy_version', sa.Integer(), nullable=False),
        sa.Column('import_job', sa.BigInteger(), nullable=True),
        sa.Column('status', sa.String(20), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in ('flagged', 'opened', 'joined', 'skipped')],
        sa.Column('started_by', sa.String(50), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        'screening_hits',
        sa.Column('run_id', sa.BigInteger(), primary_key=True),
        sa.Column('household_code', sa.String(20), primary_key=True),
        sa.Column('township_code', sa.String(12), nullable=False),
        sa.Column('village_code', sa.String(12), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('rules', postgresql.JSONB(), nullable=False),
        sa.Column('outcome', sa.String(20), nullable=True),
        sa.Column('case_id', sa.String(40), nullable=True),
    )
    op.create_index('ix_screening_hits_order', 'screening_hits', ['run_id', 'score', 'household_code'])
    op.create_table(
        'screening_leads',
        sa.Column('household_code', sa.String(20), primary_key=True),
        sa.Column('year', sa.Integer(), primary_key=True),
        sa.Column('rule', sa.String(30), primary_key=True),
        sa.Column('run_id', sa.BigInteger(), nullable=False),
        sa.Column('case_id', sa.String(40), nullable=False),
    )
    op.create_table(
        'screening_visits',
        sa.Column('id', sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column('household_code', sa.String(20), sa.ForeignKey('households.code'), nullable=False),
        sa.Column('village_code', sa.String(12), nullable=False, index=True),
        sa.Column('visited_on', sa.Date(), nullable=False),
        sa.Column('findings', sa.String(2000), nullable=False),
        sa.Column('risk_found', sa.Boolean(), nullable=False),
        sa.Column('recorded_by', sa.String(50), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index('ix_screening_visits_household_on', 'screening_visits', ['household_code', 'visited_on'])


def downgrade() -> None:
    for table in (
        'screening_visits', 'screening_leads', 'screening_hits', 'screening_runs', 'household_signals',
        'household_incomes', 'household_profiles', 'import_rejections', 'import_file_parts', 'import_jobs',
    ):
        op.drop_table(table)
