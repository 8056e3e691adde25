"""Weekly and monthly reports of the hand-made county: produced for a past month twice, identical;
made up for by a schedule after a worker outage, once each; listed, read back (openpyxl, the
printable page) and each reader only inside their own area."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, datetime

import openpyxl
from sqlalchemy import func, select
from sqlmodel import col
from temporalio.client import ScheduleBackfill, ScheduleOverlapPolicy
from temporalio.testing import WorkflowEnvironment

from services.db.engine import create_engine
from services.db.reports import KeptReport
from services.demo_case import CaseDriver
from services.domain.months import CHINA_TIME
from services.domain.reports.periods import ReportKind
from services.settings import Settings
from services.workers.main import running_worker
from services.workers.reports.activities import report_schedule
from tests.reports.county import COUNTY, T1, T2, People

KEPT = "/api/v1/reports/kept"


async def kept_rows(settings: Settings, key: str) -> int:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    async with engine.connect() as conn:
        count = (await conn.execute(select(func.count()).where(col(KeptReport.report_key) == key))).scalar_one()
    await engine.dispose()
    return int(count)


async def test_a_past_month_produced_twice_is_the_same(
    driver: CaseDriver, report_county: People, settings: Settings
) -> None:
    first = await driver.post(report_county.officer, KEPT, {"kind": "monthly", "day": "2025-03-15"})
    assert first.status_code == 201, first.text
    items = first.json()["items"]
    assert [(r["area_code"], r["from_date"], r["to_date"]) for r in items] == [
        (COUNTY, "2025-03-01", "2025-03-31"),
        (T1, "2025-03-01", "2025-03-31"),
        (T2, "2025-03-01", "2025-03-31"),
    ]
    assert items[0]["kind_label"] == "月报" and items[0]["produced_by"] == report_county.officer
    again = await driver.post(report_county.officer, KEPT, {"kind": "monthly", "day": "2025-03-02"})
    assert again.json() == first.json()
    key = items[0]["report_key"]
    assert await kept_rows(settings, key) == 1
    kept = (await driver.get(report_county.officer, f"{KEPT}/{key}")).json()
    asked = (
        await driver.get(
            report_county.officer, "/api/v1/reports/statistics", from_date="2025-03-01", as_of="2025-03-31"
        )
    ).json()
    assert kept == asked  # the same numbers as asking for that month now


async def test_workbook_and_printable_page(driver: CaseDriver, report_county: People) -> None:
    made = await driver.post(report_county.officer, KEPT, {"kind": "monthly", "day": "2025-03-15"})
    key = made.json()["items"][0]["report_key"]
    workbook = await driver.get(report_county.officer, f"{KEPT}/{key}/workbook")
    assert workbook.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(workbook.content), read_only=True).active.iter_rows(values_only=True))
    assert rows[0] == ("类别", "项目", "数值")
    assert rows[1][0] == "测试县防止返贫动态监测和帮扶工作月报（2025年03月01日至2025年03月31日）"
    figures = {(section, item): value for section, item, value in rows[2:]}
    assert figures[("监测对象", "合计（户）")] == 5
    assert figures[("识别时限", "15天内完成比例")] == "66.7%"
    assert figures[("走访", "覆盖率")] == "50.0%"
    page = await driver.get(report_county.officer, f"{KEPT}/{key}/page")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "测试县防止返贫动态监测和帮扶工作月报" in page.text and "<td>合计（户）</td><td>5</td>" in page.text


async def test_each_reader_sees_their_own_area(
    driver: CaseDriver, report_county: People, other_county: dict[str, str]
) -> None:
    await driver.post(report_county.officer, KEPT, {"kind": "monthly", "day": "2025-03-15"})
    township = (await driver.get(report_county.approver_t2, KEPT, kind="monthly")).json()["items"]
    assert {r["area_code"] for r in township} == {T2}
    county_key = f"monthly-{COUNTY}-2025-03-01"
    assert (await driver.get(report_county.approver_t2, f"{KEPT}/{county_key}")).status_code == 404
    assert (await driver.get(other_county["county_officer"], f"{KEPT}/{county_key}/workbook")).status_code == 404
    assert (await driver.get(report_county.approver_t2, KEPT, area=COUNTY)).status_code == 403
    assert (await driver.get(report_county.cadre_a, KEPT)).status_code == 403  # reports are townships' and the county's
    refused = await driver.post(report_county.approver_t1, KEPT, {"kind": "monthly", "day": "2025-03-15"})
    assert refused.status_code == 403


async def test_only_a_finished_period_is_produced(driver: CaseDriver, report_county: People) -> None:
    today = datetime.now(UTC).astimezone(CHINA_TIME).date()
    answer = await driver.post(report_county.officer, KEPT, {"kind": "weekly", "day": today.isoformat()})
    assert answer.status_code == 422
    assert answer.json()["detail"]["errors"][0]["field"] == "day"


async def test_a_schedule_makes_up_for_an_outage_once(
    temporal: WorkflowEnvironment, settings: Settings, report_county: People
) -> None:
    """No worker polls while the schedule's runs for two past Mondays are made up for (asked twice: a
    repeated catch-up starts each nominal run once); once a worker is back each week's report is
    kept once, with the period before its *scheduled* time, not the day it ran."""
    queue = f"reports-outage-{uuid.uuid4().hex[:8]}"
    schedule_id = f"test-{queue}"
    client = temporal.client
    handle = await client.create_schedule(schedule_id, report_schedule(ReportKind.weekly, queue))
    try:
        await handle.pause()  # only the made-up runs, none of its own
        missed = ScheduleBackfill(
            start_at=datetime(2025, 3, 3, 0, 0, tzinfo=CHINA_TIME),
            end_at=datetime(2025, 3, 10, 2, 0, tzinfo=CHINA_TIME),
            overlap=ScheduleOverlapPolicy.ALLOW_ALL,
        )
        await handle.backfill(missed, missed)
        keys = [f"weekly-{COUNTY}-2025-02-24", f"weekly-{COUNTY}-2025-03-03"]
        assert [await kept_rows(settings, k) for k in keys] == [0, 0]  # nothing ran: no worker
        own = settings.model_copy(update={"temporal_task_queue": queue})
        async with running_worker(client, own):
            runs: list[str] = []
            for _ in range(120):
                runs = [
                    w.status.name if w.status else "?"
                    async for w in client.list_workflows(f'TemporalScheduledById = "{schedule_id}"')
                ]
                if len(runs) >= 2 and all(status == "COMPLETED" for status in runs):
                    break
                await asyncio.sleep(0.5)
            assert runs == ["COMPLETED"] * 2
        assert [await kept_rows(settings, k) for k in keys] == [1, 1]
    finally:
        await handle.delete()
