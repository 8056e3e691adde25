"""Every monitored household owes a visit each calendar month (Beijing time); a month that
ends without one is overdue and escalated to the township. Months pass in seconds
(time-skipping), and monitoring starts at moments chosen to catch a date taken in the wrong
zone: the first minutes of a month (still the previous month in UTC), the last minutes of a
month, and 29 February."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.demo_case import ADMIN, COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE
from services.demo_monitoring import visit
from services.domain.months import local_date, next_period, period_of
from tests.awkward_moments import AWKWARD_MOMENTS, Moment
from tests.monitoring.conftest import NOTICE_AND_MARGIN, Months


async def _coverage(months: Months, village: str, period: str) -> dict[str, int]:
    rows = (
        await months.cases.get(
            TOWNSHIP_APPROVER, "/api/v1/monitoring/visit-coverage", area=village, from_period=period, to_period=period
        )
    ).json()["rows"]
    return rows[0] if rows else {"owed": 0, "visited": 0, "overdue": 0, "open": 0}


@pytest.mark.parametrize("moment", AWKWARD_MOMENTS.values(), ids=AWKWARD_MOMENTS.keys())
async def test_a_visit_task_each_month_overdue_when_missed(months: Months, moment: Moment) -> None:
    assert (await months.cases.post(ADMIN, "/api/v1/policies", {})).status_code == 201
    announce_at = moment(await months.env.get_current_time(), NOTICE_AND_MARGIN + timedelta(days=1))
    [period] = await months.monitored(None, announce_at=announce_at)
    code, monitoring_id, village = period["household_code"], period["monitoring_id"], period["village_code"]
    since = local_date(datetime.fromisoformat(period["since"]))
    assert since == local_date(announce_at), "monitoring starts on the day of the announcement, Beijing time"
    first = period["visit_tasks"][-1]
    assert first["status"] == "open" and first["opens_on"] == since.isoformat()
    assert first["period"] == period_of(since, 1)
    assert any(t["kind"] == "visit" and t["role"] == "four_teams" for t in period["tasks"])
    second_period = next_period(first["period"], 1)
    before = {p: await _coverage(months, village, p) for p in (first["period"], second_period)}

    # The first month passes without a visit: overdue, escalated to the township.
    await months.into_next_period(period)
    period = await months.driver.wait_for(monitoring_id, lambda p: len(p["visit_tasks"]) == 2)
    missed, current = period["visit_tasks"]
    assert missed["period"] == first["period"] and missed["status"] == "overdue"
    assert missed["escalated_to"] == period["township_code"]
    assert current["period"] == second_period and current["status"] == "open"
    assert [t["period"] for t in await months.overdue_for_township(code)] == [first["period"]]
    escalations = (
        await months.cases.get(TOWNSHIP_APPROVER, "/api/v1/monitoring", mine=True, task="visit_overdue")
    ).json()["items"]
    assert monitoring_id in {p["monitoring_id"] for p in escalations}
    assert (
        await months.overdue_for_township(code)
        == (
            await months.cases.get(
                COUNTY_OFFICER, "/api/v1/monitoring/visit-tasks", status="overdue", household_code=code
            )
        ).json()["items"]
    )

    # A visit in the new month fulfils its task; a second visit counts too.
    today = await months.today()
    period = await months.driver.act(VILLAGE_CADRE, monitoring_id, "visits", visit(today))
    period = await months.driver.act(VILLAGE_CADRE, monitoring_id, "visits", visit(today, income=9900))
    current = period["visit_tasks"][-1]
    assert current["status"] == "done" and current["visit_count"] == 2 and current["per_capita_net_income"] == 9900
    assert not any(t["kind"] in ("visit", "visit_overdue") for t in period["tasks"]), "visited: escalation over"

    after = {p: await _coverage(months, village, p) for p in (first["period"], second_period)}
    assert after[first["period"]]["overdue"] - before[first["period"]]["overdue"] == 1
    assert after[second_period]["visited"] - before[second_period]["visited"] == 1
    assert after[second_period]["owed"] - before[second_period]["owed"] == 1

    # The month after: the visited month stays done, a new task opens.
    await months.into_next_period(period)
    period = await months.driver.wait_for(monitoring_id, lambda p: len(p["visit_tasks"]) == 3)
    assert [t["status"] for t in period["visit_tasks"]] == ["overdue", "done", "open"]
    timeline = (await months.cases.get(COUNTY_OFFICER, f"/api/v1/monitoring/{monitoring_id}/timeline")).json()
    actions = [e["action"] for e in timeline["entries"]]
    assert actions[0] == "start_monitoring" and timeline["entries"][0]["data"]["visit_tasks"] == [first["period"]]
    assert actions.count("visit_overdue") == 1 and actions.count("record_visit") == 2
    assert actions.count("open_visit_task") == 2
