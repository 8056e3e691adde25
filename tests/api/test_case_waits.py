"""`GET /cases/{id}?after_seq=N&wait_seconds=S`: a page showing a case waits for its next change in
one request (services/api/case_changes.py), woken by the record activity's notification."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, text

from services.api.case_changes import RECHECK_SECONDS, REOPEN_SECONDS, CaseChanges
from services.api.identification import service
from services.api.identification.service import CaseWait, case_after
from services.db.case_recorded import Announced, heard, notify
from services.db.engine import create_engine
from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver, authorisation, home_verification
from services.department_simulator.client import SimulatorClient
from services.domain.vocabulary import Step
from services.settings import Settings
from tests.conftest import NewHousehold

OTHER_VILLAGE_CADRE = "huochangwan.cadre"


async def _wait(driver: CaseDriver, case_id: str, reader: str = COUNTY_OFFICER, **params: Any) -> Any:
    return await driver.get(reader, f"/api/v1/cases/{case_id}", **params)


async def test_a_wait_answers_as_soon_as_the_case_moves(driver: CaseDriver, new_household: NewHousehold) -> None:
    case = await driver.open_case(await new_household())
    waiting = asyncio.create_task(_wait(driver, case["case_id"], after_seq=case["seq"], wait_seconds=20))
    await asyncio.sleep(0.5)
    assert not waiting.done(), "nothing changed yet: the request waits"
    await driver.act(VILLAGE_CADRE, case["case_id"], "home-verification", home_verification(await driver.today()))
    recorded = time.monotonic()  # the action answers once its event is written
    answer = await asyncio.wait_for(waiting, 10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["seq"] > case["seq"] and answer.json()["step"] == "authorisation"
    assert time.monotonic() - recorded < RECHECK_SECONDS / 2, "woken by the notification, not by a re-read"


async def test_a_case_already_past_answers_at_once_and_an_unchanged_one_when_the_time_is_up(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    case = await driver.open_case(await new_household())
    started = time.monotonic()
    answer = await _wait(driver, case["case_id"], after_seq=case["seq"] - 1, wait_seconds=20)
    assert answer.status_code == 200 and answer.json()["seq"] == case["seq"]
    assert time.monotonic() - started < 5

    started = time.monotonic()
    answer = await _wait(driver, case["case_id"], after_seq=case["seq"], wait_seconds=0.6)
    assert answer.status_code == 200 and answer.json()["seq"] == case["seq"]
    assert 0.6 <= time.monotonic() - started < 5


async def test_a_change_nobody_announced_is_still_seen(
    driver: CaseDriver, new_household: NewHousehold, settings: Settings
) -> None:
    """A lost notification (the listening connection dropped) only delays the answer: a waiting
    request reads the case again every RECHECK_SECONDS. The change here is made without one."""
    case = await driver.open_case(await new_household())
    waiting = asyncio.create_task(_wait(driver, case["case_id"], after_seq=case["seq"], wait_seconds=20))
    await asyncio.sleep(0.3)
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE case_records SET last_seq = last_seq + 1,"
                    " state = jsonb_set(state, '{seq}', to_jsonb(last_seq + 1)) WHERE case_id = :case_id"
                ),
                {"case_id": case["case_id"]},
            )
    finally:
        await engine.dispose()
    answer = await asyncio.wait_for(waiting, RECHECK_SECONDS + 5)
    assert answer.status_code == 200 and answer.json()["seq"] == case["seq"] + 1


async def test_a_step_wait_sleeps_through_the_events_of_the_step(
    driver: CaseDriver, new_household: NewHousehold, departments: SimulatorClient
) -> None:
    """`after_step`: a client waiting for the case's next step is answered once, when the step ends,
    not at each of the cross-check's events (requests, acceptances, answers) as `after_seq` is."""
    case = await driver.open_case(await new_household())
    case_id = case["case_id"]
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification(await driver.today()))
    await departments.behave("real_estate", delay_seconds=3.0)  # the step lasts a while
    authorised = await driver.act(VILLAGE_CADRE, case_id, "authorisation", authorisation(on=await driver.today()))
    assert authorised["step"] == "cross_check"
    by_seq = asyncio.create_task(_wait(driver, case_id, after_seq=authorised["seq"], wait_seconds=20))
    by_step = asyncio.create_task(_wait(driver, case_id, after_step="cross_check", wait_seconds=20))

    next_event = (await asyncio.wait_for(by_seq, 20)).json()
    assert next_event["step"] == "cross_check" and next_event["seq"] > authorised["seq"]
    assert not by_step.done(), "still in the cross-check: the step wait goes on"
    answer = await asyncio.wait_for(by_step, 25)
    assert answer.status_code == 200, answer.text
    left = answer.json()
    assert left["step"] == "democratic_review"
    assert left["seq"] >= next_event["seq"] + 5, "five departments answered while it waited"


