"""Monitoring runs for months: these tests get a time-skipping Temporal server of their
own (one per test, so other households' calendars do not tick along), with a worker and
the API on it. PostgreSQL, the department simulator and the live API (where departments
call back) are the session's.

The server's clock starts at the machine's time; a test that depends on where in a day or
month monitoring starts chooses that moment (`monitored(..., announce_at=...)`, see
tests/awkward_moments.py) rather than inheriting it from the hour the suite runs at."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from services.demo_case import TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver
from services.demo_monitoring import MonitoringDriver
from services.domain.months import local_date
from services.settings import Settings
from tests.conftest import new_household_body, time_skipping_api

# The default policy's five-day notice, and an hour for the end-of-notice event to be recorded.
NOTICE_AND_MARGIN = timedelta(days=5, hours=1)


class Months:
    """A time-skipping server with the service on it: months pass in seconds."""

    def __init__(self, env: WorkflowEnvironment, driver: MonitoringDriver) -> None:
        self.env = env
        self.driver = driver
        self.cases: CaseDriver = driver.cases

    async def today(self) -> date:
        """The workflows' date (Beijing time), not the machine's."""
        return local_date(await self.env.get_current_time())

    async def skip_to(self, moment: datetime) -> None:
        """Moves the server's clock forward to `moment`."""
        gap = moment - await self.env.get_current_time()
        assert gap >= timedelta(0), f"{moment} has passed"
        await self.env.sleep(gap)

    async def household(self) -> str:
        answer = await self.cases.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())
        assert answer.status_code == 201, answer.text
        return answer.json()["code"]

    async def monitored(
        self, *verifications: dict[str, Any] | None, announce_at: datetime | None = None
    ) -> list[dict[str, Any]]:
        """New households identified as monitoring targets (one per verification given),
        their notices passing together; their monitoring periods. With `announce_at`, the
        cases are opened early enough for their notices to end by then, and announced then
        (monitoring starts within seconds of it)."""
        if announce_at is not None:
            await self.skip_to(announce_at - NOTICE_AND_MARGIN)
        codes = [await self.household() for _ in verifications]
        case_ids = [await self.driver.to_notice(code, found) for code, found in zip(codes, verifications, strict=True)]
        await self.announced(case_ids, announce_at)
        return [await self.driver.period_of(code) for code in codes]

    async def announced(self, case_ids: list[str], at: datetime | None = None) -> None:
        """Cases in their village notice: the departments answer the cross-check (before any
        days pass, or they would be overdue), the notice passes (until `at`, if given), then
        reviews and announcement."""
        for case_id in case_ids:
            assert (await self.cases.wait_for_cross_check(case_id))["cross_check"]["completed_at"]
        if at is None:
            await self.env.sleep(NOTICE_AND_MARGIN)
        else:
            await self.skip_to(at)
        for case_id in case_ids:
            assert (await self.cases.wait_for_step(case_id, "township_review"))["step"] == "township_review"
            await self.cases.after_notice(case_id)

    async def into_next_period(self, period: dict[str, Any]) -> None:
        """Sleeps until an hour into the period after the household's current one."""
        due_at = datetime.fromisoformat(period["visit_tasks"][-1]["due_at"])
        await self.env.sleep(due_at - await self.env.get_current_time() + timedelta(hours=1))

    async def overdue_for_township(self, household_code: str) -> list[dict[str, Any]]:
        answer = await self.cases.get(
            TOWNSHIP_APPROVER, "/api/v1/monitoring/visit-tasks", status="overdue", household_code=household_code
        )
        return answer.json()["items"]


@pytest_asyncio.fixture
async def months(settings: Settings, live_api: object) -> AsyncIterator[Months]:
    # `live_api`: the departments answer the cross-checks of these cases through it.
    async with time_skipping_api(settings, "monitoring-time-skipping") as (env, cases):
        yield Months(env, MonitoringDriver(cases))
