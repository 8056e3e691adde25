"""A case fast-tracked (绿色通道) tells its monitoring period so once the household is a monitoring target."""

from __future__ import annotations

from services.demo_case import TOWNSHIP_APPROVER, fast_track, home_verification
from tests.api.test_fast_track import SUDDEN
from tests.monitoring.conftest import Months


async def test_the_monitoring_period_says_support_started_first(months: Months) -> None:
    code = await months.household()
    case_id = await months.driver.to_notice(code, home_verification(await months.today(), **SUDDEN))
    await months.cases.act(TOWNSHIP_APPROVER, case_id, "fast-track", fast_track(await months.today()))
    await months.announced([case_id])
    period = await months.driver.period_of(code)
    [case] = period["cases"]
    assert case["category"] == "sudden_hardship"
    assert case["fast_track"]["measures"] == fast_track()["measures"]
    assert case["fast_track"]["started_by"] == TOWNSHIP_APPROVER
