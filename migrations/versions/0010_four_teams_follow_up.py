"""四支队伍 roles; 脱贫户 and households whose risk is eliminated followed month by month

Revision ID: 0010
Revises: 0009
Create Date: 2027-02-01

- The 脱贫户 flag (`households.formerly_poor`, `poverty_exit_year`) comes from 0009.
- `contact_people` (帮扶联系人, one current per household), `follow_up_visit_tasks` (one visit owed
  per household and month), `follow_up_visits` (the visits recorded).
- A monitoring period's visits and its support person's work are now tasks of the village's
  四支队伍 (role `four_teams`): the open ones in `tasks` and in `monitoring_records.tasks` move to
  that role (the counts follow through the tasks trigger).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TEAM_TASKS = "('visit', 'draft_plan', 'deliver_measures', 'propose_exit')"


def _retag(old: str, new: str) -> None:
    op.execute(
        f"UPDATE tasks SET role = '{new}' WHERE source = 'monitoring' AND closed_at IS NULL"
        f" AND role = '{old}' AND step IN {_TEAM_TASKS}"
    )
    op.execute(f"""
        UPDATE monitoring_records SET tasks = (
            SELECT coalesce(jsonb_agg(CASE WHEN t->>'kind' IN {_TEAM_TASKS} AND t->>'role' = '{old}'
                                      THEN jsonb_set(t, '{{role}}', '"{new}"') ELSE t END), '[]'::jsonb)
            FROM jsonb_array_elements(tasks) AS t)
        WHERE tasks @> '[{{"role": "{old}"}}]'
    """)


def upgrade() -> None:
    op.create_table(
        "contact_people",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("household_code", sa.String(length=20), sa.ForeignKey("households.code"), nullable=False),
        sa.Column("username", sa.String(length=50), sa.ForeignKey("accounts.username"), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("appointed_by", sa.String(length=50), nullable=False),
        sa.Column("appointed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_contact_people_household_code", "contact_people", ["household_code"])
    op.create_index(
        "ux_contact_people_current",
        "contact_people",
        ["household_code"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "follow_up_visit_tasks",
        sa.Column("household_code", sa.String(length=20), sa.ForeignKey("households.code"), primary_key=True),
        sa.Column("period", sa.String(length=7), primary_key=True),
        sa.Column("population", sa.String(length=20), nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("township_code", sa.String(length=12), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("visit_count", sa.Integer(), nullable=False),
        sa.Column("first_visited_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_follow_up_visit_tasks_village_period", "follow_up_visit_tasks", ["village_code", "period"])
    op.create_index(
        "ix_follow_up_visit_tasks_open",
        "follow_up_visit_tasks",
        ["period"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "follow_up_visits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("household_code", sa.String(length=20), sa.ForeignKey("households.code"), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("visitors", postgresql.JSONB(), nullable=False),
        sa.Column("findings", sa.String(length=2000), nullable=False),
        sa.Column("living_conditions", postgresql.JSONB(), nullable=False),
        sa.Column("recorded_by", sa.String(length=50), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_follow_up_visits_household_code", "follow_up_visits", ["household_code"])
    _retag("village_cadre", "four_teams")


def downgrade() -> None:
    _retag("four_teams", "village_cadre")
    op.drop_table("follow_up_visits")
    op.drop_table("follow_up_visit_tasks")
    op.drop_table("contact_people")
