"""A screening run survives its worker: stopped mid-run and started again, it carries on with the
households still waiting and opens each lead once. An import asked to screen runs over what it
changed only."""

from __future__ import annotations

import asyncio

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.db.bulk_engine import create_bulk_engine
from services.db.screening_runs import insert_run
from services.demo_case import ADMIN, COUNTY_OFFICER, CaseDriver
from services.settings import Settings
from services.workers.screening.runs import ScreeningRunActivities
from services.workflows.screening import RunProgress, ScreeningRunWorkflow, screening_run_id
from tests.applicants import eventually
from tests.conftest import NewHousehold
from tests.screening.files import csv_file, db_value, finished_job, send_import

YEAR, AFTER_IMPORT_YEAR = 2045, 2047  # the data's own years: no other test imports for them
QUEUE = "screening-resume"


async def plant_low_incomes(driver: CaseDriver, codes: list[str], year: int, **extra: object) -> dict:
    rows = [["户编号", "年度", "收入来源", "金额"], *[[code, year, "wage", 2000] for code in codes]]
    return await finished_job(driver, (await send_import(driver, "incomes", csv_file(rows), **extra))["job_id"])


async def test_a_run_stopped_with_its_worker_resumes_and_opens_each_lead_once(
    driver: CaseDriver, settings: Settings, temporal: WorkflowEnvironment, new_household: NewHousehold
) -> None:
    # One lead a batch and a pause between batches: the run is still going when its worker stops.
    policy = {"screening": {"lead_batch_size": 1, "batch_pause_seconds": 1}}
    assert (await driver.post(ADMIN, "/api/v1/policies", policy)).status_code == 201
    codes = [await new_household() for _ in range(4)]
    await plant_low_incomes(driver, codes, YEAR)
    engine = create_bulk_engine(settings.require_database_url(), pool_size=2)
    async with engine.begin() as conn:
        run_id = await insert_run(conn, "610824000000", YEAR, COUNTY_OFFICER)

    def worker() -> Worker:
        activities = ScreeningRunActivities(temporal.client, engine, settings.temporal_task_queue)
        return Worker(
            temporal.client,
            task_queue=QUEUE,
            workflows=[ScreeningRunWorkflow],
            activities=[activities.flag_households, activities.open_lead_batch, activities.finish_screening_run],
        )

    opened = "SELECT count(*) FROM screening_hits WHERE run_id = :run AND outcome IS NOT NULL"
    try:
        async with worker():
            handle = await temporal.client.start_workflow(
                ScreeningRunWorkflow.run, RunProgress(run_id=run_id), id=screening_run_id(run_id), task_queue=QUEUE
            )

            async def taken() -> int:
                return int(await db_value(settings, opened, run=run_id))

            assert await eventually(taken, lambda n: n >= 1, timeout=30) >= 1
        stopped_at = await db_value(settings, opened, run=run_id)
        assert stopped_at < 4
        await asyncio.sleep(1.5)
        assert await db_value(settings, opened, run=run_id) == stopped_at  # nothing moves without a worker

        async with worker():
            await asyncio.wait_for(handle.result(), timeout=60)
    finally:
        await engine.dispose()
    run = (await driver.get(COUNTY_OFFICER, f"/api/v1/screening/runs/{run_id}")).json()
    assert (run["status"], run["flagged"], run["opened"], run["joined"]) == ("done", 4, 4, 0)
    for code in codes:
        cases = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", household_code=code)).json()["items"]
        assert [c["channel"] for c in cases] == ["platform_analysis"], code


async def test_an_import_screens_only_what_it_changed(driver: CaseDriver, new_household: NewHousehold) -> None:
    before, changed = await new_household(), await new_household()
    await plant_low_incomes(driver, [before], AFTER_IMPORT_YEAR)
    job = await plant_low_incomes(driver, [before, changed], AFTER_IMPORT_YEAR, screen_year=AFTER_IMPORT_YEAR)
    assert (job["rows_changed"], job["rows_unchanged"]) == (1, 1)

    async def run_of_job() -> dict:
        answer = await driver.get(COUNTY_OFFICER, "/api/v1/screening/runs", import_job=job["job_id"])
        return answer.json()

    runs = await eventually(run_of_job, lambda r: bool(r) and r[0]["status"] == "done", timeout=60)
    assert [(r["import_job"], r["flagged"], r["opened"]) for r in runs] == [(job["job_id"], 1, 1)]
    hits = (await driver.get(COUNTY_OFFICER, f"/api/v1/screening/runs/{runs[0]['run_id']}/households")).json()
    assert [h["household_code"] for h in hits["items"]] == [changed]
