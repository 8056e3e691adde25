"""A screening run's activities: flag the households once (the same query as the preview), then
hand leads out a batch at a time, highest score first, a bounded number being opened at once.

Every step is safe to repeat: flagging replaces the run's hits only while none has an outcome,
a batch takes the hits still without one, and a lead goes out under a start key naming the run
and household, so a restarted attempt finds the case it opened. A (household, year, rule) once
led is never led again: a second run opens nothing new.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio import activity
from temporalio.client import Client

from services.db.households import formerly_poor
from services.db.policy_by_version import policy_version
from services.db.screening import ScreeningHit, ScreeningLead, ScreeningRun
from services.db.screening_rules import flagged_households
from services.db.screening_runs import insert_run
from services.db.tables import Household
from services.domain.identification.forms import Lead
from services.domain.identification.state import Actor, CaseStart
from services.domain.policy import Policy
from services.domain.screening.rules import RULE_LABELS, ScreeningPolicy, ScreeningRule
from services.domain.vocabulary import RISK_TYPE_LABELS, Channel, HouseholdStatus
from services.identification_starts import CaseUnrecordable, open_or_join
from services.workers.screening.priority import yield_cores_in_backend

SCREENED_TABLES = ("households", "members", "household_profiles", "household_incomes", "household_signals")


class RunPlan(BaseModel):
    """What the workflow needs from the run's policy to pace it."""

    batch_size: int
    in_flight: int
    pause_seconds: float


class RunProgress(BaseModel):
    """`ScreeningRunWorkflow`'s input, carried over when it continues as new."""

    run_id: int
    plan: RunPlan | None = None


class BatchInput(BaseModel):
    run_id: int
    batch_size: int
    in_flight: int


