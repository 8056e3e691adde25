"""One case that cannot take what a department sent holds no other case's delivery.

The stuck case is real: its record activity cannot write (the test holds its read-model
row locked, as PostgreSQL holds a row another transaction is writing), so every update
whose handler records an event waits, as a case whose records PostgreSQL refuses does.
Its department answer and its early warning then wait in the inbox, shown to the county
officer, while other cases' answers and warnings arrive; once it can take them, each
arrives exactly once, and the household's warnings in the order they came.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from services.db.engine import create_engine
from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver
from services.demo_data import DEMO_DEPARTMENT_SECRETS
from services.department_simulator.client import SimulatorClient
from services.departments.signing import signed_headers
from services.settings import Settings
from services.workers.departments.inbox import InboxTiming
from services.workers.main import running_worker
from tests.conftest import api_for, new_household_body
from tests.database_refusals import new_marker, refusing
from tests.departments.signed import authorised_case, callback_url, post_signed, query, result_body

# A task queue of its own: its worker's forwarder delivers only this test's cases and warnings.
QUEUE = "inbox-isolation"
# Short enough for a test; the defaults are InboxTiming().
QUICK = InboxTiming(handover_seconds=1.0, attention_after=2, slowest_retry_seconds=2)
PROMPTLY = 20.0


@asynccontextmanager
async def records_refused(settings: Settings, case_id: str) -> AsyncIterator[None]:
    """While open, the case's record activity cannot write its read-model row."""
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with engine.connect() as conn:
            transaction = await conn.begin()
            await conn.execute(text("SELECT 1 FROM case_records WHERE case_id = :c FOR UPDATE"), {"c": case_id})
            try:
                yield
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()


async def _register(driver: CaseDriver) -> tuple[str, list[str]]:
    answer = await driver.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return body["code"], [m["id_number"] for m in body["members"]]


