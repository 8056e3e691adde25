"""A case driven through the HTTP API from lead to announcement, with valid
payloads for every step. Used by the README walk-through, the tests and the bench.

    uv run python -m services.demo_case [--base-url http://127.0.0.1:8000] [--notice-seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, datetime
from typing import Any

import httpx

from services.demo_data import DEMO_PASSWORD
from services.domain.months import local_date
from services.domain.vocabulary import Department

VILLAGE_CADRE, SECOND_CADRE = "dongkeng.cadre", "dongkeng.cadre2"
TOWNSHIP_APPROVER, COUNTY_OFFICER, ADMIN = "dongkeng.approver", "county.officer", "admin"
DEMO_VILLAGE = "610824100201"

Clock = Callable[[], Awaitable[datetime]]


async def machine_clock() -> datetime:
    return datetime.now(UTC)


def county_today() -> date:
    """Today in the county (Beijing time): the date a cadre writes on a form, whatever the machine's zone."""
    return local_date(datetime.now(UTC))


def home_verification(on: date | None = None, **overrides: Any) -> dict[str, Any]:
    return {
        "visited_on": (on or county_today()).isoformat(),
        "verifiers": ["张村干部", "刘网格员"],
        "household_size": 4,
        "income": {"wage": 12000, "business_net": 3000, "property_income": 0, "transfer": 4200},
        "compliant_spending": 9000,
        "living_conditions": {
            "food_and_clothing": True,
            "compulsory_education": True,
            "basic_medical_care": False,
            "safe_housing": True,
            "safe_drinking_water": True,
        },
        "risk_types": ["illness"],
        "labour_capacity": "partial",
        "able_workers": 2,
        "proposed_category": "marginal",
        "notes": "户主妻子患慢性病，长期自付医药费",
    } | overrides


def authorisation(decision: str = "signed", on: date | None = None) -> dict[str, Any]:
    return {"decision": decision, "signed_on": (on or county_today()).isoformat(), "signer_name": "户主"}


def cross_check_results(
    departments: list[str] | None = None,
    findings: list[dict[str, Any]] | None = None,
    reason: str = "部门逾期未反馈，已线下调取比对结果",
) -> dict[str, Any]:
    """Results recorded by hand by the county officer (the departments normally answer by themselves)."""
    return {
        "results": [
            {
                "department": d,
                "status": "completed",
                "findings": findings or [],
                "completed_at": "2026-11-29T10:00:00+08:00",
            }
            for d in (departments or [d.value for d in Department])
        ],
        "reason": reason,
    }


def democratic_review(
    votes_for: int = 9, votes_against: int = 1, abstentions: int = 0, on: date | None = None
) -> dict[str, Any]:
    present = votes_for + votes_against + abstentions
    return {
        "held_on": (on or county_today()).isoformat(),
        "eligible_representatives": 12,
        # The 村两委 and the 驻村第一书记 with the representatives; every attendee votes.
        "attendees": [
            {"name": "村支书", "role": "village_committee"},
            {"name": "第一书记", "role": "first_secretary"},
            *({"name": f"村民代表{i + 1}", "role": "villager_representative"} for i in range(present - 2)),
        ],
        "votes_for": votes_for,
        "votes_against": votes_against,
        "abstentions": abstentions,
        "minutes": "经评议，同意纳入监测对象",
    }


def objection(on: date | None = None) -> dict[str, Any]:
    return {"received_on": (on or county_today()).isoformat(), "raised_by": "匿名", "content": "该户家中有一辆小轿车"}


def township_review(decision: str = "approve") -> dict[str, Any]:
    return {"decision": decision, "opinion": "" if decision == "approve" else "材料不全，请补充"}


def county_decision(decision: str = "approve") -> dict[str, Any]:
    return {"decision": decision, "opinion": "" if decision == "approve" else "比对发现家庭有车辆，不符合条件"}


def announcement(on: date | None = None) -> dict[str, Any]:
    return {"announced_on": (on or county_today()).isoformat()}


def fast_track(started_on: date | None = None) -> dict[str, Any]:
    return {
        "started_on": (started_on or county_today()).isoformat(),
        "emergency": "房屋因暴雨倒塌，基本生活出现严重困难",
        "measures": ["临时救助3000元", "安排过渡安置住房"],
    }