class ScreeningRunActivities:
    def __init__(self, client: Client, engine: AsyncEngine, task_queue: str) -> None:
        self._client = client
        self._engine = engine
        self._task_queue = task_queue

    @activity.defn(name="flag_households")
    async def flag_households(self, run_id: int) -> RunPlan:
        async with self._engine.begin() as conn:
            run = ScreeningRun.model_validate(
                (await conn.execute(select(ScreeningRun).where(col(ScreeningRun.id) == run_id))).one()._mapping
            )
            policy = await policy_version(conn, run.policy_version)
            if run.status == "flagging":
                await yield_cores_in_backend(conn)
                await conn.execute(text("DELETE FROM screening_hits WHERE run_id = :run"), {"run": run_id})
                # Fresh statistics: an import just before may have multiplied the rows, and a plan made
                # for the tables as they were (nested loops over "a few rows") takes minutes, not seconds.
                await conn.execute(text(f"ANALYZE {', '.join(SCREENED_TABLES)}"))
                sql, params = flagged_households(policy, run.year, run.county_code, run.import_job)
                flagged = await conn.execute(
                    text(
                        f"INSERT INTO screening_hits (run_id, household_code, township_code, village_code, rules, score)"
                        f" SELECT :run, household_code, township_code, village_code, rules, score FROM ({sql}) hits"
                    ),
                    {**params, "run": run_id},
                )
                await conn.execute(
                    update(ScreeningRun)
                    .where(col(ScreeningRun.id) == run_id)
                    .values(status="opening", flagged=flagged.rowcount)
                )
        rules = policy.screening
        return RunPlan(
            batch_size=rules.lead_batch_size, in_flight=rules.leads_in_flight, pause_seconds=rules.batch_pause_seconds
        )

    @activity.defn(name="open_lead_batch")
    async def open_lead_batch(self, batch: BatchInput) -> int:
        """Leads for the next `batch_size` hits without an outcome; answers how many were taken (0: none left)."""
        async with self._engine.connect() as conn:
            run = ScreeningRun.model_validate(
                (await conn.execute(select(ScreeningRun).where(col(ScreeningRun.id) == batch.run_id))).one()._mapping
            )
            policy = await policy_version(conn, run.policy_version)
            hits = (
                await conn.execute(
                    select(ScreeningHit)
                    .where(col(ScreeningHit.run_id) == batch.run_id, col(ScreeningHit.outcome).is_(None))
                    .order_by(col(ScreeningHit.score).desc(), col(ScreeningHit.household_code))
                    .limit(batch.batch_size)
                )
            ).all()
        gate = asyncio.Semaphore(batch.in_flight)

        async def one(row: Any) -> None:
            async with gate:
                await self._lead(run, policy, ScreeningHit.model_validate(row._mapping))
                activity.heartbeat()

        await asyncio.gather(*(one(row) for row in hits))
        return len(hits)

    async def _lead(self, run: ScreeningRun, policy: Policy, hit: ScreeningHit) -> None:
        assert run.id is not None
        async with self._engine.connect() as conn:
            status = await conn.scalar(select(col(Household.status)).where(col(Household.code) == hit.household_code))
            led = set(
                await conn.scalars(
                    select(col(ScreeningLead.rule)).where(
                        col(ScreeningLead.household_code) == hit.household_code, col(ScreeningLead.year) == run.year
                    )
                )
            )
            flagged_poor = await formerly_poor(conn, hit.household_code)
        new_rules = [ScreeningRule(r) for r in hit.rules if r not in led]
        case_id: str | None = None
        if status == HouseholdStatus.risk_not_eliminated:
            outcome = "monitored"  # followed month by month already: its visits take the risk up
        elif not new_rules:
            outcome = "known"
        else:
            note = lead_note(policy.screening, new_rules, run.year)
            actor = Actor.system(run.county_code)
            start = CaseStart(
                case_id=uuid.uuid4().hex,
                household_code=hit.household_code,
                village_code=hit.village_code,
                channel=Channel.platform_analysis,
                lead_note=note,
                policy=policy,
                opened_by=actor,
                formerly_poor=flagged_poor,
            )
            try:
                case_id, joined = await open_or_join(
                    self._client,
                    self._task_queue,
                    start,
                    Lead(channel=Channel.platform_analysis, note=note),
                    actor,
                    start_key=f"screening:{run.id}:{hit.household_code}",
                )
                outcome = "joined" if joined else "opened"
            except CaseUnrecordable:  # PostgreSQL refused this household's case: the run goes on without it
                outcome = "unrecordable"
        async with self._engine.begin() as conn:
            if case_id is not None:
                await conn.execute(
                    insert(ScreeningLead)
                    .values(
                        [
                            {"household_code": hit.household_code, "year": run.year, "rule": r.value}
                            | {"run_id": run.id, "case_id": case_id}
                            for r in new_rules
                        ]
                    )
                    .on_conflict_do_nothing()
                )
            await conn.execute(
                update(ScreeningHit)
                .where(col(ScreeningHit.run_id) == run.id, col(ScreeningHit.household_code) == hit.household_code)
                .values(outcome=outcome, case_id=case_id)
            )
            counter = {"opened": "opened", "joined": "joined"}.get(outcome, "skipped")
            await conn.execute(
                update(ScreeningRun)
                .where(col(ScreeningRun.id) == run.id)
                .values({counter: col(getattr(ScreeningRun, counter)) + 1})
            )

    @activity.defn(name="finish_screening_run")
    async def finish_screening_run(self, run_id: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(ScreeningRun)
                .where(col(ScreeningRun.id) == run_id, col(ScreeningRun.status) != "done")
                .values(status="done", finished_at=func.now())
            )


def lead_note(rules: ScreeningPolicy, met: list[ScreeningRule], year: int) -> str:
    """What the cadre reads on the case: the rules met and their risk types, never a figure of a person."""
    found = "；".join(f"{RULE_LABELS[r]}（{RISK_TYPE_LABELS[rules.risk_type(r)]}）" for r in met)
    return f"平台监测分析：{year}年数据排查发现{found}"


class RunAfterImport(BaseModel):
    county_code: str
    year: int
    import_job: int
    started_by: str


class RunStarts:
    """The run an import starts over what it changed (one per job: a retry finds it)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="create_run_after_import")
    async def create_run_after_import(self, request: RunAfterImport) -> int:
        async with self._engine.begin() as conn:
            await conn.execute(select(func.pg_advisory_xact_lock(0x736372, request.import_job)))
            existing = await conn.scalar(
                select(col(ScreeningRun.id)).where(col(ScreeningRun.import_job) == request.import_job)
            )
            if existing is not None:
                return int(existing)
            return await insert_run(conn, request.county_code, request.year, request.started_by, request.import_job)
