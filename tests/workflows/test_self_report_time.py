"""Self-reports over days, on the time-skipping server: the township's 2-day acceptance deadline
and its escalation to the county, and the whole path from application to announcement with the
applicant's view checked at every step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from services.demo_case import (
    COUNTY_OFFICER,
    TOWNSHIP_APPROVER,
    VILLAGE_CADRE,
    CaseDriver,
    announcement,
    authorisation,
    county_decision,
    democratic_review,
    home_verification,
    township_review,
)
from services.settings import Settings
from tests.applicants import Household, SmsLog, apply_signed_in, decide, eventually, registered_head, sms_log
from tests.conftest import time_skipping_api

Skipping = tuple[WorkflowEnvironment, CaseDriver, SmsLog]


@pytest_asyncio.fixture(scope="module")
async def skipping(settings: Settings, live_api: object) -> AsyncIterator[Skipping]:
    with sms_log() as sms:
        async with time_skipping_api(settings, "self-report-time-skipping") as (env, driver):
            policy = (await driver.post("admin", "/api/v1/policies", {})).json()
            assert policy["self_report_acceptance_days"] == 2 and policy["notice_days"] == 5
            yield env, driver, sms


async def _apply(driver: CaseDriver, sms: SmsLog) -> tuple[Household, str]:
    _, name, id_number = await registered_head(driver)
    return await apply_signed_in(driver.http, sms, name, id_number)


async def _overdue_ids(driver: CaseDriver, who: str) -> set[str]:
    items = (await driver.get(who, "/api/v1/self-reports", overdue="true")).json()["items"]
    return {i["application_id"] for i in items}


async def test_an_unanswered_application_escalates_after_two_days(skipping: Skipping) -> None:
    env, driver, sms = skipping
    household, application_id = await _apply(driver, sms)
    await env.sleep(timedelta(days=1, hours=23))
    view = await household.view(application_id)
    assert view["stage"] == "等待镇里受理" and not view["overdue"] and not view["escalated"]
    assert application_id not in await _overdue_ids(driver, COUNTY_OFFICER)
    early = await decide(driver, COUNTY_OFFICER, application_id)
    assert early.status_code == 403 and "转县督办后" in early.json()["detail"]["message"]

    await env.sleep(timedelta(hours=2))
    view = await eventually(lambda: household.view(application_id), lambda v: v["escalated"])
    assert view["overdue"] and view["stage"] == "镇里未按时受理，已转县里督办"
    assert application_id in await _overdue_ids(driver, COUNTY_OFFICER)
    assert application_id in await _overdue_ids(driver, TOWNSHIP_APPROVER)
    assert application_id not in await _overdue_ids(driver, "qingyangcha.approver")

    # Escalated, the county may answer it (so may the township, still).
    accepted = await decide(driver, COUNTY_OFFICER, application_id)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and not accepted.json()["overdue"]
    assert application_id not in await _overdue_ids(driver, COUNTY_OFFICER)


async def test_an_answer_within_two_days_never_escalates(skipping: Skipping) -> None:
    env, driver, sms = skipping
    household, application_id = await _apply(driver, sms)
    await env.sleep(timedelta(days=1))
    assert (await decide(driver, TOWNSHIP_APPROVER, application_id, "reject", "不属于本村")).status_code == 200
    await env.sleep(timedelta(days=3))
    view = await household.view(application_id)
    assert view["status"] == "rejected" and not view["escalated"] and not view["overdue"]


async def _step(driver: CaseDriver, household: Household, application_id: str, stage: str) -> dict[str, Any]:
    view = await eventually(lambda: household.view(application_id), lambda v: v["stage"] == stage)
    assert view["stage"] == stage, view
    return view


async def test_from_application_to_announcement(skipping: Skipping) -> None:
    env, driver, sms = skipping
    household, application_id = await _apply(driver, sms)
    view = await household.view(application_id)
    assert (view["status"], view["stage"], view["case"]) == ("pending", "等待镇里受理", None)

    case_id = (await decide(driver, TOWNSHIP_APPROVER, application_id)).json()["case_id"]
    view = await _step(driver, household, application_id, "等待村干部上门核查")
    assert view["status_label"] == "镇里已受理" and view["case"]["opened_at"]

    act = driver.act
    await act(VILLAGE_CADRE, case_id, "home-verification", home_verification())
    view = await _step(driver, household, application_id, "等待签署承诺授权书")
    assert [m["label"] for m in view["case"]["milestones"]] == ["开始识别", "完成入户核查"]
    await act(VILLAGE_CADRE, case_id, "authorisation", authorisation())
    # The departments' cross-check runs beside the review; they answer by themselves here.
    await _step(driver, household, application_id, "等待村里民主评议")
    await act(VILLAGE_CADRE, case_id, "democratic-review", democratic_review())
    view = await eventually(lambda: household.view(application_id), lambda v: v["case"]["step"] == "village_notice")
    assert view["stage"].startswith("评议结果正在村里公示（到") and view["case"]["step_due_at"]
    # Let the departments' real-time answers arrive before days are skipped past their deadline.
    assert (await driver.wait_for_cross_check(case_id))["cross_check"]["completed_at"] is not None
    await env.sleep(timedelta(days=5, hours=1))
    await _step(driver, household, application_id, "镇里正在审核")
    await act(TOWNSHIP_APPROVER, case_id, "township-review", township_review())
    await _step(driver, household, application_id, "县里正在审定")
    await act(COUNTY_OFFICER, case_id, "county-decision", county_decision())
    await _step(driver, household, application_id, "县里已审定通过，等待公告")
    await act(TOWNSHIP_APPROVER, case_id, "announcement", announcement())

    view = await _step(driver, household, application_id, "已认定为监测对象")
    assert view["case"]["outcome"] == "monitoring_target" and view["case"]["closed_at"]
    assert view["next"].startswith("您家已纳入防返贫监测对象")
    assert [m["label"] for m in view["case"]["milestones"]] == [
        "开始识别",
        "完成入户核查",
        "签署承诺授权书",
        "完成民主评议",
        "村级公示期满",
        "镇审核完成",
        "县级审定完成",
        "结果公告",
    ]
    shown = str(view)
    for internal in ("verifiers", "attendees", "opinion", "minutes", "张村干部", "村民代表1", "income"):
        assert internal not in shown, f"the applicant sees no {internal}"

    texts = await eventually(lambda: _texts(sms, household), lambda t: len(t) == 2)
    assert "已由镇里受理" in texts[0]
    assert "识别结果：您家已纳入防返贫监测对象" in texts[1]


async def _texts(sms: SmsLog, household: Household) -> list[str]:
    return [t for t in sms.texts_to(household.phone) if "验证码" not in t]