class CaseDriver:
    """Signs in the demo accounts and acts on cases through the API. `clock` is the workflows'
    clock (a time-skipping server's runs ahead of the machine's): the dates written on forms
    are its day in the county."""

    def __init__(self, http: httpx.AsyncClient, clock: Clock = machine_clock) -> None:
        self.http = http
        self.clock = clock
        self._tokens: dict[str, str] = {}

    async def today(self) -> date:
        return local_date(await self.clock())

    async def headers(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            answer = await self.http.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
            answer.raise_for_status()
            self._tokens[username] = answer.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    async def post(self, username: str, path: str, body: Any, **headers: str) -> httpx.Response:
        return await self.http.post(path, json=body, headers=await self.headers(username) | headers)

    async def get(self, username: str, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params, headers=await self.headers(username))

    async def act(self, username: str, case_id: str, step_path: str, body: Any) -> dict[str, Any]:
        answer = await self.post(username, f"/api/v1/cases/{case_id}/{step_path}", body)
        if answer.status_code != 200:
            raise AssertionError(f"{step_path}: {answer.status_code} {answer.text}")
        return answer.json()

    async def open_case(self, household_code: str, channel: str = "cadre_screening") -> dict[str, Any]:
        answer = await self.post(
            VILLAGE_CADRE,
            "/api/v1/cases",
            {"household_code": household_code, "channel": channel, "lead_note": "走访发现"},
        )
        if answer.status_code != 201:
            raise AssertionError(f"open case: {answer.status_code} {answer.text}")
        return answer.json()

    async def through_review(self, case_id: str, verification: dict[str, Any] | None = None) -> dict[str, Any]:
        """Steps 2–5: from an open case to the village notice (`verification`: the home
        verification to record, default `home_verification()`). The review waits for the
        departments' cross-check (they answer by themselves)."""
        on = await self.today()
        await self.act(VILLAGE_CADRE, case_id, "home-verification", verification or home_verification(on))
        await self.authorise_and_wait_for_review(case_id, on)
        return await self.act(VILLAGE_CADRE, case_id, "democratic-review", democratic_review(on=await self.today()))

    async def authorise_and_wait_for_review(self, case_id: str, on: date | None = None) -> dict[str, Any]:
        """Records the signed authorisation; the case once every department has answered (the
        review's input is complete), or as it is after 30 seconds."""
        case = await self.act(VILLAGE_CADRE, case_id, "authorisation", authorisation(on=on or await self.today()))
        return await self.wait_for_step(case_id, "democratic_review", seen=case)

    async def wait_for(
        self,
        case_id: str,
        done: Callable[[dict[str, Any]], bool],
        timeout: float = 30.0,
        by_step: bool = False,
        seen: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The case as soon as `done(case)` holds, or as it is when the time is up: each request
        waits for the case's next change (`after_seq`), or with `by_step` for it to leave the step
        it is at (`after_step`: not answered at its every event), `wait_seconds` at most. `seen`:
        the case as last answered (by an action), so the wait starts from it without reading it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        case = seen if seen is not None else (await self.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}")).json()
        while not done(case) and (left := deadline - loop.time()) > 0:
            since = {"after_step": case["step"]} if by_step else {"after_seq": case["seq"]}
            answer = await self.get(
                COUNTY_OFFICER, f"/api/v1/cases/{case_id}", **since, wait_seconds=round(min(left, 20.0), 3)
            )
            answer.raise_for_status()
            case = answer.json()
        return case

    async def wait_for_cross_check(self, case_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """The case once every department of its cross-check has answered (or been settled)."""
        return await self.wait_for(
            case_id, lambda c: bool(c.get("cross_check")) and c["cross_check"]["completed_at"] is not None, timeout
        )

    async def after_notice(self, case_id: str) -> dict[str, Any]:
        """Steps 7–9: from township review to announcement."""
        await self.act(TOWNSHIP_APPROVER, case_id, "township-review", township_review())
        await self.act(COUNTY_OFFICER, case_id, "county-decision", county_decision())
        return await self.act(TOWNSHIP_APPROVER, case_id, "announcement", announcement(await self.today()))

    async def wait_for_step(
        self, case_id: str, step: str, timeout: float = 30.0, seen: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self.wait_for(case_id, lambda c: c["step"] == step, timeout, by_step=True, seen=seen)

    async def publish_notice_seconds(self, seconds: float) -> dict[str, Any]:
        answer = await self.post(ADMIN, "/api/v1/policies", {"notice_days": seconds / 86400})
        answer.raise_for_status()
        return answer.json()


async def _walk_through(base_url: str, notice_seconds: float) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        driver = CaseDriver(http)
        policy = await driver.publish_notice_seconds(notice_seconds)
        print(f"published policy version {policy['version']}: notice period {notice_seconds:g} s")
        households = (await driver.get(VILLAGE_CADRE, "/api/v1/households", status="not_monitored")).json()["items"]
        open_cases = (await driver.get(VILLAGE_CADRE, "/api/v1/cases", open=True)).json()["items"]
        busy = {c["household_code"] for c in open_cases}
        household = next(h for h in households if h["code"] not in busy)
        case = await driver.open_case(household["code"])
        print(f"opened case {case['case_id']} for household {household['code']} ({household['head_name']})")
        case = await driver.through_review(case["case_id"])
        answered = {d: r["status"] for d, r in case["cross_check"]["requests"].items()} if case["cross_check"] else {}
        print(f"department cross-check (the review waited for it): {json.dumps(answered)}")
        print(f"democratic review passed; village notice until {case['notice']['ends_at']}")
        case = await driver.wait_for_step(case["case_id"], "township_review", timeout=notice_seconds + 30, seen=case)
        case = await driver.after_notice(case["case_id"])
        print(
            f"announced: {case['outcome_label']}; household status:",
            (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{household['code']}")).json()["status_label"],
        )
        timeline = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case['case_id']}/timeline")).json()
        print(json.dumps([(e["seq"], e["action"], e["actor"]) for e in timeline["entries"]], ensure_ascii=False))


def run_walk_through(description: str, walk: Callable[[str, float], Coroutine[Any, Any, None]]) -> None:
    """The command line every walk-through shares: --base-url and --notice-seconds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--notice-seconds", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(walk(args.base_url, args.notice_seconds))


def main() -> None:
    run_walk_through(__doc__.splitlines()[0], _walk_through)


if __name__ == "__main__":
    main()
