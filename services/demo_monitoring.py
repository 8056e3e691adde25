"""A monitored household driven through the HTTP API: support person, plan, delivery,
a visit, and the exit procedure to "risk eliminated". Used by the README walk-through
and the tests.

    uv run python -m services.demo_monitoring [--base-url http://127.0.0.1:8000] [--notice-seconds 5]

The walk-through publishes a policy whose exit rules need no months of waiting (0
months monitored, one visit above the line), so it finishes in seconds; monitoring
periods started earlier keep their own policy version.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

import httpx

from services.demo_case import (
    ADMIN,
    COUNTY_OFFICER,
    SECOND_CADRE,
    TOWNSHIP_APPROVER,
    VILLAGE_CADRE,
    CaseDriver,
    democratic_review,
    home_verification,
    run_walk_through,
)

SUPPORT_PERSON = SECOND_CADRE
ALL_SECURED = {
    "food_and_clothing": True,
    "compulsory_education": True,
    "basic_medical_care": True,
    "safe_housing": True,
    "safe_drinking_water": True,
}


def no_labour_verification() -> dict[str, Any]:
    """An identification finding: two elderly people, neither able to work, living on pensions and subsidies
    (4,800 yuan a person: inside the monitoring range, a 边缘易致贫户 as proposed)."""
    return home_verification(
        household_size=2,
        income={"wage": 0, "business_net": 0, "property_income": 0, "transfer": 9600},
        labour_capacity="none",
        able_workers=0,
        risk_types=["illness", "lack_of_labour"],
    )


def visit(visited_on: date, income: float = 9800.0, new_risks: list[str] | None = None) -> dict[str, Any]:
    return {
        "visited_on": visited_on.isoformat(),
        "visitors": ["刘网格员", "驻村工作队王队员"],
        "findings": "家庭生产生活正常，医疗报销已到位",
        "per_capita_net_income": income,
        "living_conditions": ALL_SECURED,
        "new_risks": new_risks or [],
        "new_risk_note": "户主突发重病住院" if new_risks else "",
    }


def delivery(delivered_on: date) -> dict[str, Any]:
    return {"delivered_on": delivered_on.isoformat(), "evidence": "医疗救助发放凭证 2026-0917 号"}


def exit_verification(visited_on: date, **overrides: Any) -> dict[str, Any]:
    return {
        "visited_on": visited_on.isoformat(),
        "verifiers": ["张村干部", "刘网格员"],
        "household_size": 4,
        "income": {"wage": 30000, "business_net": 8000, "property_income": 0, "transfer": 4200},
        "compliant_spending": 2000,
        "living_conditions": ALL_SECURED,
        "labour_capacity": "partial",
        "able_workers": 2,
        "expenses_resolved": True,
        "notes": "务工收入稳定，医疗费用已报销",
    } | overrides


def county_approval() -> dict[str, Any]:
    return {"decision": "approve", "opinion": ""}


class MonitoringDriver:
    """Acts on monitoring periods through the API, over a signed-in CaseDriver."""

    def __init__(self, cases: CaseDriver) -> None:
        self.cases = cases

    async def to_notice(self, household_code: str, verification: dict[str, Any] | None = None) -> str:
        """Identification steps 1–5 for the household: the case id, now in its village notice."""
        case_id = (await self.cases.open_case(household_code))["case_id"]
        await self.cases.through_review(case_id, verification)
        return case_id

    async def period_of(
        self,
        household_code: str,
        timeout: float = 30.0,
        status: str = "risk_not_eliminated",
        other_than: str | None = None,
    ) -> dict[str, Any]:
        """The household's monitoring period (once the read model has it)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            items = (
                await self.cases.get(COUNTY_OFFICER, "/api/v1/monitoring", household_code=household_code, status=status)
            ).json()["items"]
            items = [i for i in items if i["monitoring_id"] != other_than]
            if items:
                return await self.get(items[0]["monitoring_id"])
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no monitoring period for {household_code} after {timeout}s")
            await asyncio.sleep(0.2)

    async def get(self, monitoring_id: str, username: str = COUNTY_OFFICER) -> dict[str, Any]:
        answer = await self.cases.get(username, f"/api/v1/monitoring/{monitoring_id}")
        answer.raise_for_status()
        return answer.json()

    async def wait_for(self, monitoring_id: str, check: Any, timeout: float = 30.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            period = await self.get(monitoring_id)
            if check(period) or asyncio.get_running_loop().time() > deadline:
                return period
            await asyncio.sleep(0.2)

    async def post(self, username: str, monitoring_id: str, path: str, body: Any, **headers: str) -> httpx.Response:
        return await self.cases.post(username, f"/api/v1/monitoring/{monitoring_id}/{path}", body, **headers)

    async def act(self, username: str, monitoring_id: str, path: str, body: Any) -> dict[str, Any]:
        answer = await self.post(username, monitoring_id, path, body)
        if answer.status_code != 200:
            raise AssertionError(f"{path}: {answer.status_code} {answer.text}")
        return answer.json()

    async def support_with_plan(self, monitoring_id: str) -> dict[str, Any]:
        """Appoints the support person, who submits the proposed measures; the township approves."""
        await self.act(TOWNSHIP_APPROVER, monitoring_id, "support-person", {"username": SUPPORT_PERSON})
        proposed = await self.cases.get(SUPPORT_PERSON, f"/api/v1/monitoring/{monitoring_id}/proposed-measures")
        measures = [{k: v for k, v in m.items() if k != "kind_label"} for m in proposed.json()["measures"]]
        period = await self.act(
            SUPPORT_PERSON, monitoring_id, "plans", {"measures": measures, "notes": "按风险类型制定"}
        )
        plan_no = period["plans"][-1]["plan_no"]
        return await self.act(TOWNSHIP_APPROVER, monitoring_id, f"plans/{plan_no}/review", {"decision": "approve"})

    async def exit_to_notice(self, monitoring_id: str, on: date) -> dict[str, Any]:
        """Exit proposal, home verification and democratic review: the exit's village notice."""
        await self.act(SUPPORT_PERSON, monitoring_id, "exit/proposal", {"notes": "收入稳定超过监测标准"})
        await self.act(VILLAGE_CADRE, monitoring_id, "exit/home-verification", exit_verification(on))
        return await self.act(VILLAGE_CADRE, monitoring_id, "exit/democratic-review", democratic_review(on=on))

    async def exit_after_notice(self, monitoring_id: str) -> dict[str, Any]:
        await self.act(TOWNSHIP_APPROVER, monitoring_id, "exit/township-review", {"decision": "approve"})
        return await self.act(COUNTY_OFFICER, monitoring_id, "exit/county-decision", county_approval())


async def _walk_through(base_url: str, notice_seconds: float) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        cases = CaseDriver(http)
        driver = MonitoringDriver(cases)
        policy = await cases.post(
            ADMIN,
            "/api/v1/policies",
            {"notice_days": notice_seconds / 86400, "exit_min_monitoring_months": 0, "exit_income_months": 1},
        )
        policy.raise_for_status()
        print(f"published policy version {policy.json()['version']}: notice {notice_seconds:g} s, exit after one visit")
        households = (await cases.get(VILLAGE_CADRE, "/api/v1/households", status="not_monitored")).json()["items"]
        busy = {
            c["household_code"] for c in (await cases.get(VILLAGE_CADRE, "/api/v1/cases", open=True)).json()["items"]
        }
        household = next(h for h in households if h["code"] not in busy)
        case_id = await driver.to_notice(household["code"])
        await cases.wait_for_step(case_id, "township_review", timeout=notice_seconds + 30)
        await cases.after_notice(case_id)
        period = await driver.period_of(household["code"])
        monitoring_id = period["monitoring_id"]
        print(
            f"household {household['code']} is monitored: period {monitoring_id}, tasks:",
            [t["label"] for t in period["tasks"]],
        )
        period = await driver.support_with_plan(monitoring_id)
        for measure in period["plans"][-1]["measures"]:
            print(f"  measure {measure['measure_id']}: {measure['kind_label']} · {measure['content']}")
        today = date.fromisoformat(period["visit_tasks"][-1]["opens_on"])
        period = await driver.act(
            SUPPORT_PERSON,
            monitoring_id,
            f"measures/{period['plans'][-1]['measures'][0]['measure_id']}/delivery",
            delivery(today),
        )
        period = await driver.act(VILLAGE_CADRE, monitoring_id, "visits", visit(today))
        print("after a visit:", "exit possible" if period["assessment"]["eligible"] else period["assessment"]["unmet"])
        await driver.exit_to_notice(monitoring_id, today)
        await driver.wait_for(
            monitoring_id, lambda p: p["exits"][-1]["step"] == "township_review", timeout=notice_seconds + 30
        )
        period = await driver.exit_after_notice(monitoring_id)
        print(f"exit: {period['exits'][-1]['outcome_label']}; household status: {period['status_label']}")
        timeline = (await cases.get(COUNTY_OFFICER, f"/api/v1/monitoring/{monitoring_id}/timeline")).json()
        print(json.dumps([(e["seq"], e["action"], e["actor"]) for e in timeline["entries"]], ensure_ascii=False))


def main() -> None:
    run_walk_through(__doc__.splitlines()[0], _walk_through)


if __name__ == "__main__":
    main()