async def _warn(driver: CaseDriver, warning_id: str, id_number: str) -> str:
    """An early warning to this queue's API, signed as 民政 sends it; answers its outcome."""
    raw = json.dumps(
        {
            "department": "civil_affairs",
            "warnings": [
                {
                    "warning_id": warning_id,
                    "id_number": id_number,
                    "kind": "disaster",
                    "amount": None,
                    "occurred_on": "2026-11-20",
                    "detail": "房屋受损",
                }
            ],
        },
        ensure_ascii=False,
    ).encode()
    answer = await driver.http.post(
        "/api/v1/early-warnings", content=raw, headers=signed_headers(DEMO_DEPARTMENT_SECRETS["civil_affairs"], raw)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["outcomes"][0]["outcome"]


async def _answer(settings: Settings, request_id: str, department: str) -> None:
    answer = await post_signed(callback_url(settings, request_id), result_body(request_id, department), department)
    assert answer.status_code == 200, answer.text


async def _eventually(probe: Any, timeout: float = PROMPTLY) -> Any:
    """What `probe()` answers once it is truthy, or its last answer when the time is up."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await probe()
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.2)


async def _warnings_of(driver: CaseDriver, household: str) -> dict[str, dict[str, Any]]:
    answer = await driver.get(COUNTY_OFFICER, "/api/v1/early-warnings", household_code=household)
    assert answer.status_code == 200, answer.text
    return {w["warning_id"]: w for w in answer.json()["items"]}


async def _stuck_answers(driver: CaseDriver, case_id: str) -> list[dict[str, Any]]:
    items = (await driver.get(COUNTY_OFFICER, "/api/v1/cross-check-tasks")).json()["items"]
    return [t for t in items if t["case_id"] == case_id and t["status"] == "needs_attention"]


# Before the forwarder isolated cases, this hung: the stuck update held the whole inbox, and the worker's shutdown.
@pytest.mark.timeout(120)
async def test_a_stuck_case_holds_no_other_cases_answers(
    settings: Settings,
    temporal: WorkflowEnvironment,
    live_api: object,
    departments: SimulatorClient,
    other_county: dict[str, str],
) -> None:
    own = settings.model_copy(update={"temporal_task_queue": QUEUE})
    await departments.behave("vehicles", silent=True)  # its answers are posted by the test
    async with running_worker(temporal.client, own, inbox_timing=QUICK), api_for(own, temporal.client) as driver:
        stuck_household, stuck_people = await _register(driver)
        stuck = await authorised_case(driver, stuck_household)
        stuck = await driver.wait_for(  # quiet: four answered, the silent one's acceptance recorded
            stuck["case_id"],
            lambda c: len(c["cross_checks"]) == 4 and c["cross_check"]["requests"]["vehicles"]["status"] == "awaiting",
        )
        assert set(stuck["cross_checks"]) == {"real_estate", "market_entities", "public_payroll", "social_insurance"}
        stuck_request = stuck["cross_check"]["requests"]["vehicles"]["request_id"]
        other_household, _ = await _register(driver)
        warned_household, warned_people = await _register(driver)

        async with records_refused(settings, stuck["case_id"]):
            await _answer(settings, stuck_request, "vehicles")
            assert await _warn(driver, f"{stuck_household}-1", stuck_people[0]) == "joined"
            assert await _warn(driver, f"{stuck_household}-2", stuck_people[1]) == "joined"

            async def tried() -> bool:
                rows = await query(
                    settings, "SELECT attempts FROM cross_check_callbacks WHERE request_id = :r", r=stuck_request
                )
                return bool(rows) and rows[0].attempts >= 1

            assert await _eventually(tried), "the forwarder has taken up the stuck case's answer"

            # Another case: its departments' answers arrive while the first case is stuck.
            other = await authorised_case(driver, other_household)
            other_request = other["cross_check"]["requests"]["vehicles"]["request_id"]
            await _answer(settings, other_request, "vehicles")
            other = await driver.wait_for_cross_check(other["case_id"], timeout=PROMPTLY)
            assert other["cross_check"]["completed_at"] is not None, "another case's answers wait behind the stuck one"
            assert other["cross_check"]["requests"]["vehicles"]["status"] == "answered"

            # An early warning for a third household opens its case.
            assert await _warn(driver, f"{warned_household}-1", warned_people[0]) == "opened"

            async def warned_case() -> str | None:
                return (await _warnings_of(driver, warned_household))[f"{warned_household}-1"]["case_id"]

            assert await _eventually(warned_case), "an early warning waits behind the stuck case"

            # The county officer sees the answer the case cannot take, and the warnings.
            listed = await _eventually(lambda: _stuck_answers(driver, stuck["case_id"]))
            assert [t["department"] for t in listed] == ["vehicles"]
            assert listed[0]["request_id"] == stuck_request and listed[0]["needs_attention_since"]
            assert "重试" in listed[0]["status_label"]

            async def warnings_flagged() -> bool:
                first = (await _warnings_of(driver, stuck_household))[f"{stuck_household}-1"]
                return first["delivery_status"] == "needs_attention"

            assert await _eventually(warnings_flagged)
            waiting = await _warnings_of(driver, stuck_household)
            assert "重试" in waiting[f"{stuck_household}-1"]["delivery_label"]
            assert waiting[f"{stuck_household}-2"]["delivered_as"] is None, "the household's second waits its turn"
            flagged = (await driver.get(COUNTY_OFFICER, "/api/v1/early-warnings", needs_attention="true")).json()
            assert f"{stuck_household}-1" in {w["warning_id"] for w in flagged["items"]}
            assert f"{warned_household}-1" not in {w["warning_id"] for w in flagged["items"]}

            # Another county's officer sees none of it.
            outsider = other_county["county_officer"]
            tasks = (await driver.get(outsider, "/api/v1/cross-check-tasks")).json()["items"]
            assert stuck["case_id"] not in {t["case_id"] for t in tasks}
            outside = await driver.get(outsider, "/api/v1/early-warnings", household_code=stuck_household)
            assert outside.status_code == 200 and outside.json()["items"] == []

        # The case can take them now: each arrives once, the household's warnings in order.
        stuck = await driver.wait_for(
            stuck["case_id"],
            lambda c: "vehicles" in c["cross_checks"] and len(c["further_leads"]) == 2,
            timeout=PROMPTLY,
        )
        assert stuck["cross_check"]["requests"]["vehicles"]["status"] == "answered"
        assert [lead["note"].count(f"{stuck_household}-1") for lead in stuck["further_leads"]] == [1, 0]
        delivered = await query(
            settings, "SELECT delivery_outcome FROM cross_check_callbacks WHERE request_id = :r", r=stuck_request
        )
        assert [r.delivery_outcome for r in delivered] == ["recorded"]
        entries = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{stuck['case_id']}/timeline")).json()["entries"]
        received = [
            e for e in entries if e["action"] == "receive_cross_check_result" and e["data"]["department"] == "vehicles"
        ]
        assert len(received) == 1
        assert [e["action"] for e in entries].count("add_lead") == 2
        assert await _eventually(lambda: _no_stuck_answers(driver, stuck["case_id"]))
        warnings = await _warnings_of(driver, stuck_household)
        assert {w["delivery_status"] for w in warnings.values()} == {"delivered"}


async def _no_stuck_answers(driver: CaseDriver, case_id: str) -> bool:
    return not await _stuck_answers(driver, case_id)


@pytest.mark.timeout(120)
async def test_an_answer_or_warning_the_case_refuses_for_good_is_not_retried(
    settings: Settings,
    temporal: WorkflowEnvironment,
    live_api: object,
    departments: SimulatorClient,
) -> None:
    """PostgreSQL refuses what the case would record (a CHECK constraint the test adds): the case
    refuses the answer and the warning as unrecordable, and the forwarder marks them refused
    after one attempt instead of retrying for ever; the household's next warning still arrives."""
    own = settings.model_copy(update={"temporal_task_queue": QUEUE})
    marker = new_marker()
    await departments.behave("vehicles", silent=True)  # its answer is posted by the test
    async with running_worker(temporal.client, own, inbox_timing=QUICK), api_for(own, temporal.client) as driver:
        household, people = await _register(driver)
        case = await authorised_case(driver, household)
        case = await driver.wait_for(case["case_id"], lambda c: len(c["cross_checks"]) == 4)
        request_id = case["cross_check"]["requests"]["vehicles"]["request_id"]
        finding = [{"id_number": people[0], "matches": [{"kind": "vehicle", "description": marker, "value": 1}]}]
        async with refusing(settings.require_database_url(), "audit_entries", "data", marker):
            answer = await post_signed(
                callback_url(settings, request_id), result_body(request_id, "vehicles", finding), "vehicles"
            )
            assert answer.status_code == 200, answer.text

            async def delivered() -> list[Any]:
                return await query(
                    settings,
                    "SELECT delivery_outcome, attempts FROM cross_check_callbacks "
                    "WHERE request_id = :r AND delivered_at IS NOT NULL",
                    r=request_id,
                )

            [row] = await _eventually(delivered)
            assert (row.delivery_outcome, row.attempts) == ("refused", 1)

            raw = json.dumps(
                {
                    "department": "civil_affairs",
                    "warnings": [
                        {
                            "warning_id": f"{household}-{n}",
                            "id_number": people[0],
                            "kind": "disaster",
                            "amount": None,
                            "occurred_on": "2026-11-20",
                            "detail": detail,
                        }
                        for n, detail in ((1, marker), (2, "房屋受损"))
                    ],
                },
                ensure_ascii=False,
            ).encode()
            sent = await driver.http.post(
                "/api/v1/early-warnings",
                content=raw,
                headers=signed_headers(DEMO_DEPARTMENT_SECRETS["civil_affairs"], raw),
            )
            assert [o["outcome"] for o in sent.json()["outcomes"]] == ["joined", "joined"]

            async def both_settled() -> dict[str, dict[str, Any]] | None:
                warnings = await _warnings_of(driver, household)
                settled = all(w["delivery_status"] in ("delivered", "refused") for w in warnings.values())
                return warnings if len(warnings) == 2 and settled else None

            warnings = await _eventually(both_settled)
            assert warnings, "both warnings settled"
            assert warnings[f"{household}-1"]["delivery_status"] == "refused"
            assert "人工核查" in warnings[f"{household}-1"]["delivery_label"]
            assert warnings[f"{household}-2"]["delivery_status"] == "delivered"
        case = await driver.wait_for(case["case_id"], lambda c: len(c["further_leads"]) == 1)
        assert "vehicles" not in case["cross_checks"] and case["needs_attention"] is not None
