"""Faults mid-case: with cases in flight at different steps, the worker is killed (`kill -9`) and
PostgreSQL stopped; both come back and every case finishes exactly once: one case and one
workflow per household, each action recorded once in the timeline and the audit, every task
closed once, and the same records for every case whatever moment the faults hit it.

A service of its own (tests/isolated_service.py): an embedded PostgreSQL of its own (stopping
the session's would stop the other tests'), a Temporal namespace of its own, the worker as a
process, the API in-process. No department is registered, so the county officer records the
cross-checks by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.db.engine import create_engine
from services.db.tables import AuditEntry, CaseRecord, MonitoringRecord, Task, TaskCount
from services.demo_case import (
    COUNTY_OFFICER,
    VILLAGE_CADRE,
    CaseDriver,
    authorisation,
    cross_check_results,
    democratic_review,
    home_verification,
)
from services.devstack.servers import start_embedded_postgres, stop_embedded_postgres
from services.settings import Settings
from tests.conftest import api_for, new_household_body
from tests.isolated_service import migrated, own_namespace, worker_process

CASES = 4
NOTICE_SECONDS = 3
FAULT_ADDRESS = "198.51.100.16"  # TEST-NET-2: sign-ins here count against no other test's


async def _eventually_step(driver: CaseDriver, case_id: str, step: str, timeout: float = 45) -> dict[str, Any]:
    case = await driver.wait_for_step(case_id, step, timeout=timeout)
    assert case["step"] == step, f"case {case_id} stuck at {case['step']}"
    return case


async def _authorised(driver: CaseDriver, case_id: str) -> None:
    """Verified and authorised, its departments' requests planned (none registered: by hand)."""
    today = await driver.today()
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification(today))
    await driver.act(VILLAGE_CADRE, case_id, "authorisation", authorisation(on=today))
    planned = await driver.wait_for(case_id, lambda c: bool(c["cross_check"] and c["cross_check"]["requests"]))
    assert planned["cross_check"], planned


async def _reviewed(driver: CaseDriver, case_id: str) -> None:
    """Cross-checked by hand and reviewed: the village notice runs."""
    await driver.act(COUNTY_OFFICER, case_id, "cross-check-results", cross_check_results())
    await _eventually_step(driver, case_id, "democratic_review")
    await driver.act(VILLAGE_CADRE, case_id, "democratic-review", democratic_review(on=await driver.today()))


async def _to_end(driver: CaseDriver, case_id: str) -> dict[str, Any]:
    """From where the faults found the case (its cross-check or its notice) to its announcement."""
    case = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}")).json()
    if case["step"] == "cross_check":
        await _reviewed(driver, case_id)
    await _eventually_step(driver, case_id, "township_review")
    return await driver.after_notice(case_id)


async def _register_and_open(driver: CaseDriver) -> tuple[str, str]:
    answer = await driver.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())
    assert answer.status_code == 201, answer.text
    household = answer.json()["code"]
    return household, (await driver.open_case(household))["case_id"]


async def test_cases_finish_exactly_once_after_the_worker_and_the_database_die(
    settings: Settings, temporal: WorkflowEnvironment, tmp_path: Path
) -> None:
    server, url = start_embedded_postgres(tmp_path / "postgres")
    try:
        own = settings.model_copy(update={"database_url": await migrated(url), "temporal_task_queue": "fault-test"})
        client = await own_namespace(temporal, own)
        log = tmp_path / "worker.log"  # both workers' output, for a failure's reader
        async with api_for(own, client, client_address=FAULT_ADDRESS) as driver:
            with worker_process(own, client, log) as worker:
                await driver.publish_notice_seconds(NOTICE_SECONDS)
                opened = await asyncio.gather(*(_register_and_open(driver) for _ in range(CASES)))
                households, cases = [h for h, _ in opened], [c for _, c in opened]
                await asyncio.gather(*(_authorised(driver, c) for c in cases))
                # Half the cases wait for the county officer at the cross-check, half are in their
                # village notice, whose timer runs out while the worker is dead.
                notice = cases[: CASES // 2]
                await asyncio.gather(*(_reviewed(driver, c) for c in notice))
                for case_id in notice:
                    await _eventually_step(driver, case_id, "village_notice")
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=15)
            stop_embedded_postgres(server)
            down = await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{cases[0]}")
            assert down.status_code == 503 and down.json()["detail"]["code"] == "database_unavailable", down.text
            await asyncio.sleep(NOTICE_SECONDS)
            # The worker comes back first: the notices end, and recording that fails until PostgreSQL is back.
            with worker_process(own, client, log):
                await _recording_failed(log, [h for h, c in zip(households, cases, strict=True) if c in notice])
                server, restarted_url = start_embedded_postgres(tmp_path / "postgres")
                assert restarted_url == url
                ended = await asyncio.gather(*(_to_end(driver, c) for c in cases))
                assert [c["outcome"] for c in ended] == ["monitoring_target"] * CASES, ended
                await _each_once(driver, client, own, households, cases)
    finally:
        stop_embedded_postgres(server)


