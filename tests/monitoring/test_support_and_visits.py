"""Support person, plan, deliveries and visits through HTTP: who may act, what is refused
(and changes nothing), what a retry does. Real time, on the session's dev server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from services.demo_case import ADMIN, COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, home_verification
from services.demo_monitoring import SUPPORT_PERSON, MonitoringDriver, delivery, no_labour_verification, visit
from services.domain.months import local_date
from services.workflows.monitoring import MonitoringWorkflow, monitoring_workflow_id
from tests.conftest import NewHousehold

OTHER_VILLAGE_CADRE, OTHER_TOWNSHIP = "huochangwan.cadre", "qingyangcha.approver"


async def _monitored(driver: CaseDriver, new_household: NewHousehold, verification: Any = None) -> dict[str, Any]:
    await driver.publish_notice_seconds(0.5)
    monitoring = MonitoringDriver(driver)
    code = await new_household()
    case_id = await monitoring.to_notice(code, verification)
    await driver.wait_for_step(case_id, "township_review")
    await driver.after_notice(case_id)
    return await monitoring.period_of(code)


async def _snapshot(driver: CaseDriver, temporal: WorkflowEnvironment, period: dict[str, Any]) -> tuple:
    """What a refused request must leave unchanged: workflow state, read model, audit."""
    monitoring_id = period["monitoring_id"]
    state = await temporal.client.get_workflow_handle(monitoring_workflow_id(period["household_code"])).query(
        MonitoringWorkflow.state
    )
    recorded = (await driver.get(COUNTY_OFFICER, f"/api/v1/monitoring/{monitoring_id}")).json()
    timeline = (await driver.get(COUNTY_OFFICER, f"/api/v1/monitoring/{monitoring_id}/timeline")).json()
    dumped = state.model_dump(mode="json")
    del dumped["assessment"]["assessed_at"]
    return dumped, recorded["seq"], len(timeline["entries"])


def _today() -> str:
    return local_date(datetime.now(UTC)).isoformat()


def _refused(answer: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert code is None or detail["code"] == code, detail
    return detail


@pytest.fixture
def monitoring(driver: CaseDriver) -> MonitoringDriver:
    return MonitoringDriver(driver)


async def test_the_township_appoints_a_village_cadre_of_the_household(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment, monitoring: MonitoringDriver
) -> None:
    period = await _monitored(driver, new_household)
    monitoring_id = period["monitoring_id"]
    assert [t["kind"] for t in period["tasks"]] == ["appoint_support_person", "visit"]
    waiting = (
        await driver.get(TOWNSHIP_APPROVER, "/api/v1/monitoring", mine=True, task="appoint_support_person")
    ).json()["items"]
    assert monitoring_id in {p["monitoring_id"] for p in waiting}
    before = await _snapshot(driver, temporal, period)
    appoint = {"username": SUPPORT_PERSON}
    _refused(await monitoring.post(VILLAGE_CADRE, monitoring_id, "support-person", appoint), 403)
    _refused(await monitoring.post(ADMIN, monitoring_id, "support-person", appoint), 403)
    _refused(await monitoring.post(OTHER_TOWNSHIP, monitoring_id, "support-person", appoint), 404)
    for username in ("nobody", TOWNSHIP_APPROVER, OTHER_VILLAGE_CADRE):
        detail = _refused(
            await monitoring.post(TOWNSHIP_APPROVER, monitoring_id, "support-person", {"username": username}),
            422,
            "invalid",
        )
        assert detail["errors"][0]["field"] == "username", detail
    assert await _snapshot(driver, temporal, period) == before

    period = await monitoring.act(TOWNSHIP_APPROVER, monitoring_id, "support-person", appoint | {"note": "包联"})
    assert period["support_people"][-1]["username"] == SUPPORT_PERSON
    assert period["support_people"][-1]["appointed_by"] == TOWNSHIP_APPROVER
    assert [(t["kind"], t["assignee"]) for t in period["tasks"]] == [("draft_plan", SUPPORT_PERSON), ("visit", None)]
    mine = (await driver.get(SUPPORT_PERSON, "/api/v1/monitoring", mine=True, task="draft_plan")).json()["items"]
    assert monitoring_id in {p["monitoring_id"] for p in mine}
    others = (await driver.get(VILLAGE_CADRE, "/api/v1/monitoring", mine=True, task="draft_plan")).json()["items"]
    assert monitoring_id not in {p["monitoring_id"] for p in others}
    _refused(
        await monitoring.post(TOWNSHIP_APPROVER, monitoring_id, "support-person", appoint), 409, "already_recorded"
    )
    # Re-appointment: the new person acts from now on.
    period = await monitoring.act("dongkeng.approver2", monitoring_id, "support-person", {"username": VILLAGE_CADRE})
    assert [p["username"] for p in period["support_people"]] == [SUPPORT_PERSON, VILLAGE_CADRE]
    _refused(await monitoring.post(SUPPORT_PERSON, monitoring_id, "plans", {"measures": []}), 422)
    proposed = (await driver.get(VILLAGE_CADRE, f"/api/v1/monitoring/{monitoring_id}/proposed-measures")).json()
    plan = {"measures": [{k: v for k, v in m.items() if k != "kind_label"} for m in proposed["measures"]]}
    _refused(await monitoring.post(SUPPORT_PERSON, monitoring_id, "plans", plan), 403)
    assert (await monitoring.post(VILLAGE_CADRE, monitoring_id, "plans", plan)).status_code == 200


async def test_plan_review_and_measure_delivery(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment, monitoring: MonitoringDriver
) -> None:
    period = await _monitored(driver, new_household)
    monitoring_id = period["monitoring_id"]
    measure = {"kind": "social_security", "content": "落实医疗救助", "owner": "县医保局", "starts_on": _today()}
    detail = _refused(await monitoring.post(SUPPORT_PERSON, monitoring_id, "plans", {"measures": [measure]}), 409)
    assert "尚未任命帮扶责任人" in detail["message"]
    await monitoring.act(TOWNSHIP_APPROVER, monitoring_id, "support-person", {"username": SUPPORT_PERSON})
    _refused(
        await monitoring.post(SUPPORT_PERSON, monitoring_id, "plans", {"measures": [measure | {"kind": "charity"}]}),
        422,
        "invalid",
    )

    later = (local_date(datetime.now(UTC)) + timedelta(days=30)).isoformat()
    period = await monitoring.act(SUPPORT_PERSON, monitoring_id, "plans", {"measures": [measure]})
    assert period["plans"][0]["status"] == "submitted" and period["plans"][0]["measures"][0]["status"] == "proposed"
    assert [t["kind"] for t in period["tasks"]][:1] == ["review_plan"]
    _refused(await monitoring.post(SUPPORT_PERSON, monitoring_id, "plans", {"measures": [measure]}), 409, "wrong_step")
    _refused(
        await monitoring.post(
            SUPPORT_PERSON, monitoring_id, "measures/1/delivery", delivery(local_date(datetime.now(UTC)))
        ),
        409,
        "wrong_step",
    )
    _refused(await monitoring.post(TOWNSHIP_APPROVER, monitoring_id, "plans/1/review", {"decision": "return"}), 422)
    _refused(await monitoring.post(VILLAGE_CADRE, monitoring_id, "plans/1/review", {"decision": "approve"}), 403)
    period = await monitoring.act(
        TOWNSHIP_APPROVER, monitoring_id, "plans/1/review", {"decision": "return", "opinion": "措施不具体，请细化"}
    )
    assert period["plans"][0]["status"] == "returned" and period["plans"][0]["measures"][0]["status"] == "withdrawn"
    assert ("draft_plan", SUPPORT_PERSON) in [(t["kind"], t["assignee"]) for t in period["tasks"]]
    _refused(
        await monitoring.post(TOWNSHIP_APPROVER, monitoring_id, "plans/1/review", {"decision": "approve"}),
        409,
        "already_recorded",
    )
    _refused(await monitoring.post(TOWNSHIP_APPROVER, monitoring_id, "plans/9/review", {"decision": "approve"}), 404)

    period = await monitoring.act(
        SUPPORT_PERSON,
        monitoring_id,
        "plans",
        {
            "measures": [
                measure,
                measure | {"kind": "employment", "content": "安排公益性岗位", "owner": "镇政府", "starts_on": later},
            ]
        },
    )
    period = await monitoring.act(TOWNSHIP_APPROVER, monitoring_id, "plans/2/review", {"decision": "approve"})
    assert [m["status"] for m in period["plans"][1]["measures"]] == ["in_progress", "in_progress"]
    assert [m["measure_id"] for m in period["plans"][1]["measures"]] == [2, 3]
    before = await _snapshot(driver, temporal, period)
    today = local_date(datetime.now(UTC))
    _refused(await monitoring.post(VILLAGE_CADRE, monitoring_id, "measures/2/delivery", delivery(today)), 403)
    _refused(
        await monitoring.post(
            SUPPORT_PERSON, monitoring_id, "measures/2/delivery", delivery(today + timedelta(days=1))
        ),
        422,
    )
    _refused(await monitoring.post(SUPPORT_PERSON, monitoring_id, "measures/3/delivery", delivery(today)), 422)
    _refused(await monitoring.post(SUPPORT_PERSON, monitoring_id, "measures/1/delivery", delivery(today)), 409)
    _refused(await monitoring.post(SUPPORT_PERSON, monitoring_id, "measures/7/delivery", delivery(today)), 404)
    _refused(
        await monitoring.post(
            SUPPORT_PERSON, monitoring_id, "measures/2/delivery", {"delivered_on": today.isoformat(), "evidence": ""}
        ),
        422,
    )
    assert await _snapshot(driver, temporal, period) == before
    period = await monitoring.act(SUPPORT_PERSON, monitoring_id, "measures/2/delivery", delivery(today))
    assert period["plans"][1]["measures"][0]["status"] == "delivered"
    assert "measures" not in {u["code"] for u in period["assessment"]["unmet"]}
    _refused(
        await monitoring.post(SUPPORT_PERSON, monitoring_id, "measures/2/delivery", delivery(today)),
        409,
        "already_recorded",
    )


async def test_measure_proposals_follow_the_risks(
    driver: CaseDriver, new_household: NewHousehold, monitoring: MonitoringDriver
) -> None:
    composite = await _monitored(driver, new_household, home_verification(risk_types=["illness", "schooling"]))
    proposed = await driver.get(VILLAGE_CADRE, f"/api/v1/monitoring/{composite['monitoring_id']}/proposed-measures")
    kinds = [m["kind"] for m in proposed.json()["measures"]]
    assert kinds == ["social_security", "motivation_and_skills", "industry", "employment", "finance"]

    no_labour = await _monitored(driver, new_household, no_labour_verification())
    monitoring_id = no_labour["monitoring_id"]
    proposed = (await driver.get(VILLAGE_CADRE, f"/api/v1/monitoring/{monitoring_id}/proposed-measures")).json()
    assert [m["kind"] for m in proposed["measures"]] == ["social_security", "social_security"]
    assert "兜底" in proposed["measures"][0]["content"]
    await monitoring.act(TOWNSHIP_APPROVER, monitoring_id, "support-person", {"username": SUPPORT_PERSON})
    work_only = {"kind": "employment", "content": "安排公益性岗位", "owner": "镇政府", "starts_on": _today()}
    detail = _refused(await monitoring.post(SUPPORT_PERSON, monitoring_id, "plans", {"measures": [work_only]}), 422)
    assert "兜底" in detail["message"] and detail["errors"][0]["field"] == "measures"


async def test_visit_rules_and_retries(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment, monitoring: MonitoringDriver
) -> None:
    period = await _monitored(driver, new_household)
    monitoring_id = period["monitoring_id"]
    today = local_date(datetime.now(UTC))
    since = local_date(datetime.fromisoformat(period["since"]))  # yesterday, if the test straddles midnight
    before = await _snapshot(driver, temporal, period)
    _refused(await monitoring.post(OTHER_VILLAGE_CADRE, monitoring_id, "visits", visit(today)), 404)
    _refused(await monitoring.post(TOWNSHIP_APPROVER, monitoring_id, "visits", visit(today)), 403)
    for when, words in (
        (today + timedelta(days=1), "不能晚于今天"),
        (since - timedelta(days=1), "早于"),
        (since - timedelta(days=40), "早于"),
    ):
        detail = _refused(await monitoring.post(VILLAGE_CADRE, monitoring_id, "visits", visit(when)), 422, "invalid")
        assert words in detail["message"] and detail["errors"][0]["field"] == "visited_on"
    for body in (
        visit(today) | {"visitors": []},
        visit(today) | {"visitors": ["甲", "甲"]},
        visit(today) | {"new_risks": ["laziness"]},
        visit(today) | {"findings": ""},
    ):
        _refused(await monitoring.post(VILLAGE_CADRE, monitoring_id, "visits", body), 422, "invalid")
    _refused(await driver.get(OTHER_VILLAGE_CADRE, f"/api/v1/monitoring/{monitoring_id}"), 404)
    _refused(await driver.get(OTHER_VILLAGE_CADRE, f"/api/v1/monitoring/{monitoring_id}/timeline"), 404)
    _refused(await driver.get(OTHER_TOWNSHIP, "/api/v1/monitoring", area=period["village_code"]), 403)
    assert await _snapshot(driver, temporal, period) == before

    first = await monitoring.post(VILLAGE_CADRE, monitoring_id, "visits", visit(today), **{"Idempotency-Key": "v-1"})
    again = await monitoring.post(VILLAGE_CADRE, monitoring_id, "visits", visit(today), **{"Idempotency-Key": "v-1"})
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    period = await monitoring.get(monitoring_id)
    assert period["visits_recorded"] == 1 and period["visit_tasks"][-1]["status"] == "done"
    other = await monitoring.post(
        VILLAGE_CADRE, monitoring_id, "visits", visit(today, income=1), **{"Idempotency-Key": "v-1"}
    )
    _refused(other, 422, "idempotency_key_reused")
    assert not any(t["kind"] == "visit" for t in period["tasks"])
    # Someone outside the casework roles sees the visit without personal data.
    record = (await driver.get(ADMIN, f"/api/v1/households/{period['household_code']}/file")).json()
    assert record["monitoring_periods"][0]["visits"][0]["visitors"] == visit(today)["visitors"]
    assert all("********" in m["id_number"] for m in record["household"]["members"])


async def test_two_approvers_on_one_plan_one_wins(
    driver: CaseDriver, new_household: NewHousehold, monitoring: MonitoringDriver
) -> None:
    period = await _monitored(driver, new_household)
    monitoring_id = period["monitoring_id"]
    await monitoring.act(TOWNSHIP_APPROVER, monitoring_id, "support-person", {"username": SUPPORT_PERSON})
    measure = {"kind": "social_security", "content": "落实医疗救助", "owner": "县医保局", "starts_on": _today()}
    await monitoring.act(SUPPORT_PERSON, monitoring_id, "plans", {"measures": [measure]})
    answers = await asyncio.gather(
        monitoring.post(TOWNSHIP_APPROVER, monitoring_id, "plans/1/review", {"decision": "approve"}),
        monitoring.post(
            "dongkeng.approver2", monitoring_id, "plans/1/review", {"decision": "return", "opinion": "请细化"}
        ),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    timeline = (await driver.get(COUNTY_OFFICER, f"/api/v1/monitoring/{monitoring_id}/timeline")).json()["entries"]
    assert [e["action"] for e in timeline].count("review_plan") == 1
