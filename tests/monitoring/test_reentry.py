"""Re-entry: a new risk found at a visit opens a fresh identification (and blocks the exit
until it ends); a confirmed risk restarts the exit clock and asks for a revised plan. A
household whose risk was eliminated becomes a monitoring target again through a new
case: a new monitoring period, the old one kept. The household file holds it all."""

from __future__ import annotations

from datetime import timedelta

from services.demo_case import ADMIN, COUNTY_OFFICER, VILLAGE_CADRE, home_verification
from services.demo_monitoring import SUPPORT_PERSON, delivery, visit
from tests.monitoring.conftest import Months


async def _identified(months: Months, case_id: str) -> None:
    """Drives an open case from home verification to announcement."""
    await months.cases.through_review(case_id, home_verification(risk_types=["illness"]))
    await months.announced([case_id])


async def test_new_risk_at_a_visit_reopens_identification(months: Months) -> None:
    assert (await months.cases.post(ADMIN, "/api/v1/policies", {})).status_code == 201
    [period] = await months.monitored(None)
    monitoring_id, code = period["monitoring_id"], period["household_code"]
    await months.driver.support_with_plan(monitoring_id)

    period = await months.driver.act(
        VILLAGE_CADRE, monitoring_id, "visits", visit(await months.today(), new_risks=["accident"])
    )
    [risk] = period["risks"]
    assert risk["source"] == "visit" and risk["closed_at"] is None and risk["risk_types"] == ["accident"]
    assert "open_risk" in {u["code"] for u in period["assessment"]["unmet"]}
    case = (await months.cases.get(VILLAGE_CADRE, f"/api/v1/cases/{risk['case_id']}")).json()
    assert case["step"] == "home_verification" and case["channel"] == "cadre_screening"
    assert "因意外事故" in case["lead_note"] and case["household_code"] == code

    # A second risk while that case is open joins it as a further lead.
    period = await months.driver.act(
        VILLAGE_CADRE, monitoring_id, "visits", visit(await months.today(), new_risks=["housing"])
    )
    assert [r["case_id"] for r in period["risks"]] == [risk["case_id"]] * 2
    case = (await months.cases.get(VILLAGE_CADRE, f"/api/v1/cases/{risk['case_id']}")).json()
    assert len(case["further_leads"]) == 1 and "住房安全" in case["further_leads"][0]["note"]

    # The case confirms the risk: the risks close, the exit clock restarts, the plan is to be revised.
    await _identified(months, risk["case_id"])
    period = await months.driver.wait_for(monitoring_id, lambda p: len(p["cases"]) == 2)
    assert [r["confirmed"] for r in period["risks"]] == [True, True]
    assert period["clock_started_at"] > period["since"] and period["plan_revision_due"] is True
    assert [t["kind"] for t in period["tasks"] if t["assignee"] == SUPPORT_PERSON][:1] == ["draft_plan"]
    assert "open_risk" not in {u["code"] for u in period["assessment"]["unmet"]}
    household = (await months.cases.get(VILLAGE_CADRE, f"/api/v1/households/{code}")).json()
    assert household["status"] == "risk_not_eliminated"


async def test_after_exit_a_new_case_starts_a_new_period(months: Months) -> None:
    # An exit possible after one good visit, so that the test need not wait six months.
    policy = {"exit_min_monitoring_months": 0, "exit_income_months": 1}
    assert (await months.cases.post(ADMIN, "/api/v1/policies", policy)).status_code == 201
    [period] = await months.monitored(None)
    first_id, code = period["monitoring_id"], period["household_code"]
    period = await months.driver.support_with_plan(first_id)
    today = await months.today()
    await months.driver.act(
        SUPPORT_PERSON,
        first_id,
        f"measures/{period['plans'][-1]['measures'][0]['measure_id']}/delivery",
        delivery(today),
    )
    period = await months.driver.act(VILLAGE_CADRE, first_id, "visits", visit(today))
    assert period["assessment"]["eligible"], period["assessment"]
    await months.driver.exit_to_notice(first_id, today)
    await months.env.sleep(timedelta(days=5, hours=1))
    await months.driver.wait_for(first_id, lambda p: p["exits"][-1]["step"] == "township_review")
    assert (await months.driver.exit_after_notice(first_id))["status"] == "risk_eliminated"

    # A new lead on the household: identification as usual; its announcement opens a new period.
    case_id = (await months.cases.open_case(code, channel="department_warning"))["case_id"]
    assert (await months.driver.get(first_id))["risks"] == [], "a case on an exited household is not its risk"
    await _identified(months, case_id)
    second = await months.driver.period_of(code, other_than=first_id)
    assert second["monitoring_id"] != first_id and [c["case_id"] for c in second["cases"]] == [case_id]
    assert second["support_people"] == [] and second["plans"] == []
    assert any(t["kind"] == "appoint_support_person" for t in second["tasks"])
    first = await months.driver.get(first_id)
    assert first["status"] == "risk_eliminated"
    stale = await months.driver.post(COUNTY_OFFICER, first_id, "exit-reversal", {"reason": "误标"})
    assert stale.status_code == 409 and stale.json()["detail"]["current_step"] == "superseded"

    # 一户一档: both cases, both periods with their plans, measures, visits and exits.
    record = (await months.cases.get(COUNTY_OFFICER, f"/api/v1/households/{code}/file")).json()
    assert record["household"]["status"] == "risk_not_eliminated"
    assert len(record["cases"]) == 2 and record["cases"][1]["case_id"] == case_id
    periods = record["monitoring_periods"]
    assert [p["monitoring_id"] for p in periods] == [first_id, second["monitoring_id"]]
    assert periods[0]["exits"][0]["outcome"] == "risk_eliminated" and len(periods[0]["visits"]) == 1
    assert periods[0]["plans"][0]["measures"][0]["status"] == "delivered"
    assert record["household"]["members"][0]["id_number"][6:14] != "********"
    masked = (await months.cases.get(ADMIN, f"/api/v1/households/{code}/file")).json()
    assert masked["household"]["members"][0]["id_number"][6:14] == "********"
    assert (await months.cases.get("qingyangcha.cadre", f"/api/v1/households/{code}/file")).status_code == 404