async def _recording_failed(log: Path, households: list[str]) -> None:
    """Waits until each household's case has tried to record its next step and failed, and tried
    again: a record runs as a local activity (services/workflows/procedure.py), so its attempts
    show in the worker's log (one JSON entry per attempt), not in the workflow's description."""
    waiting = {f"identification-{h}" for h in households}
    for _ in range(300):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if entry.get("activity_type") == "record_case_event" and entry.get("attempt", 1) > 1:
                    waiting.discard(entry.get("workflow_id"))
        if not waiting:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no recording was retried for {sorted(waiting)}")


async def _each_once(
    driver: CaseDriver, client: Client, settings: Settings, households: list[str], cases: list[str]
) -> None:
    for household, case_id in zip(households, cases, strict=True):
        listed = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", household_code=household)).json()["items"]
        assert [c["case_id"] for c in listed] == [case_id]
        runs = [w async for w in client.list_workflows(f"WorkflowId = 'identification-{household}'")]
        assert len(runs) == 1, runs
    timelines = [
        [e["action"] for e in (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{c}/timeline")).json()["entries"]]
        for c in cases
    ]
    # Every case went through the same actions; none of them twice.
    assert all(t == timelines[0] for t in timelines), timelines
    assert not [a for a, n in Counter(timelines[0]).items() if n > 1], timelines[0]

    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with engine.connect() as conn:
            audit = (
                await conn.execute(
                    select(AuditEntry.case_id, AuditEntry.action, func.count())
                    .where(AuditEntry.case_id.in_(cases))
                    .group_by(AuditEntry.case_id, AuditEntry.action)
                )
            ).all()
            tasks = (
                await conn.execute(
                    select(Task.case_id, Task.step, func.count(), func.count(Task.closed_at))
                    .where(Task.case_id.in_(cases))
                    .group_by(Task.case_id, Task.step)
                )
            ).all()
            records = (
                await conn.execute(select(func.count()).select_from(CaseRecord).where(CaseRecord.case_id.in_(cases)))
            ).scalar_one()
            # The inboxes' counts (kept by a trigger) agree with the open tasks: nothing counted twice.
            open_tasks = (
                await conn.execute(
                    select(Task.area_code, Task.role, Task.step, func.count())
                    .where(Task.closed_at.is_(None))
                    .group_by(Task.area_code, Task.role, Task.step)
                )
            ).all()
            counted = (
                await conn.execute(
                    select(TaskCount.area_code, TaskCount.role, TaskCount.step, TaskCount.open).where(
                        TaskCount.open != 0
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert records == len(cases)
    assert sorted(map(tuple, counted)) == sorted(map(tuple, open_tasks))
    audit_by_case = {c: sorted((a, n) for case, a, n in audit if case == c) for c in cases}
    assert all(a == audit_by_case[cases[0]] for a in audit_by_case.values()), audit_by_case
    assert all(n == 1 for _, n in audit_by_case[cases[0]]), audit_by_case[cases[0]]
    tasks_by_case = {c: sorted((s, n, closed) for case, s, n, closed in tasks if case == c) for c in cases}
    assert all(t == tasks_by_case[cases[0]] for t in tasks_by_case.values()), tasks_by_case
    assert all(n == closed for _, n, closed in tasks_by_case[cases[0]]), tasks_by_case[cases[0]]
    for household in households:  # each household's monitoring starts once (its record follows soon after)
        periods = [w async for w in client.list_workflows(f"WorkflowId = 'monitoring-{household}'")]
        assert len(periods) == 1, periods
    monitored = await _monitoring_records(settings, households)
    assert sorted(monitored) == sorted((h, 1) for h in households)


async def _monitoring_records(settings: Settings, households: list[str]) -> list[tuple[str, int]]:
    """Monitoring records per household, once every household has one or after 30 s."""
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        for _ in range(150):
            async with engine.connect() as conn:
                monitored = (
                    await conn.execute(
                        select(MonitoringRecord.household_code, func.count())
                        .where(MonitoringRecord.household_code.in_(households))
                        .group_by(MonitoringRecord.household_code)
                    )
                ).all()
            if len(monitored) == len(households):
                break
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
    return [tuple(row) for row in monitored]
