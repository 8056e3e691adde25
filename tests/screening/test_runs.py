"""Screening rules and runs: the rules flag the planted households and not the others, the preview
counts what the run then leads on, leads go out on the channel 平台监测分析 (joining an open case),
a second run opens nothing new, and every reader sees only their area."""

from __future__ import annotations

from typing import Any

from services.demo_case import ADMIN, COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver
from tests.applicants import eventually
from tests.conftest import NewHousehold
from tests.screening.files import csv_file, finished_job, send_import

YEAR = 2043  # the data's own year: no other test imports for it
QINGYANGCHA_VILLAGE, QINGYANGCHA_APPROVER = "610824101201", "qingyangcha.approver"
DONGKENG, QINGYANGCHA = "610824100000", "610824101000"


async def finished_run(driver: CaseDriver, run_id: int) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        return (await driver.get(COUNTY_OFFICER, f"/api/v1/screening/runs/{run_id}")).json()

    run = await eventually(read, lambda r: r["status"] == "done", timeout=60)
    assert run["status"] == "done", run
    return run


async def run_screening(driver: CaseDriver) -> dict[str, Any]:
    answer = await driver.post(COUNTY_OFFICER, "/api/v1/screening/runs", {"year": YEAR})
    assert answer.status_code == 201, answer.text
    return await finished_run(driver, answer.json()["run_id"])


async def hits(driver: CaseDriver, who: str, run_id: int) -> dict[str, dict[str, Any]]:
    answer = await driver.get(who, f"/api/v1/screening/runs/{run_id}/households", limit=500)
    assert answer.status_code == 200, answer.text
    return {h["household_code"]: h for h in answer.json()["items"]}


async def test_rules_preview_and_runs(
    driver: CaseDriver, new_household: NewHousehold, other_county: dict[str, str]
) -> None:
    policy = {"income_lines": {str(YEAR): {"monitoring_yuan": 7800}}, "screening": {"lead_batch_size": 2}}
    assert (await driver.post(ADMIN, "/api/v1/policies", policy)).status_code == 201
    # Two people each (tests' households): per-capita income is half the household's.
    low, dropout, fine, borderline, in_case = [await new_household() for _ in range(5)]
    elsewhere = await new_household(QINGYANGCHA_VILLAGE, "qingyangcha.cadre")
    incomes = [["户编号", "年度", "收入来源", "金额"]]
    for code, this_year, last_year in [
        (low, 10_000, 10_000),  # 5,000 a person: below the line
        (dropout, 40_000, 40_000),  # well off, but a pupil left school
        (fine, 40_000, 41_000),
        (borderline, 15_200, 15_000),  # 7,600 a person: below 7,800, above 7,500
        (in_case, 8_000, 8_000),
        (elsewhere, 6_000, 6_000),
    ]:
        incomes += [[code, YEAR, "wage", this_year], [code, YEAR - 1, "wage", last_year]]
    await finished_job(driver, (await send_import(driver, "incomes", csv_file(incomes)))["job_id"])
    signals = [["户编号", "月份", "信号类型", "金额"], [dropout, f"{YEAR}-09", "pupil_left_school", None]]
    await finished_job(driver, (await send_import(driver, "signals", csv_file(signals)))["job_id"])
    open_case = await driver.open_case(in_case)

    # What if the line were 7,500? The borderline household is no longer flagged.
    answer = await driver.post(
        COUNTY_OFFICER, "/api/v1/screening/preview", {"year": YEAR, "policy": {"income_line_yuan": 7500}}
    )
    assert answer.status_code == 200, answer.text
    preview = {t["township_code"]: t for t in answer.json()["townships"]}
    assert (preview[DONGKENG]["flagged"], preview[DONGKENG]["flagged_now"]) == (3, 4)
    assert preview[DONGKENG]["by_rule"]["pupil_left_school"] == 1
    assert (preview[QINGYANGCHA]["flagged"], preview[QINGYANGCHA]["flagged_now"]) == (1, 1)
    township_preview = await driver.post(QINGYANGCHA_APPROVER, "/api/v1/screening/preview", {"year": YEAR})
    assert [t["township_code"] for t in township_preview.json()["townships"]] == [QINGYANGCHA]
    assert (await driver.post(VILLAGE_CADRE, "/api/v1/screening/preview", {"year": YEAR})).status_code == 403

    run = await run_screening(driver)
    assert run["flagged"] == answer.json()["total_now"] == 5
    assert (run["opened"], run["joined"], run["skipped"]) == (4, 1, 0)
    flagged = await hits(driver, COUNTY_OFFICER, run["run_id"])
    assert set(flagged) == {low, dropout, borderline, in_case, elsewhere}
    assert flagged[dropout]["rules"] == ["pupil_left_school"]
    assert flagged[in_case]["outcome"] == "joined" and flagged[in_case]["case_id"] == open_case["case_id"]
    case = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{flagged[low]['case_id']}")).json()
    assert (case["channel"], case["channel_label"]) == ("platform_analysis", "平台监测分析")
    assert "年人均纯收入低于监测标准" in case["lead_note"]

    # A second run finds the same households and opens nothing new.
    again = await run_screening(driver)
    assert (again["flagged"], again["opened"], again["joined"], again["skipped"]) == (5, 0, 0, 5)

    # A run is its county's: townships meet its leads in their own cases and inboxes.
    only_dongkeng = await driver.get(
        COUNTY_OFFICER, f"/api/v1/screening/runs/{run['run_id']}/households", township=DONGKENG
    )
    assert {h["household_code"] for h in only_dongkeng.json()["items"]} == {low, dropout, borderline, in_case}
    path = f"/api/v1/screening/runs/{run['run_id']}"
    assert (await driver.get(other_county["county_officer"], path)).status_code == 404
    assert (await driver.get(other_county["county_officer"], f"{path}/households")).status_code == 404
    for reader in (VILLAGE_CADRE, TOWNSHIP_APPROVER):
        assert (await driver.get(reader, f"{path}/households")).status_code == 403
    assert (await driver.post(TOWNSHIP_APPROVER, "/api/v1/screening/runs", {"year": YEAR})).status_code == 403
