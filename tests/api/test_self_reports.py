"""Household applications: checked fields, one at a time per household, the township's answer,
and what each applicant may see and do (only their own)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from services.db.engine import create_engine
from services.db.tables import SelfReportEvent, SelfReportNotice
from services.demo_case import COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver
from services.settings import Settings
from tests.applicants import (  # noqa: F401 (fixture)
    Household,
    SmsLog,
    application_form,
    apply_signed_in,
    decide,
    eventually,
    mini,
    registered_head,
    unregistered_head,
)
from tests.conftest import new_household_body

OTHER_TOWNSHIP_APPROVER = "qingyangcha.approver"


async def _rows(settings: Settings, table: Any, application_id: str) -> list[Any]:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(table).where(table.application_id == application_id))).all()
    await engine.dispose()
    return list(rows)


async def test_invalid_fields_are_explained_in_chinese(mini: tuple[CaseDriver, SmsLog]) -> None:
    api, sms = mini
    household = await Household(api.http, sms).sign_in()
    name, id_number = unregistered_head()
    bad_check_digit = id_number[:17] + ("0" if id_number[17] != "0" else "1")
    form = application_form(
        name, bad_check_digit, "2345", "610824999999", risk_types=[], description="穷", consent=False
    )
    answer = await household.post("/applications", form)
    assert answer.status_code == 422
    assert {e["field"]: e["message"] for e in answer.json()["detail"]["errors"]} == {
        "id_number": "身份证号校验位不正确，请核对后重新填写",
        "phone": "手机号应为11位数字，以1开头",
        "risk_types": "请至少选择一项遇到的困难",
        "description": "请用几句话说明家里遇到的困难（至少5个字）",
        "consent": "请阅读并同意《承诺授权书》后再提交",
    }
    unknown_village = await household.post(
        "/applications", application_form(name, id_number, household.phone, "610824999999")
    )
    assert unknown_village.status_code == 422
    assert unknown_village.json()["detail"]["errors"] == [
        {"field": "village_code", "message": "没有找到这个村，请从列表中选择您所在的村"}
    ]
    assert (await household.get("/applications")).json() == {"items": []}, "nothing was filed"
    assert (await api.http.post("/api/v1/self-service/applications", json=form)).status_code == 401


async def test_accepting_opens_a_self_report_case(
    mini: tuple[CaseDriver, SmsLog], driver: CaseDriver, settings: Settings
) -> None:
    api, sms = mini
    code, name, id_number = await registered_head(driver)
    household = await Household(api.http, sms).sign_in()
    applied = await household.apply(application_form(name, id_number, household.phone))
    application_id = applied["application_id"]
    assert applied["status"] == "pending" and applied["stage"] == "等待镇里受理"
    assert applied["next"].startswith("镇里会在") and applied["case"] is None
    assert applied["application"]["id_number"] == id_number[:6] + "********" + id_number[-4:]
    assert applied["application"]["village_name"] == "东坑村"

    inbox = (await driver.get(TOWNSHIP_APPROVER, "/api/v1/self-reports", status="pending")).json()["items"]
    listed = next(i for i in inbox if i["application_id"] == application_id)
    assert listed["household_code"] == code and "*" in listed["id_number"] and not listed["overdue"]
    detail = (await driver.get(TOWNSHIP_APPROVER, f"/api/v1/self-reports/{application_id}")).json()
    assert detail["id_number"] == id_number and detail["registered_household_code"] == code

    assert (await decide(driver, VILLAGE_CADRE, application_id)).status_code == 403
    assert (await decide(driver, OTHER_TOWNSHIP_APPROVER, application_id)).status_code == 404
    assert (await decide(driver, COUNTY_OFFICER, application_id)).status_code == 403, "not escalated yet"
    accepted = await decide(driver, TOWNSHIP_APPROVER, application_id)
    assert accepted.status_code == 200, accepted.text
    case_id = accepted.json()["case_id"]
    assert accepted.json()["status"] == "accepted" and case_id

    case = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}")).json()
    assert case["channel"] == "self_report" and case["household_code"] == code
    assert "自己花了三万多元医药费" in case["lead_note"] and case["step"] == "home_verification"
    timeline = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/timeline")).json()["entries"]
    assert timeline[0]["action"] == "open_case" and timeline[0]["actor"] == TOWNSHIP_APPROVER

    view = await household.view(application_id)
    assert view["status_label"] == "镇里已受理" and view["stage"] == "等待村干部上门核查"
    assert view["case"]["milestones"][0]["label"] == "开始识别"
    notices = await eventually(
        lambda: _rows(settings, SelfReportNotice, application_id), lambda rows: bool(rows and rows[0].sent_at)
    )
    assert [(n.kind, n.sent_at is not None) for n in notices] == [("accepted", True)]
    [sms_text] = [t for t in sms.texts_to(household.phone) if "受理" in t]
    assert sms_text == notices[0].text and id_number not in sms_text and "已由镇里受理" in sms_text

    again = await decide(driver, TOWNSHIP_APPROVER, application_id, "reject", "重复")
    assert again.status_code in (409,) and again.json()["detail"]["code"] in ("wrong_step", "application_closed")


async def test_a_rejection_tells_the_applicant_why(
    mini: tuple[CaseDriver, SmsLog], driver: CaseDriver, settings: Settings
) -> None:
    api, sms = mini
    household, application_id = await apply_signed_in(api.http, sms, *unregistered_head())
    no_reason = await decide(driver, TOWNSHIP_APPROVER, application_id, "reject")
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"]["errors"][0]["message"] == "不予受理时须填写理由，申报人会看到这条理由"
    reason = "经核实您家不属于本镇，请向户籍所在镇申报，电话13912345678"
    rejected = await decide(driver, TOWNSHIP_APPROVER, application_id, "reject", reason)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"

    view = await household.view(application_id)
    assert view["status_label"] == "未予受理" and view["stage"] == "镇里未予受理"
    assert view["rejection_reason"] == "经核实您家不属于本镇，请向户籍所在镇申报，电话139****5678"
    assert "decided_by" not in view and "王审核" not in str(view), "staff names stay internal"
    notices = await eventually(
        lambda: _rows(settings, SelfReportNotice, application_id), lambda rows: bool(rows and rows[0].sent_at)
    )
    assert notices[0].kind == "rejected" and "139****5678" in notices[0].text
    assert "13912345678" not in " ".join(sms.lines)
    withdrawn = await household.post(f"/applications/{application_id}/withdrawal")
    assert withdrawn.status_code == 409
    assert (await decide(driver, TOWNSHIP_APPROVER, application_id)).status_code == 409


async def test_another_household_can_neither_read_nor_withdraw(
    mini: tuple[CaseDriver, SmsLog], driver: CaseDriver, settings: Settings
) -> None:
    api, sms = mini
    name, id_number = unregistered_head()
    owner, application_id = await apply_signed_in(api.http, sms, name, id_number)
    intruder = await Household(api.http, sms).sign_in()
    before = await owner.view(application_id), len(await _rows(settings, SelfReportEvent, application_id))

    read = await intruder.get(f"/applications/{application_id}")
    assert read.status_code == 404 and read.json()["detail"]["message"] == "没有找到这份申报"
    withdraw = await intruder.post(f"/applications/{application_id}/withdrawal")
    assert withdraw.status_code == 404
    assert (await intruder.get("/applications")).json() == {"items": []}
    staff_token = await driver.headers(VILLAGE_CADRE)
    assert (
        await api.http.post(f"/api/v1/self-service/applications/{application_id}/withdrawal", headers=staff_token)
    ).status_code == 401
    after = await owner.view(application_id), len(await _rows(settings, SelfReportEvent, application_id))
    assert after == before

    withdrawn = await owner.post(f"/applications/{application_id}/withdrawal")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["stage"] == "您已撤回申报"
    assert (await decide(driver, TOWNSHIP_APPROVER, application_id)).status_code == 409
    # Withdrawn, the household may apply again.
    assert (await owner.apply(application_form(name, id_number, owner.phone)))["status"] == "pending"


async def test_one_application_at_a_time_per_household(mini: tuple[CaseDriver, SmsLog], driver: CaseDriver) -> None:
    api, sms = mini
    _code, name, id_number = await registered_head(driver)
    first = await Household(api.http, sms).sign_in()
    relative = await Household(api.http, sms).sign_in()
    application_id = (await first.apply(application_form(name, id_number, first.phone)))["application_id"]

    again = await first.post("/applications", application_form(name, id_number, first.phone))
    assert again.status_code == 409
    detail = again.json()["detail"]
    assert detail["code"] == "application_pending" and detail["application_id"] == application_id
    assert detail["message"].startswith("您家已有一份申报（") and "正在等待镇里受理" in detail["message"]
    by_relative = await relative.post("/applications", application_form(name, id_number, relative.phone))
    assert by_relative.status_code == 409 and "application_id" not in by_relative.json()["detail"]

    # Once accepted the case is open: a new application is told where the case stands.
    assert (await decide(driver, TOWNSHIP_APPROVER, application_id)).status_code == 200
    during_case = await relative.post("/applications", application_form(name, id_number, relative.phone))
    assert during_case.status_code == 409
    assert during_case.json()["detail"]["code"] == "case_already_open"
    assert "目前等待村干部上门核查" in during_case.json()["detail"]["message"]


async def test_simultaneous_applications_for_one_head_file_one(mini: tuple[CaseDriver, SmsLog]) -> None:
    api, sms = mini
    name, id_number = unregistered_head()
    phones = [await Household(api.http, sms).sign_in() for _ in range(4)]
    answers = await asyncio.gather(
        *(p.post("/applications", application_form(name, id_number, p.phone)) for p in phones)
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    assert {a.json()["detail"]["code"] for a in answers if a.status_code == 409} == {"application_pending"}


async def test_an_unregistered_household_is_registered_then_accepted(
    mini: tuple[CaseDriver, SmsLog], driver: CaseDriver
) -> None:
    api, sms = mini
    household = await Household(api.http, sms).sign_in()
    body = new_household_body()
    head = body["members"][0]
    application_id = (await household.apply(application_form(head["name"], head["id_number"], household.phone)))[
        "application_id"
    ]
    detail = (await driver.get(TOWNSHIP_APPROVER, f"/api/v1/self-reports/{application_id}")).json()
    assert detail["household_code"] is None and detail["registered_household_code"] is None
    refused = await decide(driver, TOWNSHIP_APPROVER, application_id)
    assert refused.status_code == 409 and refused.json()["detail"]["code"] == "household_not_registered"
    assert (await household.view(application_id))["status"] == "pending", "the refusal changed nothing"

    registered = await driver.post(TOWNSHIP_APPROVER, "/api/v1/households", body)
    assert registered.status_code == 201, registered.text
    accepted = await decide(driver, TOWNSHIP_APPROVER, application_id)
    assert accepted.status_code == 200, accepted.text
    case = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{accepted.json()['case_id']}")).json()
    assert case["household_code"] == registered.json()["code"] and case["channel"] == "self_report"


async def test_acceptance_joins_a_case_opened_meanwhile(
    mini: tuple[CaseDriver, SmsLog], driver: CaseDriver, settings: Settings
) -> None:
    api, sms = mini
    code, name, id_number = await registered_head(driver)
    household, application_id = await apply_signed_in(api.http, sms, name, id_number)
    cadre_case = await driver.open_case(code)

    accepted = await decide(driver, TOWNSHIP_APPROVER, application_id)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["case_id"] == cadre_case["case_id"] and accepted.json()["joined_open_case"]
    case = (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{cadre_case['case_id']}")).json()
    assert [lead["channel"] for lead in case["further_leads"]] == ["self_report"]
    assert case["channel"] == "cadre_screening"
    view = await household.view(application_id)
    assert view["case"]["step"] == "home_verification" and view["case"]["milestones"][0]["label"] == "开始识别"
    notice = await eventually(lambda: _rows(settings, SelfReportNotice, application_id), bool)
    assert "并入您家正在办理的识别" in notice[0].text


async def test_a_retried_decision_acts_once(mini: tuple[CaseDriver, SmsLog], driver: CaseDriver) -> None:
    api, sms = mini
    code, name, id_number = await registered_head(driver)
    _, application_id = await apply_signed_in(api.http, sms, name, id_number)
    path, body = f"/api/v1/self-reports/{application_id}/decision", {"decision": "accept"}
    answers = await asyncio.gather(
        *(driver.post(TOWNSHIP_APPROVER, path, body, **{"Idempotency-Key": "acc-1"}) for _ in range(3))
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["case_id"] for a in answers}) == 1
    cases = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", household_code=code)).json()["items"]
    assert len(cases) == 1
