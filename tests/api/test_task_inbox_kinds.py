"""One inbox: a monitoring period's waits and a household's self-report are tasks of the same
inbox as identification steps, with the same claims, assignment, area boundaries and overdue rule;
acting on them respects a claim someone else holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.demo_case import COUNTY_OFFICER, SECOND_CADRE, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver
from services.demo_monitoring import SUPPORT_PERSON, MonitoringDriver
from tests.applicants import SmsLog, apply_signed_in, decide, mini, unregistered_head  # noqa: F401 (fixture)
from tests.conftest import NewHousehold
from tests.inbox import inbox_tasks, the_task

SECOND_APPROVER = "dongkeng.approver2"
OTHER_VILLAGE_CADRE, OTHER_TOWNSHIP = "huochangwan.cadre", "qingyangcha.approver"


async def _monitored(driver: CaseDriver, new_household: NewHousehold) -> dict[str, Any]:
    await driver.publish_notice_seconds(0.5)
    monitoring = MonitoringDriver(driver)
    code = await new_household()
    case_id = await monitoring.to_notice(code)
    await driver.wait_for_step(case_id, "township_review")
    await driver.after_notice(case_id)
    return await monitoring.period_of(code)


async def _task_call(driver: CaseDriver, who: str, task: dict[str, Any], verb: str, **body: Any) -> Any:
    return await driver.post(who, f"/api/v1/tasks/{task['task_id']}/{verb}", {"version": task["version"]} | body)


async def test_a_monitoring_periods_waits_are_tasks_with_claims(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    monitoring = MonitoringDriver(driver)
    period = await _monitored(driver, new_household)
    monitoring_id = period["monitoring_id"]

    # The appointment waits on the township, the month's visit on the village, each in its inbox only.
    appoint = await the_task(driver, TOWNSHIP_APPROVER, monitoring_id, "appoint_support_person")
    assert appoint["source"] == "monitoring" and appoint["action"] == "appoint_support_person"
    assert appoint["step_label"] == "任命帮扶责任人" and appoint["area_code"] == period["township_code"]
    assert appoint["due_at"] is None and appoint["overdue"] is False, "no deadline of its own"
    assert appoint["household_code"] == period["household_code"] and appoint["head_name"]
    visit = await the_task(driver, VILLAGE_CADRE, monitoring_id, "visit")
    assert datetime.fromisoformat(visit["due_at"]) == datetime.fromisoformat(period["visit_tasks"][-1]["due_at"])
    assert visit["overdue"] is False and visit["action"] == "record_visit"
    assert [t["step"] for t in await inbox_tasks(driver, SECOND_CADRE, monitoring_id)] == ["visit"]
    for outsider in (OTHER_VILLAGE_CADRE, OTHER_TOWNSHIP, COUNTY_OFFICER):
        assert await inbox_tasks(driver, outsider, monitoring_id) == [], outsider
    for outsider in (OTHER_VILLAGE_CADRE, OTHER_TOWNSHIP):
        assert (await driver.get(outsider, f"/api/v1/tasks/{appoint['task_id']}")).status_code == 404
    assert (await _task_call(driver, VILLAGE_CADRE, appoint, "claim")).status_code == 403
    assert {t["source"] for t in await inbox_tasks(driver, TOWNSHIP_APPROVER, source="monitoring")} == {"monitoring"}
    assert monitoring_id not in {
        t["case_id"] for t in await inbox_tasks(driver, TOWNSHIP_APPROVER, source="identification")
    }

    # Claimed by one approver, the other cannot appoint: 409 naming the holder, nothing changes.
    claimed = (await _task_call(driver, TOWNSHIP_APPROVER, appoint, "claim")).json()
    assert claimed["claimed_by"] == TOWNSHIP_APPROVER
    refused = await monitoring.post(SECOND_APPROVER, monitoring_id, "support-person", {"username": SUPPORT_PERSON})
    assert refused.status_code == 409 and refused.json()["detail"]["code"] == "task_claimed", refused.text
    assert (await monitoring.get(monitoring_id))["support_people"] == []
    released = (await _task_call(driver, TOWNSHIP_APPROVER, claimed, "release")).json()
    assert released["claimed_by"] is None
    assigned = await _task_call(driver, COUNTY_OFFICER, released, "assign", username=SECOND_APPROVER)
    assert assigned.status_code == 200 and assigned.json()["assigned_by"] == COUNTY_OFFICER, assigned.text
    await monitoring.act(SECOND_APPROVER, monitoring_id, "support-person", {"username": SUPPORT_PERSON})
    closed = (await driver.get(TOWNSHIP_APPROVER, f"/api/v1/tasks/{appoint['task_id']}")).json()
    assert closed["closed_at"] is not None and closed["can_act"] is False

    # Only the support person drafts the plan: the others of the village see it, cannot take it.
    draft = await the_task(driver, SUPPORT_PERSON, monitoring_id, "draft_plan")
    assert draft["can_act"] is True and draft["detail"]["assignee"] == SUPPORT_PERSON
    assert (await the_task(driver, VILLAGE_CADRE, monitoring_id, "draft_plan"))["can_act"] is False
    assert (await _task_call(driver, VILLAGE_CADRE, draft, "claim")).status_code == 403
    mis_assigned = await _task_call(driver, TOWNSHIP_APPROVER, draft, "assign", username=VILLAGE_CADRE)
    assert mis_assigned.status_code == 422, mis_assigned.text
    proposed = (await driver.get(SUPPORT_PERSON, f"/api/v1/monitoring/{monitoring_id}/proposed-measures")).json()
    plan = {"measures": [{k: v for k, v in m.items() if k != "kind_label"} for m in proposed["measures"]]}
    await monitoring.act(SUPPORT_PERSON, monitoring_id, "plans", plan)
    assert await inbox_tasks(driver, SUPPORT_PERSON, monitoring_id, step="draft_plan") == []
    review = await the_task(driver, TOWNSHIP_APPROVER, monitoring_id, "review_plan")
    assert review["title"] == "审核帮扶计划（第1版）" and review["subject"] == "1"
    await monitoring.act(TOWNSHIP_APPROVER, monitoring_id, "plans/1/review", {"decision": "approve"})
    assert await inbox_tasks(driver, TOWNSHIP_APPROVER, monitoring_id, step="review_plan") == []
    measures = await the_task(driver, SUPPORT_PERSON, monitoring_id, "deliver_measures")
    assert measures["action"] == "deliver_measure"


async def test_a_self_report_waits_in_the_townships_inbox_with_claims(
    driver: CaseDriver, mini: tuple[CaseDriver, SmsLog]
) -> None:
    api, sms = mini
    _, application_id = await apply_signed_in(api.http, sms, *unregistered_head())
    task = await the_task(driver, TOWNSHIP_APPROVER, application_id, "self_report_acceptance")
    assert task["source"] == "self_report" and task["step_label"] == "受理农户申报"
    assert task["household_code"] is None and task["head_name"] is None, "not registered yet"
    detail = (await driver.get(TOWNSHIP_APPROVER, f"/api/v1/self-reports/{application_id}")).json()
    assert datetime.fromisoformat(task["due_at"]) == datetime.fromisoformat(detail["due_at"])
    assert task["overdue"] is False and "id_number" not in str(task) and "phone" not in str(task)
    for outsider in (VILLAGE_CADRE, COUNTY_OFFICER, OTHER_TOWNSHIP):
        assert await inbox_tasks(driver, outsider, application_id) == [], "the township's until it is late"
    assert (await driver.get(OTHER_TOWNSHIP, f"/api/v1/tasks/{task['task_id']}")).status_code == 404

    assigned = (await _task_call(driver, TOWNSHIP_APPROVER, task, "assign", username=SECOND_APPROVER)).json()
    assert assigned["claimed_by"] == SECOND_APPROVER
    refused = await decide(driver, TOWNSHIP_APPROVER, application_id, "reject", "经核实家庭收入稳定")
    assert refused.status_code == 409 and refused.json()["detail"]["claimed_by"] == SECOND_APPROVER, refused.text
    after = (await driver.get(TOWNSHIP_APPROVER, f"/api/v1/self-reports/{application_id}")).json()
    assert after["status"] == "pending"
    answered = await decide(driver, SECOND_APPROVER, application_id, "reject", "经核实家庭收入稳定")
    assert answered.status_code == 200, answered.text
    assert await inbox_tasks(driver, SECOND_APPROVER, application_id) == []
    closed = (await driver.get(SECOND_APPROVER, f"/api/v1/tasks/{task['task_id']}")).json()
    assert closed["closed_at"] is not None and closed["can_act"] is False
