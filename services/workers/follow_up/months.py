"""Opening a month of follow-up visits (services/domain/follow_up.py) in PostgreSQL.

Idempotent by construction, so it may run as often as the schedule fires, after any restart:
a month's visit is one row per (household, month) and one inbox task per key, inserted only
when missing. Each run also ends what time has ended: last months' open visits become overdue,
and a household that entered a monitoring period has its open follow-up visit cancelled (its
period visits it now).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.domain import follow_up
from services.domain.monitoring.vocabulary import VisitTaskStatus
from services.domain.months import local_date, period_end, period_of
from services.domain.tasks import NO_DEADLINE
from services.domain.vocabulary import HouseholdStatus, Role

SYSTEM = "system"

# Followed: a 脱贫户, or a household whose risk is eliminated; never one inside a monitoring period.
_FOLLOWED = f"""
    (h.formerly_poor OR h.status = '{HouseholdStatus.risk_eliminated}')
    AND h.status <> '{HouseholdStatus.risk_not_eliminated}'
"""


async def open_month(conn: AsyncConnection, now: datetime) -> dict[str, int]:
    """Brings the follow-up visits and contact tasks up to `now`; what it changed, by kind."""
    period = period_of(local_date(now), 1)
    params = {
        "now": now,
        "period": period,
        "due": period_end(period, 1),
        "open": VisitTaskStatus.open,
        "overdue": VisitTaskStatus.overdue,
        "cancelled": VisitTaskStatus.cancelled,
        "formerly_poor": follow_up.Population.formerly_poor,
        "risk_eliminated": follow_up.Population.risk_eliminated,
        "source": follow_up.SOURCE,
        "visit_step": follow_up.VISIT_STEP,
        "contact_step": follow_up.CONTACT_STEP,
        "teams": Role.four_teams,
        "township": Role.township_approver,
        "no_deadline": NO_DEADLINE,
        "system": SYSTEM,
        "visit_title": f"常态化走访（{period}）",
        "contact_title": follow_up.STEP_LABELS[follow_up.CONTACT_STEP],
    }
    done: dict[str, int] = {}
    done["overdue"] = await _count(
        conn,
        "UPDATE follow_up_visit_tasks SET status = :overdue WHERE status = :open AND period < :period",
        params,
    )
    done["cancelled"] = await _count(
        conn,
        f"""UPDATE follow_up_visit_tasks t SET status = :cancelled FROM households h
            WHERE t.household_code = h.code AND t.status = :open AND NOT ({_FOLLOWED})""",
        params,
    )
    done["opened"] = await _count(
        conn,
        f"""INSERT INTO follow_up_visit_tasks AS t (household_code, period, population, county_code,
                township_code, village_code, due_at, status, visit_count)
            SELECT h.code, :period, CASE WHEN h.formerly_poor THEN :formerly_poor ELSE :risk_eliminated END,
                   h.county_code, h.township_code, h.village_code, :due, :open, 0
            FROM households h WHERE {_FOLLOWED}
            ON CONFLICT (household_code, period) DO NOTHING""",
        params,
    )
    # The inbox follows the visit rows: open rows have their task, the others' tasks close.
    await conn.execute(
        text("""
        INSERT INTO tasks (key, source, case_id, workflow_id, step, action, subject, title, household_code,
                           county_code, township_code, village_code, role, area_code, due_at, detail,
                           opened_at, opened_seq)
        SELECT 'follow-up:' || t.household_code || ':visit:' || t.period, :source, t.household_code, :source,
               :visit_step, :visit_step, t.period, :visit_title, t.household_code, t.county_code,
               t.township_code, t.village_code, :teams, t.village_code, t.due_at,
               jsonb_build_object('population', t.population), :now, 0
        FROM follow_up_visit_tasks t WHERE t.status = :open AND t.period = :period
        ON CONFLICT (key) DO NOTHING"""),
        params,
    )
    await conn.execute(
        text("""
        UPDATE tasks k SET closed_at = :now, closed_seq = 0, closed_by = :system
        FROM follow_up_visit_tasks t
        WHERE k.source = :source AND k.step = :visit_step AND k.closed_at IS NULL
          AND k.household_code = t.household_code AND k.subject = t.period AND t.status <> :open"""),
        params,
    )
    # Every 脱贫户 without a current contact person waits for the township to name one.
    await conn.execute(
        text("""
        INSERT INTO tasks (key, source, case_id, workflow_id, step, action, subject, title, household_code,
                           county_code, township_code, village_code, role, area_code, due_at, detail,
                           opened_at, opened_seq)
        SELECT 'follow-up:' || h.code || ':contact:' || (SELECT count(*) + 1 FROM contact_people c
                                                         WHERE c.household_code = h.code),
               :source, h.code, :source, :contact_step, :contact_step, NULL, :contact_title, h.code,
               h.county_code, h.township_code, h.village_code, :township, h.township_code, :no_deadline,
               '{}'::jsonb, :now, 0
        FROM households h
        WHERE h.formerly_poor
          AND NOT EXISTS (SELECT 1 FROM contact_people c WHERE c.household_code = h.code AND c.ended_at IS NULL)
        ON CONFLICT (key) DO NOTHING"""),
        params,
    )
    return done


async def _count(conn: AsyncConnection, sql: str, params: dict[str, object]) -> int:
    result = await conn.execute(text(sql), params)
    return result.rowcount or 0
