"""Screening visits (排查走访): a grid worker sees the households of their grid and records visits
there only; the county sees which households nobody has visited this year."""

from __future__ import annotations

from datetime import timedelta

from services.demo_case import COUNTY_OFFICER, DEMO_VILLAGE, TOWNSHIP_APPROVER, CaseDriver
from tests.conftest import NewHousehold

GRID_WORKER = "dongkeng.grid"
ELSEWHERE_VILLAGE, ELSEWHERE_CADRE = "610824101201", "qingyangcha.cadre"


async def unvisited(driver: CaseDriver, who: str, **params: object) -> set[str]:
    codes: set[str] = set()
    after = None
    while True:
        query = {"unvisited": "true", "limit": 500, **params} | ({"after": after} if after else {})
        answer = await driver.get(who, "/api/v1/screening/households", **query)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        codes |= {h["household_code"] for h in page["items"]}
        if not (after := page["next_after"]):
            return codes


async def test_grid_workers_visit_their_grid_and_the_county_sees_who_nobody_visited(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    visited, forgotten = await new_household(), await new_household()
    elsewhere = await new_household(ELSEWHERE_VILLAGE, ELSEWHERE_CADRE)
    today = await driver.today()

    grid = await driver.get(GRID_WORKER, "/api/v1/screening/households", limit=500)
    assert grid.status_code == 200
    assert {h["village_code"] for h in grid.json()["items"]} == {DEMO_VILLAGE}
    assert (await driver.get(GRID_WORKER, "/api/v1/screening/households", area=ELSEWHERE_VILLAGE)).status_code == 403

    visit = {
        "household_code": visited,
        "visited_on": today.isoformat(),
        "findings": "务工收入稳定，未发现风险",
        "risk_found": False,
    }
    answer = await driver.post(GRID_WORKER, "/api/v1/screening/visits", visit)
    assert answer.status_code == 201, answer.text
    assert answer.json()["recorded_by"] == GRID_WORKER

    # Outside the grid, a date after today, the wrong role: refused, nothing recorded.
    outside = await driver.post(GRID_WORKER, "/api/v1/screening/visits", visit | {"household_code": elsewhere})
    assert outside.status_code == 404
    tomorrow = (today + timedelta(days=1)).isoformat()
    late = await driver.post(GRID_WORKER, "/api/v1/screening/visits", visit | {"visited_on": tomorrow})
    assert late.status_code == 422 and late.json()["detail"]["errors"][0]["field"] == "visited_on"
    assert (await driver.post(TOWNSHIP_APPROVER, "/api/v1/screening/visits", visit)).status_code == 403

    county = await unvisited(driver, COUNTY_OFFICER, year=today.year)
    assert {forgotten, elsewhere} <= county and visited not in county
    township = await unvisited(driver, TOWNSHIP_APPROVER, year=today.year)
    assert forgotten in township and elsewhere not in township
    # A visit counts for its own year only.
    assert visited in await unvisited(driver, COUNTY_OFFICER, year=today.year - 1)
