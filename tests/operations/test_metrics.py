"""GET /metrics: request latency and refusals by route template (never a raw path), the domain
gauges as the read model has them at scrape time, and who may read it (this machine, or a
scraper with METRICS_TOKEN)."""

from __future__ import annotations

import random

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from services.db.engine import create_engine
from services.demo_case import VILLAGE_CADRE, CaseDriver
from services.department_simulator.client import SimulatorClient
from services.settings import Settings
from tests.conftest import NewHousehold, api_for
from tests.departments.signed import authorised_case

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def _scrape(http: httpx.AsyncClient) -> tuple[str, Samples]:
    answer = await http.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }
    return answer.text, samples


def _sum(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for (n, lab), v in samples.items() if n == name and set(labels.items()) <= lab)


async def test_requests_are_counted_by_route_template(driver: CaseDriver) -> None:
    unknown = f"C-2026-{random.randrange(10**10):010d}"
    route = {"method": "GET", "route": "/api/v1/cases/{case_id}"}
    _, before = await _scrape(driver.http)
    for _ in range(2):
        assert (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{unknown}")).status_code == 404
    assert (await driver.http.get("/api/v1/cases")).status_code == 401
    page, after = await _scrape(driver.http)

    assert (
        _sum(after, "api_request_errors_total", status="404", **route)
        - _sum(before, "api_request_errors_total", status="404", **route)
        == 2
    )
    assert _sum(after, "api_request_errors_total", method="GET", route="/api/v1/cases", status="401") >= 1
    latency = "api_request_duration_seconds_count"
    assert _sum(after, latency, **route) - _sum(before, latency, **route) == 2
    assert unknown not in page, "a raw path became a label"


async def test_domain_gauges_follow_the_read_model(
    driver: CaseDriver, new_household: NewHousehold, departments: SimulatorClient, settings: Settings
) -> None:
    _, before = await _scrape(driver.http)
    case = await driver.open_case(await new_household())
    await departments.behave("vehicles", silent=True)
    waiting = await authorised_case(driver, await new_household())
    # The opened case's task passes its due time (a read-model change, as days passing would make).
    engine = create_engine(settings.require_database_url(), pool_size=1)
    async with engine.begin() as conn:
        step = (
            await conn.execute(
                text(
                    "UPDATE tasks SET due_at = now() - interval '1 day' "
                    "WHERE case_id = :case AND closed_at IS NULL RETURNING step"
                ),
                {"case": case["case_id"]},
            )
        ).scalar_one()
    await engine.dispose()
    _, after = await _scrape(driver.http)

    def grew(name: str, **labels: str) -> float:
        return _sum(after, name, **labels) - _sum(before, name, **labels)

    assert grew("cases_open", step="home_verification") == 1
    assert grew("tasks_overdue", source="identification", step=step) == 1
    assert waiting["cross_check"]["requests"]["vehicles"]["request_id"]
    assert grew("department_answers_outstanding", department="vehicles") == 1


async def test_only_this_machine_or_the_scrape_token_reads_metrics(
    settings: Settings, temporal: WorkflowEnvironment
) -> None:
    async with api_for(settings, temporal.client, client_address="10.20.30.40") as remote:
        refused = await remote.http.get("/metrics")
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "metrics_local_only"

    token = "scrape-" + "t" * 20
    with_token = settings.model_copy(update={"metrics_token": SecretStr(token)})
    async with api_for(with_token, temporal.client, client_address="10.20.30.40") as remote:
        answers = [
            await remote.http.get("/metrics", headers=headers)
            for headers in (
                {},
                {"Authorization": "Bearer wrong-token-wrong-token"},
                {"Authorization": f"Bearer {token}"},
            )
        ]
    assert [a.status_code for a in answers] == [401, 401, 200]
    assert answers[0].json()["detail"]["code"] == "metrics_token_required"
    assert "api_request_duration_seconds" in answers[2].text
