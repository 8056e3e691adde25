"""The 四支队伍 and 脱贫户 followed month by month (issue 11, "people").

A grid worker (网格员) is an account of one village: they open leads and take the 四支队伍's tasks.
A 脱贫户 gets, from the month opener, one visit task a month (however often it runs) and a task for
the township to name its contact person (帮扶联系人); the township names one of the village's
四支队伍; the visit recorded through the API ends the month's task. Who may do what is checked at
the boundaries: role, village, population.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from services.db.engine import create_engine
from services.demo_case import CaseDriver
from services.demo_data import DEMO_PASSWORD
from services.domain.months import local_date, period_of
from services.settings import Settings
from services.workers.follow_up.months import open_month
from tests.conftest import NewHousehold

VILLAGE = "610824100202"  # 伙场湾村, 东坑镇
CADRE = "huochangwan.cadre"
OTHER_VILLAGE_CADRE = "dongkeng.cadre"
TOWNSHIP = "dongkeng.approver"
GRID = "huochangwan.grid"
OTHER_GRID = "dongkeng.grid.fu"


def _visit(day: str) -> dict[str, Any]:
    conditions = ("food_and_clothing", "compulsory_education", "basic_medical_care", "safe_housing")
    return {
        "visited_on": day,
        "visitors": ["王网格员"],
        "findings": "务工收入稳定",
        "living_conditions": {**dict.fromkeys(conditions, True), "safe_drinking_water": True},
    }


async def _account(driver: CaseDriver, username: str, role: str, area: str) -> Any:
    body = {"username": username, "display_name": username, "role": role, "area_code": area, "password": DEMO_PASSWORD}
    return await driver.post("admin", "/api/v1/accounts", body)


async def _sql(settings: Settings, statement: str, **params: Any) -> list[Any]:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


async def _open_month(settings: Settings) -> dict[str, int]:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with engine.begin() as conn:
            return await open_month(conn, datetime.now(UTC))
    finally:
        await engine.dispose()


async def test_four_teams_accounts_are_village_accounts(driver: CaseDriver) -> None:
    for role in ("village_team", "support_cadre", "grid_worker"):
        wrong = await _account(driver, f"matrix.{role}.town", role, "610824100000")
        assert wrong.status_code == 422 and wrong.json()["detail"]["errors"][0]["field"] == "area_code", wrong.text
    task_only = await _account(driver, "matrix.four.teams", "four_teams", VILLAGE)
    assert task_only.status_code == 422 and task_only.json()["detail"]["errors"][0]["field"] == "role", task_only.text
    made = await _account(driver, GRID, "grid_worker", VILLAGE)
    assert made.status_code in (201, 409), made.text
    assert (await driver.get(GRID, "/api/v1/auth/me")).json()["role"] == "grid_worker"


async def test_a_grid_worker_opens_a_lead_in_their_village_only(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    await _account(driver, GRID, "grid_worker", VILLAGE)
    await _account(driver, OTHER_GRID, "grid_worker", "610824100201")
    household = await new_household(VILLAGE, CADRE)
    lead = {"household_code": household, "channel": "cadre_screening", "lead_note": "网格排查发现"}
    outside = await driver.post(OTHER_GRID, "/api/v1/cases", lead)
    assert outside.status_code == 404, outside.text
    opened = await driver.post(GRID, "/api/v1/cases", lead)
    assert opened.status_code == 201, opened.text
    # The case's steps stay the cadres': the grid worker may not record the home verification.
    tasks = (await driver.get(GRID, "/api/v1/tasks", village=VILLAGE, limit=200)).json()["items"]
    assert opened.json()["case_id"] not in {t["case_id"] for t in tasks}


async def test_a_formerly_poor_household_is_visited_every_month_and_gets_a_contact(
    driver: CaseDriver, settings: Settings, new_household: NewHousehold
) -> None:
    await _account(driver, GRID, "grid_worker", VILLAGE)
    await _account(driver, OTHER_GRID, "grid_worker", "610824100201")
    household = await new_household(VILLAGE, CADRE)
    never_poor = await new_household(VILLAGE, CADRE)
    # The register's API sets the flag (issue 11, "register"); here the column is set directly.
    await _sql(
        settings, "UPDATE households SET formerly_poor = true, poverty_exit_year = 2019 WHERE code = :c", c=household
    )
    await _open_month(settings)
    await _open_month(settings)  # again, as after a restart: nothing doubles
    keys = await _sql(
        settings, "SELECT key, role, closed_at IS NULL FROM tasks WHERE household_code = :c ORDER BY key", c=household
    )
    period = period_of(local_date(datetime.now(UTC)), 1)
    assert [tuple(k) for k in keys] == [
        (f"follow-up:{household}:contact:1", "township_approver", True),
        (f"follow-up:{household}:visit:{period}", "four_teams", True),
    ]
    assert await _sql(settings, "SELECT 1 FROM tasks WHERE household_code = :c", c=never_poor) == []

    # The visit task is in the inbox of every one of the village's 四支队伍, the contact task in the township's.
    for person in (GRID, CADRE):
        inbox = (await driver.get(person, "/api/v1/tasks", source="follow_up", village=VILLAGE, limit=200)).json()
        mine = [t for t in inbox["items"] if t["household_code"] == household]
        assert [(t["step"], t["can_act"]) for t in mine] == [("follow_up_visit", True)], (person, inbox)
    township = (await driver.get(TOWNSHIP, "/api/v1/tasks", source="follow_up", step="appoint_contact")).json()
    assert household in {t["household_code"] for t in township["items"]}

    # Naming the contact: the township only, one of the village's 四支队伍, a 脱贫户 only.
    path = f"/api/v1/households/{household}/contact-person"
    assert (
        await driver.http.put(path, json={"username": GRID}, headers=await driver.headers(CADRE))
    ).status_code == 403
    for wrong in (OTHER_VILLAGE_CADRE, TOWNSHIP, "nobody.here"):
        answer = await driver.http.put(path, json={"username": wrong}, headers=await driver.headers(TOWNSHIP))
        assert answer.status_code == 422 and answer.json()["detail"]["errors"][0]["field"] == "username", answer.text
    other = f"/api/v1/households/{never_poor}/contact-person"
    refused = await driver.http.put(other, json={"username": GRID}, headers=await driver.headers(TOWNSHIP))
    assert refused.status_code == 409 and refused.json()["detail"]["code"] == "not_formerly_poor", refused.text
    named = await driver.http.put(
        path, json={"username": GRID, "note": "住得近"}, headers=await driver.headers(TOWNSHIP)
    )
    assert named.status_code == 200 and named.json()["contact"]["username"] == GRID, named.text
    assert named.json()["formerly_poor"] and named.json()["poverty_exit_year"] == 2019

    # The visit: one of the village's 四支队伍; it ends the month's task.
    visits = f"/api/v1/households/{household}/follow-up-visits"
    today = local_date(datetime.now(UTC)).isoformat()
    assert (await driver.post(OTHER_GRID, visits, _visit(today))).status_code == 404
    assert (await driver.post(TOWNSHIP, visits, _visit(today))).status_code == 403
    assert (
        await driver.post(CADRE, f"/api/v1/households/{never_poor}/follow-up-visits", _visit(today))
    ).status_code == 409
    future = await driver.post(GRID, visits, _visit("2099-01-01"))
    assert future.status_code == 422, future.text
    done = await driver.post(GRID, visits, _visit(today))
    assert done.status_code == 201, done.text
    month = done.json()["visit_tasks"][0]
    assert (month["period"], month["status"], month["visit_count"], month["population"]) == (
        period,
        "done",
        1,
        "formerly_poor",
    )
    open_tasks = await _sql(
        settings, "SELECT key FROM tasks WHERE household_code = :c AND closed_at IS NULL", c=household
    )
    assert open_tasks == []
    await _open_month(settings)  # the month is not reopened
    coverage = (await driver.get(TOWNSHIP, "/api/v1/monitoring/visit-coverage", area=VILLAGE)).json()["rows"]
    this_month = next(r for r in coverage if r["period"] == period)
    assert this_month["owed_by_population"]["formerly_poor"] >= 1 and this_month["visited"] >= 1, this_month
    assert (await driver.get(OTHER_VILLAGE_CADRE, f"/api/v1/households/{household}/follow-up")).status_code == 404
    seen = (await driver.get(TOWNSHIP, f"/api/v1/households/{household}/follow-up")).json()
    assert [v["recorded_by"] for v in seen["visits"]] == [GRID] and seen["visit_tasks"][0]["status"] == "done"


@pytest.mark.parametrize("role", ["village_team", "support_cadre"])
async def test_other_teams_record_visits_too(
    driver: CaseDriver, settings: Settings, new_household: NewHousehold, role: str
) -> None:
    username = f"huochangwan.{role}"
    await _account(driver, username, role, VILLAGE)
    household = await new_household(VILLAGE, CADRE)
    await _sql(settings, "UPDATE households SET formerly_poor = true WHERE code = :c", c=household)
    today = local_date(datetime.now(UTC)).isoformat()
    answer = await driver.post(username, f"/api/v1/households/{household}/follow-up-visits", _visit(today))
    assert answer.status_code == 201, answer.text