async def test_a_step_wait_whose_time_is_up_reads_the_case_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A step wait does not read the case at events that do not end it; if its time is up right after
    one, it still answers the case as it is then, not as it read it before. The moment is made
    exact here: the event is announced as the wait begins, and the time is up as it is heard."""
    changes = CaseChanges(engine=None)  # type: ignore[arg-type]  # not started: told by the test
    reads: list[SimpleNamespace] = []

    async def read_case(_session: object, _reader: object, _case_id: str) -> SimpleNamespace:
        reads.append(SimpleNamespace(last_seq=10 + len(reads), step="cross_check"))
        return reads[-1]

    class Session:
        async def close(self) -> None:  # called as the request lets go of its connection to wait
            changes._hear(json.dumps({"case_id": "c-1", "seq": 11, "step": "cross_check"}))
            await asyncio.sleep(0.3)  # past the wait's time

    monkeypatch.setattr(service, "visible_case", read_case)
    wait = CaseWait(after_step=Step.cross_check)
    answer = await case_after(Session(), None, "c-1", wait, 0.1, changes)  # type: ignore[arg-type]
    assert len(reads) == 2 and answer is reads[-1], "read again once the time was up"


async def test_waits_are_bounded_and_only_for_those_who_may_see_the_case(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    case = await driver.open_case(await new_household())
    for params, field in (
        ({"after_seq": case["seq"], "wait_seconds": 26}, "wait_seconds"),
        ({"after_seq": case["seq"], "wait_seconds": -1}, "wait_seconds"),
        ({"after_seq": case["seq"], "wait_seconds": "nan"}, "wait_seconds"),
        ({"after_seq": -1, "wait_seconds": 1}, "after_seq"),
        ({"after_seq": 2**31, "wait_seconds": 1}, "after_seq"),
        ({"after_step": "nowhere", "wait_seconds": 1}, "after_step"),
        ({"after_step": "home_verification", "after_seq": case["seq"], "wait_seconds": 1}, "after_step"),
    ):
        answer = await _wait(driver, case["case_id"], **params)
        assert answer.status_code == 422, (params, answer.text)
        assert field in answer.text, (params, answer.text)

    started = time.monotonic()
    answer = await _wait(driver, case["case_id"], OTHER_VILLAGE_CADRE, after_seq=case["seq"], wait_seconds=20)
    assert answer.status_code == 404 and time.monotonic() - started < 5, "out of sight: refused at once, no wait"
    started = time.monotonic()
    answer = await _wait(driver, case["case_id"], OTHER_VILLAGE_CADRE, after_step="home_verification", wait_seconds=20)
    assert answer.status_code == 404 and time.monotonic() - started < 5


async def test_the_listener_keeps_its_connection_and_hears_every_notification(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Its connection is checked every `check_seconds`; a check must not itself drop it (a dropped
    listener misses what is announced until it is open again)."""
    engine = create_engine(settings.database_url, pool_size=2)
    changes = CaseChanges(engine, check_seconds=0.05)
    changes.start()
    try:
        await asyncio.sleep(0.5)  # ten checks
        async with changes.watching("listener-test") as watch:
            async with engine.connect() as conn:
                await conn.execute(select(notify("listener-test", 7, "cross_check")))
                await conn.commit()
            await asyncio.wait_for(watch.changed.wait(), 1.0)
            assert watch.take() == Announced(7, "cross_check") and not watch.changed.is_set()
            async with engine.connect() as conn:  # as sent before the seq and step were: the case id
                await conn.execute(text("SELECT pg_notify('case_recorded', 'listener-test')"))
                await conn.commit()
            await asyncio.wait_for(watch.changed.wait(), 1.0)
            assert watch.take() is None, "a change nobody described: the case must be read"
    finally:
        await changes.stop()
        await engine.dispose()
    assert "lost its connection" not in caplog.text


def test_a_payload_says_what_it_can_and_never_stops_the_listener() -> None:
    announced = json.dumps({"case_id": "c-1", "seq": 12, "step": "cross_check"})
    assert heard(announced) == ("c-1", Announced(12, "cross_check"))
    assert heard("c-1") == ("c-1", None), "a bare case id, as sent before: read the case"
    for odd in ('{"case_id": "c-1", "seq": 1e400, "step": "x"}', '{"case_id": "c-1"}', "[1]", '{"seq": "x"}'):
        assert heard(odd)[1] is None, odd


async def test_a_listener_whose_connection_dies_opens_another(settings: Settings) -> None:
    engine = create_engine(settings.database_url, pool_size=2)
    changes = CaseChanges(engine, check_seconds=0.05)
    changes.start()
    try:
        await asyncio.sleep(0.3)
        async with engine.connect() as conn:  # the listener's backend: the one running its check
            killed = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid() AND query = 'SELECT 1'"
                    " AND backend_start > now() - interval '5 seconds'"
                )
            )
            await conn.commit()
        assert killed >= 1
        await asyncio.sleep(REOPEN_SECONDS + 1)  # it notices at its next check, pauses, opens another
        async with changes.watching("listener-test") as watch:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT pg_notify('case_recorded', 'listener-test')"))
                await conn.commit()
            await asyncio.wait_for(watch.changed.wait(), 1.0)  # heard on the new connection
    finally:
        await changes.stop()
        await engine.dispose()
