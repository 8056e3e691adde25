"""Ways an exit procedure ends without "risk eliminated": the verification finds the rules
unmet, the vote fails, a new risk appears during the notice, an objection is upheld.
The household stays monitored each time. Real time, with a policy whose exit rules
need no waiting and a notice that outlasts the test (township return and county
rejection, which come after the notice, are in test_exit.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.demo_case import (
    ADMIN,
    VILLAGE_CADRE,
    CaseDriver,
    democratic_review,
    home_verification,
)
from services.demo_monitoring import SUPPORT_PERSON, MonitoringDriver, delivery, exit_verification, visit
from services.domain.months import local_date
from tests.conftest import NewHousehold


async def _eligible(driver: CaseDriver, new_household: NewHousehold) -> tuple[MonitoringDriver, str]:
    monitoring = MonitoringDriver(driver)
    await driver.publish_notice_seconds(0.5)
    code = await new_household()
    case_id = await monitoring.to_notice(code)
    await driver.wait_for_step(case_id, "township_review")
    policy = {"notice_days": 1, "exit_min_monitoring_months": 0, "exit_income_months": 1}
    assert (await driver.post(ADMIN, "/api/v1/policies", policy)).status_code == 201
    await driver.after_notice(case_id)
    monitoring_id = (await monitoring.period_of(code))["monitoring_id"]
    period = await monitoring.support_with_plan(monitoring_id)
    today = local_date(datetime.now(UTC))
    await monitoring.act(
        SUPPORT_PERSON,
        monitoring_id,
        f"measures/{period['plans'][-1]['measures'][0]['measure_id']}/delivery",
        delivery(today),
    )
    period = await monitoring.act(VILLAGE_CADRE, monitoring_id, "visits", visit(today))
    assert period["assessment"]["eligible"], period["assessment"]
    return monitoring, monitoring_id


def _last_exit(period: dict) -> dict:
    return period["exits"][-1]


async def test_exit_endings_leave_the_household_monitored(driver: CaseDriver, new_household: NewHousehold) -> None:
    monitoring, monitoring_id = await _eligible(driver, new_household)
    today = local_date(datetime.now(UTC))
    no_exit = await monitoring.post(VILLAGE_CADRE, monitoring_id, "exit/home-verification", exit_verification(today))
    assert no_exit.status_code == 409 and no_exit.json()["detail"]["current_step"] == "closed"

    # The verification finds income at or below the line and expenses unresolved.
    await monitoring.act(SUPPORT_PERSON, monitoring_id, "exit/proposal", {})
    again = await monitoring.post(SUPPORT_PERSON, monitoring_id, "exit/proposal", {})
    assert again.status_code == 409 and again.json()["detail"]["current_step"] == "home_verification"
    one_verifier = await monitoring.post(
        VILLAGE_CADRE, monitoring_id, "exit/home-verification", exit_verification(today, verifiers=["张村干部"])
    )
    assert one_verifier.status_code == 422
    poorer = exit_verification(
        today, income={"wage": 8000, "business_net": 0, "property_income": 0, "transfer": 0}, expenses_resolved=False
    )
    period = await monitoring.act(VILLAGE_CADRE, monitoring_id, "exit/home-verification", poorer)
    assert _last_exit(period)["outcome"] == "verification_failed"
    assert {u["code"] for u in _last_exit(period)["unmet"]} == {"income", "expenses"}
    assert period["status"] == "risk_not_eliminated"

    # The vote fails.
    await monitoring.act(SUPPORT_PERSON, monitoring_id, "exit/proposal", {})
    await monitoring.act(VILLAGE_CADRE, monitoring_id, "exit/home-verification", exit_verification(today))
    period = await monitoring.act(VILLAGE_CADRE, monitoring_id, "exit/democratic-review", democratic_review(4, 5, 1))
    assert _last_exit(period)["outcome"] == "review_failed"

    # A new risk found during the notice ends the exit and opens an identification case.
    period = await monitoring.exit_to_notice(monitoring_id, today)
    assert _last_exit(period)["step"] == "village_notice"
    assert [t["kind"] for t in period["tasks"]] == [], "nothing waits during a notice without objections"
    period = await monitoring.act(VILLAGE_CADRE, monitoring_id, "visits", visit(today, new_risks=["illness"]))
    assert _last_exit(period)["outcome"] == "withdrawn_new_risk" and len(period["exits"]) == 3
    case_id = period["risks"][0]["case_id"]
    blocked = await monitoring.post(SUPPORT_PERSON, monitoring_id, "exit/proposal", {})
    assert blocked.status_code == 409 and "open_risk" in {u["code"] for u in blocked.json()["detail"]["unmet"]}

    # The case finds no risk after all (the authorisation is refused): the risk closes, unconfirmed.
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification())
    await driver.act(
        VILLAGE_CADRE,
        case_id,
        "authorisation",
        {"decision": "refused", "signed_on": today.isoformat(), "signer_name": "户主"},
    )
    period = await monitoring.wait_for(monitoring_id, lambda p: p["risks"][0]["closed_at"] is not None)
    assert period["risks"][0]["confirmed"] is False and period["plan_revision_due"] is False
    assert period["assessment"]["eligible"] and period["cases"][-1]["outcome"] == "authorisation_refused"

    # Objections: one upheld sends the exit back to verification, another upheld ends it.
    await monitoring.exit_to_notice(monitoring_id, today)
    objection = {"received_on": today.isoformat(), "content": "收入存在虚报"}
    await monitoring.act(VILLAGE_CADRE, monitoring_id, "exit/objections", objection)
    period = await monitoring.act(
        VILLAGE_CADRE,
        monitoring_id,
        "exit/objections/1/resolution",
        {"decision": "upheld", "upheld_action": "reverify", "findings": "需重新核实收入"},
    )
    assert _last_exit(period)["step"] == "home_verification" and _last_exit(period)["verification_round"] == 2
    assert _last_exit(period)["verification"] is None and _last_exit(period)["review"] is None
    await monitoring.act(VILLAGE_CADRE, monitoring_id, "exit/home-verification", exit_verification(today))
    period = await monitoring.act(VILLAGE_CADRE, monitoring_id, "exit/democratic-review", democratic_review())
    assert _last_exit(period)["step"] == "village_notice"
    # (A new notice: its objections are numbered afresh, as in identification.)
    await monitoring.act(VILLAGE_CADRE, monitoring_id, "exit/objections", objection)
    await monitoring.act(VILLAGE_CADRE, monitoring_id, "exit/objections", objection | {"raised_by": "村民甲"})
    await monitoring.act(
        VILLAGE_CADRE,
        monitoring_id,
        "exit/objections/1/resolution",
        {"decision": "dismissed", "findings": "经核实收入属实"},
    )
    resolved = await monitoring.post(
        VILLAGE_CADRE, monitoring_id, "exit/objections/1/resolution", {"decision": "dismissed", "findings": "重复"}
    )
    assert resolved.status_code == 409 and resolved.json()["detail"]["code"] == "already_recorded"
    period = await monitoring.act(
        VILLAGE_CADRE,
        monitoring_id,
        "exit/objections/2/resolution",
        {"decision": "upheld", "upheld_action": "end", "findings": "经核实有虚报"},
    )
    assert _last_exit(period)["outcome"] == "objection_upheld" and period["status"] == "risk_not_eliminated"
    assert [e["outcome"] for e in period["exits"]] == [
        "verification_failed",
        "review_failed",
        "withdrawn_new_risk",
        "objection_upheld",
    ]
