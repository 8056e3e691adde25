"""The exit (风险消除): assessed from the records as months pass, proposed by the support
person once six good months hold, run through verification, review, notice (with an
objection), township and county; refused for a household where no one can work; and
reversed by the county. Months pass in seconds (time-skipping). The six months are counted
from 29 February, where "six months later" is a date that exists (29 August) only by luck."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.demo_case import ADMIN, COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, democratic_review, objection
from services.demo_monitoring import SUPPORT_PERSON, delivery, exit_verification, no_labour_verification, visit
from services.domain.months import add_months, local_date
from tests.awkward_moments import leap_day
from tests.monitoring.conftest import NOTICE_AND_MARGIN, Months


def _unmet(period: dict) -> set[str]:
    return {u["code"] for u in period["assessment"]["unmet"]}


async def _proposals_waiting(months: Months) -> set[str]:
    answer = await months.cases.get(SUPPORT_PERSON, "/api/v1/monitoring", mine=True, task="propose_exit")
    return {p["monitoring_id"] for p in answer.json()["items"]}


async def test_exit_after_six_good_months_and_refused_without_labour(months: Months) -> None:
    assert (await months.cases.post(ADMIN, "/api/v1/policies", {})).status_code == 201
    announce_at = leap_day(await months.env.get_current_time(), NOTICE_AND_MARGIN + timedelta(days=1))
    working, no_labour = await months.monitored(None, no_labour_verification(), announce_at=announce_at)
    ids = [working["monitoring_id"], no_labour["monitoring_id"]]
    clock_started_at = datetime.fromisoformat(working["clock_started_at"])
    assert local_date(clock_started_at) == local_date(announce_at)
    six_months_on = add_months(clock_started_at, 6)
    assert (local_date(six_months_on).month, local_date(six_months_on).day) == (8, 29)
    for monitoring_id in ids:
        period = await months.driver.support_with_plan(monitoring_id)
        measure = period["plans"][-1]["measures"][0]
        await months.driver.act(
            SUPPORT_PERSON, monitoring_id, f"measures/{measure['measure_id']}/delivery", delivery(await months.today())
        )
    no_labour = await months.driver.get(ids[1])
    assert no_labour["plans"][-1]["measures"][0]["kind"] == "social_security", "兜底 comes first"
    assert no_labour["assessment"]["social_protection"] is True and "no_labour" in _unmet(no_labour)

    # Six months, each with a visit reporting income above the line (7,800 yuan).
    for _month in range(6):
        for monitoring_id in ids:
            period = await months.driver.act(VILLAGE_CADRE, monitoring_id, "visits", visit(await months.today()))
        assert period["visit_tasks"][-1]["status"] == "done"
        await months.into_next_period(period)
    working = await months.driver.wait_for(ids[0], lambda p: p["visit_tasks"][-1]["status"] == "open")
    assert _unmet(working) == {"too_soon"}, working["assessment"]
    assert ids[0] not in await _proposals_waiting(months)
    early = await months.driver.post(SUPPORT_PERSON, ids[0], "exit/proposal", {})
    assert early.status_code == 409 and early.json()["detail"]["code"] == "exit_criteria_unmet"

    # Six months after monitoring began, time alone makes the exit possible: a task for the support person.
    assert f"（{local_date(six_months_on)}满）" in working["assessment"]["unmet"][0]["message"]
    await months.skip_to(six_months_on + timedelta(hours=1))
    working = await months.driver.wait_for(ids[0], lambda p: p["assessment"]["eligible"])
    assert working["assessment"]["eligible"] and working["exits"] == []
    assert [t["assignee"] for t in working["tasks"] if t["kind"] == "propose_exit"] == [SUPPORT_PERSON]
    assert await _proposals_waiting(months) == {ids[0]}

    # Without labour: never risk-eliminated; it stays monitored under social protection and says why.
    no_labour = await months.driver.get(ids[1])
    assert _unmet(no_labour) == {"no_labour"} and no_labour["assessment"]["social_protection"] is True
    refused = await months.driver.post(SUPPORT_PERSON, ids[1], "exit/proposal", {})
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert detail["code"] == "exit_criteria_unmet" and detail["social_protection"] is True
    assert "兜底保障" in detail["message"] and [u["code"] for u in detail["unmet"]] == ["no_labour"]
    assert (await months.driver.get(ids[1]))["exits"] == []

    # The exit procedure, step by step; an objection during the notice holds it until resolved.
    today = await months.today()
    other_cadre = await months.driver.post(VILLAGE_CADRE, ids[0], "exit/proposal", {})
    assert other_cadre.status_code == 403 and "帮扶责任人" in other_cadre.json()["detail"]["message"]
    period = await months.driver.exit_to_notice(ids[0], today)
    exit_ = period["exits"][-1]
    assert exit_["step"] == "village_notice" and exit_["review"]["passed"] is True
    assert not any(t["kind"] == "propose_exit" for t in period["tasks"])
    too_early = await months.driver.post(TOWNSHIP_APPROVER, ids[0], "exit/township-review", {"decision": "approve"})
    assert too_early.status_code == 409 and too_early.json()["detail"]["current_step"] == "village_notice"
    await months.driver.act(VILLAGE_CADRE, ids[0], "exit/objections", objection(today))
    await months.env.sleep(timedelta(days=5, hours=1))
    period = await months.driver.get(ids[0])
    assert period["exits"][-1]["step"] == "village_notice", "a pending objection holds the notice"
    await months.driver.act(
        VILLAGE_CADRE, ids[0], "exit/objections/1/resolution", {"decision": "dismissed", "findings": "经核实车辆系借用"}
    )
    period = await months.driver.wait_for(ids[0], lambda p: p["exits"][-1]["step"] == "township_review")
    assert period["exits"][-1]["step"] == "township_review"
    period = await months.driver.exit_after_notice(ids[0])
    assert period["status"] == "risk_eliminated" and period["status_label"] == "风险已消除"
    assert period["exits"][-1]["outcome"] == "risk_eliminated" and period["tasks"] == []
    assert period["visit_tasks"][-1]["status"] == "cancelled"
    household = (await months.cases.get(VILLAGE_CADRE, f"/api/v1/households/{period['household_code']}")).json()
    assert household["status"] == "risk_eliminated"
    after_exit = await months.driver.post(VILLAGE_CADRE, ids[0], "visits", visit(today))
    assert after_exit.status_code == 409 and after_exit.json()["detail"]["current_step"] == "risk_eliminated"

    # No visits are owed once the risk is eliminated.
    await months.into_next_period(period)
    assert len((await months.driver.get(ids[0]))["visit_tasks"]) == len(period["visit_tasks"])

    # The county reverses a wrong mark: monitored again, visits owed from now, the exit rules count afresh.
    no_reason = await months.driver.post(COUNTY_OFFICER, ids[0], "exit-reversal", {"reason": " "})
    assert no_reason.status_code == 422
    township = await months.driver.post(TOWNSHIP_APPROVER, ids[0], "exit-reversal", {"reason": "收入核实有误"})
    assert township.status_code == 403
    period = await months.driver.act(COUNTY_OFFICER, ids[0], "exit-reversal", {"reason": "抽查发现收入核实有误"})
    assert (
        period["status"] == "risk_not_eliminated"
        and period["exits"][-1]["reversal"]["reason"] == "抽查发现收入核实有误"
    )
    assert {"too_soon", "income", "measures"} <= _unmet(period)
    period = await months.driver.wait_for(ids[0], lambda p: p["visit_tasks"][-1]["status"] == "open")
    assert period["visit_tasks"][-1]["opens_on"] == (await months.today()).isoformat()
    household = (await months.cases.get(VILLAGE_CADRE, f"/api/v1/households/{period['household_code']}")).json()
    assert household["status"] == "risk_not_eliminated"
    again = await months.driver.post(COUNTY_OFFICER, ids[0], "exit-reversal", {"reason": "重复"})
    assert again.status_code == 409
    timeline = (await months.cases.get(COUNTY_OFFICER, f"/api/v1/monitoring/{ids[0]}/timeline")).json()["entries"]
    actions = [e["action"] for e in timeline]
    for action in (
        "exit_criteria_met",
        "propose_exit",
        "verify_exit",
        "review_exit",
        "file_exit_objection",
        "resolve_exit_objection",
        "end_exit_notice",
        "review_exit_in_township",
        "decide_exit_in_county",
        "reverse_exit",
    ):
        assert action in actions, action
    met = timeline[actions.index("exit_criteria_met")]
    assert met["actor"] == "system" and met["data"]["eligible"] is True
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))


async def test_a_township_return_reworks_the_exit_and_only_the_county_rejects(months: Months) -> None:
    policy = {"exit_min_monitoring_months": 0, "exit_income_months": 1}  # an exit possible after one visit
    assert (await months.cases.post(ADMIN, "/api/v1/policies", policy)).status_code == 201
    [period] = await months.monitored(None)
    monitoring_id = period["monitoring_id"]
    period = await months.driver.support_with_plan(monitoring_id)
    today = await months.today()
    await months.driver.act(
        SUPPORT_PERSON,
        monitoring_id,
        f"measures/{period['plans'][-1]['measures'][0]['measure_id']}/delivery",
        delivery(today),
    )
    assert (await months.driver.act(VILLAGE_CADRE, monitoring_id, "visits", visit(today)))["assessment"]["eligible"]

    await months.driver.exit_to_notice(monitoring_id, await months.today())
    await months.env.sleep(timedelta(days=5, hours=1))
    await months.driver.wait_for(monitoring_id, lambda p: p["exits"][-1]["step"] == "township_review")
    period = await months.driver.act(
        TOWNSHIP_APPROVER, monitoring_id, "exit/township-review", {"decision": "return", "opinion": "佐证材料不足"}
    )
    exit_ = period["exits"][-1]
    assert exit_["step"] == "home_verification" and exit_["outcome"] is None, "a return is not a rejection"
    assert exit_["verification_round"] == 2 and exit_["review"] is None
    [returned] = exit_["township_returns"]
    assert returned["opinion"] == "佐证材料不足" and returned["returned_by"] == TOWNSHIP_APPROVER
    assert returned["verification_round"] == 1 and returned["review"]["passed"] is True, "the returned round is kept"

    # The village verifies again; the exit goes through review and notice once more; the county rejects.
    today = await months.today()
    await months.driver.act(VILLAGE_CADRE, monitoring_id, "exit/home-verification", exit_verification(today))
    await months.driver.act(VILLAGE_CADRE, monitoring_id, "exit/democratic-review", democratic_review(on=today))
    await months.env.sleep(timedelta(days=5, hours=1))
    await months.driver.wait_for(monitoring_id, lambda p: p["exits"][-1]["step"] == "township_review")
    await months.driver.act(TOWNSHIP_APPROVER, monitoring_id, "exit/township-review", {"decision": "approve"})
    no_reason = await months.driver.post(COUNTY_OFFICER, monitoring_id, "exit/county-decision", {"decision": "reject"})
    assert no_reason.status_code == 422
    period = await months.driver.act(
        COUNTY_OFFICER, monitoring_id, "exit/county-decision", {"decision": "reject", "opinion": "需继续观察"}
    )
    assert [e["outcome"] for e in period["exits"]] == ["rejected_by_county"]
    assert period["status"] == "risk_not_eliminated"
    assert [t["kind"] for t in period["tasks"] if t["assignee"]] == ["propose_exit"], "it may be proposed again"
