"""Screening runs from the API: starting one over the county's register, reading its counts and the
households it flagged (each reader only inside their area)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from services.api.errors import workflow_unavailable
from services.api.screening.schemas import HitPage, HitView, RunView
from services.db.screening import ScreeningHit, ScreeningRun
from services.domain.screening.rules import RULE_LABELS, ScreeningRule
from services.workflows.screening import RunProgress, ScreeningRunWorkflow, screening_run_id


async def start_run(client: Client, task_queue: str, run_id: int) -> None:
    try:
        await client.start_workflow(
            ScreeningRunWorkflow.run, RunProgress(run_id=run_id), id=screening_run_id(run_id), task_queue=task_queue
        )
    except RPCError as error:
        raise workflow_unavailable() from error


def run_view(run: ScreeningRun) -> RunView:
    return RunView.model_validate({**run.model_dump(), "run_id": run.id})


async def run_list(session: AsyncSession, county_code: str, import_job: int | None, limit: int) -> list[RunView]:
    query = select(ScreeningRun).where(col(ScreeningRun.county_code) == county_code)
    if import_job is not None:
        query = query.where(col(ScreeningRun.import_job) == import_job)
    runs = await session.scalars(query.order_by(col(ScreeningRun.id).desc()).limit(limit))
    return [run_view(r) for r in runs]


async def hit_page(session: AsyncSession, run_id: int, township: str | None, after: str | None, limit: int) -> HitPage:
    query = select(ScreeningHit).where(col(ScreeningHit.run_id) == run_id)
    if township is not None:
        query = query.where(col(ScreeningHit.township_code) == township)
    if after is not None:
        query = query.where(col(ScreeningHit.household_code) > after)
    rows = list(await session.scalars(query.order_by(col(ScreeningHit.household_code)).limit(limit + 1)))
    items = [
        HitView(
            household_code=h.household_code,
            village_code=h.village_code,
            score=h.score,
            rules=[ScreeningRule(r) for r in h.rules],
            rule_labels=[RULE_LABELS[ScreeningRule(r)] for r in h.rules],
            outcome=h.outcome,
            case_id=h.case_id,
        )
        for h in rows[:limit]
    ]
    return HitPage(items=items, next_after=items[-1].household_code if len(rows) > limit else None)
