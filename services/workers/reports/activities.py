"""Producing the weekly and monthly reports of the county and each of its townships, and the
Temporal Schedules that ask for them.

Each report is the statistics of its area as of its period's last day (read from the recorded
events, so producing it late, after an outage, gives the numbers it would have had on time) and
is inserted under its key only if absent: a retried activity, a repeated run or a schedule's
catch-up never doubles one."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from services.api.reports.statistics import Window, statistics_of
from services.db.reports import KeptReport
from services.db.tables import Area
from services.domain.areas import AreaLevel
from services.domain.reports.periods import ReportKind, report_key

# Cron in the county's time: the weekly report on Monday at 01:00, the monthly on the 1st at 02:00.
SCHEDULES = {ReportKind.weekly: "0 1 * * 1", ReportKind.monthly: "0 2 1 * *"}
# Runs missed while the worker or Temporal was down are made up for within this window.
CATCHUP_WINDOW = timedelta(days=35)


def schedule_id(kind: ReportKind) -> str:
    return f"reports-{kind.value}"


class ReportRequest(BaseModel):
    """`ReportWorkflow`'s input (here, in a module the workflow sandbox passes through)."""

    kind: ReportKind
    # A period given (a county officer's request); None: the period before the scheduled time.
    from_date: date | None = None
    to_date: date | None = None
    produced_by: str = "schedule"


class ReportRun(BaseModel):
    kind: ReportKind
    from_date: date
    to_date: date
    produced_by: str = "schedule"


class ReportActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="produce_reports")
    async def produce_reports(self, run: ReportRun) -> list[str]:
        """The report of every county and township for the period; answers the keys of those newly kept."""
        async with AsyncSession(self._engine) as session:
            areas = (
                await session.execute(
                    select(col(Area.code)).where(col(Area.level).in_([AreaLevel.county, AreaLevel.township]))
                )
            ).scalars()
            keys = {area: report_key(run.kind, area, run.from_date) for area in sorted(areas)}
            # A repeated run (a retry, an officer asking again) does not work out figures it would not keep.
            already = set(
                (
                    await session.execute(
                        select(col(KeptReport.report_key)).where(col(KeptReport.report_key).in_(keys.values()))
                    )
                ).scalars()
            )
            kept: list[str] = []
            for area, key in keys.items():
                if key in already:
                    continue
                figures = await statistics_of(session, Window(area, run.from_date, run.to_date))
                row = {
                    "report_key": key,
                    "kind": run.kind.value,
                    "area_code": area,
                    "area_name": figures.area_name,
                    "from_date": run.from_date,
                    "to_date": run.to_date,
                    "statistics": figures.model_dump(mode="json"),
                    "produced_by": run.produced_by,
                }
                inserted = await session.execute(
                    insert(KeptReport).values(row).on_conflict_do_nothing().returning(col(KeptReport.report_key))
                )
                kept.extend(inserted.scalars())
            await session.commit()
            return kept


def report_schedule(kind: ReportKind, task_queue: str) -> Schedule:
    from services.workflows.reports import ReportWorkflow

    return Schedule(
        action=ScheduleActionStartWorkflow(
            ReportWorkflow.run, ReportRequest(kind=kind), id=schedule_id(kind), task_queue=task_queue
        ),
        spec=ScheduleSpec(cron_expressions=[SCHEDULES[kind]], time_zone_name="Asia/Shanghai"),
        # Every missed run is made up for, one after another; their keys keep each report single.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ALL, catchup_window=CATCHUP_WINDOW),
    )


async def ensure_report_schedules(client: Client, task_queue: str) -> None:
    """Creates the two schedules once (they live in Temporal and survive every restart)."""
    for kind in SCHEDULES:
        with contextlib.suppress(ScheduleAlreadyRunningError):
            await client.create_schedule(schedule_id(kind), report_schedule(kind, task_queue))
