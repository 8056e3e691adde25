"""Every endpoint × every role, inside and outside its area: allowed or refused, and a refusal
changes nothing.

The target is a case (with its household and task) in 金佛坪村, an account there, 靖边县's
vehicles department, a monitoring period of another household there (with its support person
appointed and a plan awaiting review) and a household's self-report from there. For each role one
person works inside that area and one outside it (another
village, another township, another county). An allowed call must get past access control (any
answer but 401/403/404: many are business refusals such as 409 wrong step, chosen so the case
stays put); a refused one is 403 (wrong role) or 404 (outside the area, where even existence must
not leak), and leaves the target, the caller's audit trail and every counted table as they were.
Lists answer about the caller's own area: the target shows inside it and never outside.
The mini-program's endpoints take applicant tokens only: they are their own row (staff refused).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from services.db.engine import create_engine
from services.demo_case import (
    TOWNSHIP_APPROVER,
    CaseDriver,
    announcement,
    authorisation,
    county_decision,
    county_today,
    cross_check_results,
    democratic_review,
    fast_track,
    home_verification,
    objection,
    township_review,
)
from services.demo_data import DEMO_PASSWORD
from services.demo_monitoring import MonitoringDriver, delivery, exit_verification, visit
from services.settings import Settings
from services.workflows.identification import IdentificationWorkflow
from tests.applicants import Household, application_form, sms_log, unregistered_head
from tests.conftest import api_for, new_household_body

VILLAGE = "610824100203"  # 金佛坪村, 东坑镇, 靖边县
MATRIX_CADRE = "jinfoping.cadre"
# role → (inside the target's area, outside it)
PEOPLE = {
    "village_cadre": (MATRIX_CADRE, "dongkeng.cadre"),
    "township_approver": ("dongkeng.approver", "qingyangcha.approver"),
    "county_officer": ("county.officer", "yuyang.officer"),
    "admin": ("admin", "yuyang.admin"),
    # The rest of the 四支队伍: inside 金佛坪村, outside in 东坑村 (accounts made by `world`).
    "village_team": ("jinfoping.team", "dongkeng.matrix.team"),
    "support_cadre": ("jinfoping.helper", "dongkeng.matrix.helper"),
    "grid_worker": ("jinfoping.grid", "dongkeng.matrix.grid"),
}
ALL = frozenset(PEOPLE)
CASEWORK = frozenset({"village_cadre", "township_approver", "county_officer"})
TEAMS = frozenset({"village_team", "support_cadre", "grid_worker"})  # with the cadres: the 四支队伍
REPORT_READERS = frozenset({"township_approver", "county_officer", "admin"})
TOWNSHIP_CODE = "610824100000"  # 东坑镇
KEPT_REPORT = f"weekly-{TOWNSHIP_CODE}-2025-01-06"


@dataclass
class World:
    household: str
    case_id: str
    task_id: int
    account: str
    vehicles_url: str
    monitoring_id: str
    application_id: str
    applicant: Household
    serial: int = 0
    job_id: int = 0  # an import job of 靖边县 (全农户排查)
    run_id: int = 0  # a screening run of 靖边县

    def next(self) -> int:
        self.serial += 1
        return self.serial


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with {case}, {household}, {task}, {account}, {village}, {monitoring}, {application}, {job}, {run}
    roles: frozenset[str]  # who may call it
    outside: str = "404"  # what an allowed role outside the area gets: 404, 403, or "own" (its own area's answer)
    body: Callable[[World, dict[str, Any]], Any] | None = None
    params: Callable[[World], dict[str, Any]] | None = None
    # For lists: whether the answer holds the target (asserted inside, and never outside).
    holds: Callable[[World, Any], bool] | None = None
    holds_for: frozenset[str] = ALL  # roles whose list shows the target inside

    @property
    def changes(self) -> bool:
        return self.method != "GET"


def _items(answer: Any) -> list[dict[str, Any]]:
    return answer["items"] if isinstance(answer, dict) else answer


def _case(path: str, roles: frozenset[str], body: Callable[[World, dict[str, Any]], Any]) -> Endpoint:
    return Endpoint("POST", f"/api/v1/cases/{{case}}/{path}", roles, body=body)


def _monitoring(path: str, roles: frozenset[str], body: Callable[[World, dict[str, Any]], Any]) -> Endpoint:
    return Endpoint("POST", f"/api/v1/monitoring/{{monitoring}}/{path}", roles, body=body)


def _versioned(extra: dict[str, Any] | None = None) -> Callable[[World, dict[str, Any]], Any]:
    return lambda w, now: {"version": now["task"][0], **(extra or {})}


CADRE, TOWNSHIP, COUNTY, ADMIN = (
    frozenset({r}) for r in ("village_cadre", "township_approver", "county_officer", "admin")
)
MATRIX = [
    Endpoint("GET", "/api/v1/auth/me", ALL, "own"),
    Endpoint(
        "POST",
        "/api/v1/auth/password",
        ALL,
        "own",
        body=lambda w, now: {"current_password": "wrong-password", "new_password": "Matrix@2026x"},
    ),
    Endpoint("GET", "/api/v1/areas", ALL, "own"),
    Endpoint("GET", "/api/v1/policies/current", ALL, "own"),
    # Policy versions are deployment-wide (one county per deployment): see README.
    Endpoint("POST", "/api/v1/policies", ADMIN, "own", body=lambda w, now: {}),
    Endpoint(
        "GET",
        "/api/v1/households",
        ALL,
        "403",
        params=lambda w: {"area": VILLAGE, "limit": 200},
        holds=lambda w, a: w.household in {h["code"] for h in _items(a)},
    ),
    Endpoint("POST", "/api/v1/households", CADRE | TOWNSHIP, "403", body=lambda w, now: new_household_body(VILLAGE)),
    Endpoint("GET", "/api/v1/households/{household}", ALL),
    # No such member: refused (422) after every access check, so the household stays as it was.
    Endpoint(
        "POST",
        "/api/v1/households/{household}/member-changes",
        CADRE | TOWNSHIP,
        body=lambda w, now: {"kind": "move_out", "occurred_on": "2025-01-01", "reason": "迁出", "member_id": 999_999},
    ),
    # An exit year without the 脱贫户 flag: refused (422) after every access check.
    Endpoint(
        "PATCH",
        "/api/v1/households/{household}/flags",
        TOWNSHIP | COUNTY,
        body=lambda w, now: {"poverty_exit_year": 2019, "reason": "矩阵"},
    ),
    Endpoint(
        "GET",
        "/api/v1/cases",
        ALL,
        "own",
        params=lambda w: {"household_code": w.household},
        holds=lambda w, a: w.case_id in {c["case_id"] for c in _items(a)},
    ),
    Endpoint(
        "POST",
        "/api/v1/cases",
        CASEWORK | TEAMS,
        body=lambda w, now: {"household_code": w.household, "channel": "cadre_screening"},
    ),
    Endpoint("GET", "/api/v1/cases/{case}", ALL),
    Endpoint("GET", "/api/v1/cases/{case}/review-input", ALL),
    Endpoint("GET", "/api/v1/cases/{case}/timeline", ALL),
    Endpoint("GET", "/api/v1/cases/{case}/evidence", CASEWORK | TEAMS),
    # One verifier: the workflow refuses it (422) after every access check, so the case stays put.
    _case("home-verification", CADRE, lambda w, now: home_verification(verifiers=["张村干部"])),
    _case("authorisation", CADRE, lambda w, now: authorisation()),
    _case("cross-check-results", COUNTY, lambda w, now: cross_check_results(["vehicles"])),
    _case("cross-check-resends", COUNTY, lambda w, now: {"department": "vehicles"}),
    _case("democratic-review", CADRE, lambda w, now: democratic_review()),
    _case("objections", CADRE, lambda w, now: objection()),
    _case("objections/1/resolution", CADRE, lambda w, now: {"decision": "dismissed", "findings": "不实"}),
    _case("township-review", TOWNSHIP, lambda w, now: township_review()),
    _case("county-decision", COUNTY, lambda w, now: county_decision()),
    _case("announcement", TOWNSHIP, lambda w, now: announcement()),
    # Dated after today: the workflow refuses it (422) after every access check.
    _case("fast-track", TOWNSHIP, lambda w, now: fast_track(started_on=date(2100, 1, 1))),
    _case("leads", CASEWORK | TEAMS, lambda w, now: {"channel": "platform_analysis", "note": "矩阵测试"}),
    Endpoint(
        "GET",
        "/api/v1/tasks",
        CASEWORK | TEAMS,
        "403",
        params=lambda w: {"village": VILLAGE, "limit": 200},
        holds=lambda w, a: w.task_id in {t["task_id"] for t in _items(a)},
        holds_for=CADRE,
    ),
    Endpoint("GET", "/api/v1/tasks/overdue", TOWNSHIP | COUNTY, "own"),
    Endpoint("GET", "/api/v1/tasks/{task}", CASEWORK | TEAMS),
    Endpoint("POST", "/api/v1/tasks/{task}/claim", CADRE, body=_versioned()),
    Endpoint("POST", "/api/v1/tasks/{task}/release", CADRE, body=_versioned()),
    Endpoint("POST", "/api/v1/tasks/{task}/assign", TOWNSHIP | COUNTY, body=_versioned({"username": None})),
    Endpoint(
        "GET",
        "/api/v1/audit",
        COUNTY,
        "own",
        params=lambda w: {"case_id": w.case_id},
        holds=lambda w, a: len(_items(a)) > 0,
    ),
    Endpoint("GET", "/api/v1/villages/{village}/notice", CASEWORK),
    Endpoint("GET", "/api/v1/villages/{village}/notice.html", CASEWORK),
    Endpoint("GET", "/api/v1/villages/{village}/announcement", CASEWORK),
    Endpoint("GET", "/api/v1/villages/{village}/announcement.html", CASEWORK),
    Endpoint("GET", "/api/v1/villages/{village}/exit-notice", CASEWORK),
    Endpoint("GET", "/api/v1/villages/{village}/exit-notice.html", CASEWORK),
    Endpoint("GET", "/api/v1/households/{household}/file.pdf", ALL),
    Endpoint("GET", "/api/v1/households/{household}/qr.png", ALL),
    Endpoint("GET", "/api/v1/households/{household}/qr.svg", ALL),
    # The province exchange, county officers for their own county. The export makes batch 1 of
    # 靖边县 (or answers 409 while one waits); a receipt with a wrong checksum is refused (422),
    # a warning for no household changes nothing, and the roster check lists differences
    # (discrepancy 1 is 靖边县's; resolving it again answers 409).
    Endpoint("POST", "/api/v1/province/exports", COUNTY, "own"),
    Endpoint("GET", "/api/v1/province/exports", COUNTY, "own"),
    Endpoint("GET", "/api/v1/province/exports/1/file", COUNTY),
    Endpoint(
        "POST",
        "/api/v1/province/exports/1/ack",
        COUNTY,
        body=lambda w, now: {"batch_no": 1, "sha256": "0" * 64, "record_count": 0, "receipt_id": "矩阵"},
    ),
    Endpoint(
        "POST",
        "/api/v1/province/warnings",
        COUNTY,
        "own",
        body=lambda w, now: {
            "county_code": "610824000000",
            "list_id": "矩阵",
            "warnings": [
                {
                    "warning_id": "矩阵",
                    "household_code": "610824100203999999",
                    "reason": "矩阵",
                    "issued_on": "2026-01-15",
                }
            ],
        },
    ),
    Endpoint(
        "POST",
        "/api/v1/province/rosters",
        COUNTY,
        "own",
        body=lambda w, now: {
            "county_code": "610824000000",
            "roster_id": "矩阵",
            "as_of": "2026-01-15",
            "households": [],
        },
    ),
    Endpoint("GET", "/api/v1/province/discrepancies", COUNTY, "own"),
    # The Temporal UI's codec: county officers; an empty batch names no area, so any county officer may.
    Endpoint("POST", "/codec/decode", COUNTY, "own", body=lambda w, now: {"payloads": []}),
    Endpoint("POST", "/codec/encode", COUNTY, "own", body=lambda w, now: {"payloads": []}),
    Endpoint(
        "POST", "/api/v1/province/discrepancies/1/resolution", COUNTY, body=lambda w, now: {"resolution": "矩阵核实"}
    ),
    Endpoint("GET", "/api/v1/reports/statistics", ALL, "403", params=lambda w: {"area": VILLAGE}),
    Endpoint("GET", "/api/v1/reports/rosters/monitoring_targets", ALL, "403", params=lambda w: {"area": VILLAGE}),
    # Produces 东坑镇's weekly report of a past week, which the entries after it read.
    Endpoint(
        "POST", "/api/v1/reports/kept", COUNTY, "own", body=lambda w, now: {"kind": "weekly", "day": "2025-01-08"}
    ),
    Endpoint("GET", "/api/v1/reports/kept", REPORT_READERS, "403", params=lambda w: {"area": TOWNSHIP_CODE}),
    *(
        Endpoint("GET", f"/api/v1/reports/kept/{KEPT_REPORT}{part}", REPORT_READERS)
        for part in ("", "/workbook", "/page")
    ),
    Endpoint(
        "GET",
        "/api/v1/accounts",
        ADMIN,
        "own",
        params=lambda w: {"limit": 200},
        holds=lambda w, a: w.account in {x["username"] for x in _items(a)},
    ),
    Endpoint(
        "POST",
        "/api/v1/accounts",
        ADMIN,
        "403",
        body=lambda w, now: {
            "username": f"matrix.new{w.next()}",
            "display_name": "金佛坪村 新网格员",
            "role": "village_cadre",
            "area_code": VILLAGE,
            "password": DEMO_PASSWORD,
        },
    ),
    Endpoint("GET", "/api/v1/accounts/{account}", ADMIN),
    Endpoint("PATCH", "/api/v1/accounts/{account}", ADMIN, body=lambda w, now: {"display_name": "金佛坪村 矩阵网格员"}),
    Endpoint("GET", "/api/v1/county-settings", ADMIN, "own"),
    Endpoint(
        "PUT",
        "/api/v1/county-settings",
        ADMIN,
        "own",
        body=lambda w, now: {"second_admin_for_admin_grants": False, "reason": "测试"},
    ),
    Endpoint("GET", "/api/v1/admin-grants", ADMIN, "own"),
    # `admin` is an admin already: allowed, the request is refused (409) and makes nobody admin.
    Endpoint("POST", "/api/v1/admin-grants", ADMIN, body=lambda w, now: {"username": "admin", "reason": "矩阵"}),
    Endpoint("POST", "/api/v1/admin-grants/{account}/approval", ADMIN, body=lambda w, now: {}),
    Endpoint("POST", "/api/v1/admin-grants/{account}/refusal", ADMIN, body=lambda w, now: {"note": "矩阵"}),
    Endpoint("POST", "/api/v1/sign-in-locks/release", ADMIN, body=lambda w, now: {"username": w.account}),
    Endpoint(
        "GET",
        "/api/v1/departments",
        COUNTY | ADMIN,
        "own",
        holds=lambda w, a: any(d["base_url"] == w.vehicles_url for d in _items(a)),
    ),
    Endpoint("GET", "/api/v1/departments/vehicles", COUNTY | ADMIN),
    # Without a secret: an update of 靖边县's row inside; outside, a new row of one's own county (refused: 422).
    Endpoint(
        "PUT",
        "/api/v1/departments/vehicles",
        ADMIN,
        "own",
        body=lambda w, now: {"base_url": w.vehicles_url, "enabled": True},
    ),
    Endpoint("GET", "/api/v1/cross-check-tasks", COUNTY, "own"),
    Endpoint("GET", "/api/v1/early-warnings", COUNTY | ADMIN, "own"),
    Endpoint("GET", "/api/v1/households/{household}/file", ALL),
    Endpoint("GET", "/api/v1/households/{household}/follow-up", ALL),
    # The target is no 脱贫户: naming a contact answers 409 after every access check.
    Endpoint(
        "PUT",
        "/api/v1/households/{household}/contact-person",
        TOWNSHIP,
        body=lambda w, now: {"username": "jinfoping.grid"},
    ),
    # Nor is it followed (not a 脱贫户, no risk eliminated): a visit answers 409 after the access checks.
    Endpoint(
        "POST",
        "/api/v1/households/{household}/follow-up-visits",
        CADRE | TEAMS,
        body=lambda w, now: {
            "visited_on": "2026-01-15",
            "visitors": ["矩阵"],
            "findings": "矩阵测试",
            "living_conditions": dict.fromkeys(
                (
                    "food_and_clothing",
                    "compulsory_education",
                    "basic_medical_care",
                    "safe_housing",
                    "safe_drinking_water",
                ),
                True,
            ),
        },
    ),
    Endpoint(
        "GET",
        "/api/v1/monitoring",
        ALL,
        "403",
        params=lambda w: {"area": VILLAGE, "limit": 200},
        holds=lambda w, a: w.monitoring_id in {m["monitoring_id"] for m in _items(a)},
    ),
    Endpoint(
        "GET",
        "/api/v1/monitoring/visit-tasks",
        ALL,
        "403",
        params=lambda w: {"area": VILLAGE, "limit": 200},
        holds=lambda w, a: w.monitoring_id in {t["monitoring_id"] for t in _items(a)},
    ),
    Endpoint("GET", "/api/v1/monitoring/visit-coverage", ALL, "403", params=lambda w: {"area": VILLAGE}),
    Endpoint("GET", "/api/v1/monitoring/{monitoring}", ALL),
    Endpoint("GET", "/api/v1/monitoring/{monitoring}/timeline", ALL),
    Endpoint("GET", "/api/v1/monitoring/{monitoring}/evidence", CASEWORK | TEAMS),
    Endpoint("GET", "/api/v1/monitoring/{monitoring}/proposed-measures", ALL),
    # Another village's cadre as support person: refused (422) after every access check.
    _monitoring("support-person", TOWNSHIP, lambda w, now: {"username": "dongkeng.cadre"}),
    # A plan awaits review: the support person may not submit another (409).
    _monitoring(
        "plans",
        CADRE,
        lambda w, now: {
            "measures": [
                {"kind": "employment", "content": "公益性岗位", "owner": "镇人社所", "starts_on": "2026-01-01"}
            ]
        },
    ),
    # The township approver inside approves the plan awaiting review (the one allowed change here).
    _monitoring("plans/1/review", TOWNSHIP, lambda w, now: {"decision": "approve", "opinion": ""}),
    # A delivery dated before the monitoring began: refused after the access checks.
    _monitoring("measures/1/delivery", CADRE, lambda w, now: delivery(date(2020, 1, 15))),
    # A visit outside this period: refused (422) after the access checks.
    _monitoring("visits", CADRE | TEAMS, lambda w, now: visit(date(2020, 1, 15))),
    _monitoring("exit/proposal", CADRE, lambda w, now: {}),
    # No exit is open: every exit step answers 409.
    _monitoring("exit/home-verification", CADRE, lambda w, now: exit_verification(date(2020, 1, 15))),
    _monitoring("exit/democratic-review", CADRE, lambda w, now: democratic_review()),
    _monitoring("exit/objections", CADRE, lambda w, now: objection()),
    _monitoring("exit/objections/1/resolution", CADRE, lambda w, now: {"decision": "dismissed", "findings": "不实"}),
    _monitoring("exit/township-review", TOWNSHIP, lambda w, now: township_review()),
    _monitoring("exit/county-decision", COUNTY, lambda w, now: county_decision()),
    _monitoring("exit-reversal", COUNTY, lambda w, now: {"reason": "矩阵测试"}),
    Endpoint(
        "GET",
        "/api/v1/self-reports",
        CASEWORK | TEAMS,
        "403",
        params=lambda w: {"area": VILLAGE, "limit": 200},
        holds=lambda w, a: w.application_id in {r["application_id"] for r in _items(a)},
    ),
    Endpoint("GET", "/api/v1/self-reports/{application}", CASEWORK | TEAMS),
    # The household is not registered: accepting answers 409 `household_not_registered`.
    Endpoint(
        "POST",
        "/api/v1/self-reports/{application}/decision",
        TOWNSHIP | COUNTY,
        body=lambda w, now: {"decision": "accept"},
    ),
    # 全农户排查: imports and runs are the county's; the preview and the visit lists answer one's own area.
    Endpoint("POST", "/api/v1/screening/imports", COUNTY, "own", body=lambda w, now: _screening_import()),
    Endpoint("GET", "/api/v1/screening/imports/{job}", COUNTY | ADMIN),
    Endpoint("GET", "/api/v1/screening/imports/{job}/rejections", COUNTY | ADMIN),
    Endpoint("POST", "/api/v1/screening/preview", COUNTY | ADMIN | TOWNSHIP, "own", body=lambda w, now: {"year": 2099}),
    Endpoint("POST", "/api/v1/screening/runs", COUNTY, "own", body=lambda w, now: {"year": 2099}),
    Endpoint("GET", "/api/v1/screening/runs", COUNTY | ADMIN, "own"),
    Endpoint("GET", "/api/v1/screening/runs/{run}", COUNTY | ADMIN),
    Endpoint("GET", "/api/v1/screening/runs/{run}/households", COUNTY | ADMIN),
    Endpoint(
        "POST",
        "/api/v1/screening/visits",
        CADRE | frozenset({"grid_worker"}),
        body=lambda w, now: {
            "household_code": w.household,
            "visited_on": county_today().isoformat(),
            "findings": "矩阵测试走访",
            "risk_found": False,
        },
    ),
    Endpoint(
        "GET",
        "/api/v1/screening/households",
        CASEWORK | frozenset({"grid_worker"}),
        "403",
        params=lambda w: {"area": VILLAGE, "limit": 500},
        holds=lambda w, a: w.household in {h["household_code"] for h in _items(a)},
    ),
]


def _screening_import() -> dict[str, Any]:
    return {"kind": "households", "mode": "row_by_row", "file_name": "矩阵.csv", "content_base64": "5oi357yW5Y+3Cg=="}


# Department systems sign their requests; a person's bearer token opens nothing there.
# Multipart uploads and downloads of what they keep: their area and role boundaries are tested in
# tests/evidence/test_evidence_api.py and tests/screening/test_import_upload.py (the matrix sends JSON bodies).
OWN_FILE = [
    ("POST", "/api/v1/cases/{case_id}/evidence"),
    ("POST", "/api/v1/monitoring/{monitoring_id}/evidence"),
    ("GET", "/api/v1/evidence/{evidence_id}"),
    ("POST", "/api/v1/screening/imports/upload"),
]
SIGNED = [("POST", "/api/v1/early-warnings"), ("POST", "/api/v1/callbacks/cross-checks/{request_id}")]
PUBLIC = [
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/self-service/sign-in/code"),
    ("POST", "/api/v1/self-service/sign-in"),
    ("GET", "/api/v1/self-service/areas"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
]
# The mini-program's endpoints: a household's (applicant) token only.
APPLICANT = [
    ("POST", "/api/v1/self-service/applications"),
    ("GET", "/api/v1/self-service/applications"),
    ("GET", "/api/v1/self-service/applications/{application_id}"),
    ("POST", "/api/v1/self-service/applications/{application_id}/withdrawal"),
]


async def _sign_up(driver: CaseDriver, username: str, role: str = "village_cadre", area: str = VILLAGE) -> None:
    answer = await driver.post(
        "admin",
        "/api/v1/accounts",
        {
            "username": username,
            "display_name": "矩阵账号",
            "role": role,
            "area_code": area,
            "password": DEMO_PASSWORD,
        },
    )
    assert answer.status_code in (201, 409), answer.text


async def _monitored(driver: CaseDriver) -> str:
    """A household of 金佛坪村 identified as a monitoring target (a notice of half a second), its
    support person appointed and a plan submitted: its monitoring period's id."""
    await driver.publish_notice_seconds(0.5)
    household = (await driver.post(MATRIX_CADRE, "/api/v1/households", new_household_body(VILLAGE))).json()["code"]
    case = await driver.post(MATRIX_CADRE, "/api/v1/cases", {"household_code": household, "channel": "cadre_screening"})
    assert case.status_code == 201, case.text
    case_id = case.json()["case_id"]
    await driver.act(MATRIX_CADRE, case_id, "home-verification", home_verification())
    await driver.act(MATRIX_CADRE, case_id, "authorisation", authorisation())
    await driver.wait_for_step(case_id, "democratic_review")  # the review waits for the cross-check
    await driver.act(MATRIX_CADRE, case_id, "democratic-review", democratic_review())
    await driver.wait_for_step(case_id, "township_review")
    assert (await driver.post("admin", "/api/v1/policies", {})).status_code == 201  # the default notice again
    await driver.after_notice(case_id)
    monitoring = MonitoringDriver(driver)
    monitoring_id = (await monitoring.period_of(household))["monitoring_id"]
    await monitoring.act(TOWNSHIP_APPROVER, monitoring_id, "support-person", {"username": MATRIX_CADRE})
    proposed = (await driver.get(MATRIX_CADRE, f"/api/v1/monitoring/{monitoring_id}/proposed-measures")).json()
    measures = [{k: v for k, v in m.items() if k != "kind_label"} for m in proposed["measures"]]
    await monitoring.act(MATRIX_CADRE, monitoring_id, "plans", {"measures": measures, "notes": "按风险类型制定"})
    return monitoring_id


async def _applied(settings: Settings, temporal: WorkflowEnvironment) -> tuple[Household, str]:
    """A household of 金佛坪村 (not registered) applies on the mini-program: it and its application."""
    name, id_number = unregistered_head()
    with sms_log() as sms:
        async with api_for(settings, temporal.client, client_address="127.0.7.1") as api:
            household = await Household(api.http, sms).sign_in()
            applied = await household.apply(application_form(name, id_number, household.phone, VILLAGE))
    return household, applied["application_id"]


@pytest_asyncio.fixture(scope="module")
async def world(
    driver: CaseDriver,
    other_county: dict[str, str],
    settings: Settings,
    temporal: WorkflowEnvironment,
    live_api: FastAPI,
) -> World:
    # `live_api`: the departments answer the monitored household's cross-check through it.
    await _sign_up(driver, MATRIX_CADRE)
    await _sign_up(driver, "jinfoping.target")
    for role in TEAMS:
        inside, outside = PEOPLE[role]
        await _sign_up(driver, inside, role)
        await _sign_up(driver, outside, role, "610824100201")
    monitoring_id = await _monitored(driver)
    applicant, application_id = await _applied(settings, temporal)
    household = (await driver.post(MATRIX_CADRE, "/api/v1/households", new_household_body(VILLAGE))).json()["code"]
    case = await driver.post(MATRIX_CADRE, "/api/v1/cases", {"household_code": household, "channel": "self_report"})
    assert case.status_code == 201, case.text
    tasks = (await driver.get(MATRIX_CADRE, "/api/v1/tasks", village=VILLAGE, limit=200)).json()["items"]
    task_id = next(t["task_id"] for t in tasks if t["case_id"] == case.json()["case_id"])
    vehicles = (await driver.get("admin", "/api/v1/departments/vehicles")).json()
    job = await driver.post("county.officer", "/api/v1/screening/imports", _screening_import())
    run = await driver.post("county.officer", "/api/v1/screening/runs", {"year": 2099})
    return World(
        household,
        case.json()["case_id"],
        task_id,
        "jinfoping.target",
        vehicles["base_url"],
        monitoring_id,
        application_id,
        applicant,
        job_id=job.json()["job_id"],
        run_id=run.json()["run_id"],
    )


@pytest_asyncio.fixture(scope="module")
async def snapshot(
    settings: Settings, temporal: WorkflowEnvironment, world: World
) -> AsyncIterator[Callable[[str], Any]]:
    """What a refusal must leave unchanged, as seen from the database and the workflow."""
    engine = create_engine(settings.require_database_url(), pool_size=1)
    sql = text("""
        SELECT (SELECT row(last_seq, step, state)::text FROM case_records WHERE case_id = :case_id),
               (SELECT row(version, claimed_by, closed_at)::text FROM tasks WHERE id = :task_id),
               (SELECT count(*) FROM tasks WHERE case_id = :case_id),
               (SELECT row(display_name, role, area_code, disabled, token_version, updated_at)::text
                FROM accounts WHERE username = :account),
               (SELECT count(*) FROM accounts),
               (SELECT row(base_url, secret_sealed, updated_by, updated_at)::text FROM departments
                WHERE county_code = '610824000000' AND kind = 'vehicles'),
               (SELECT count(*) FROM departments),
               (SELECT max(version) FROM policy_versions),
               (SELECT count(*) FROM households WHERE village_code = :village),
               (SELECT count(*) FROM audit_entries WHERE actor_username = :caller),
               (SELECT row(last_seq, state)::text FROM monitoring_records WHERE monitoring_id = :monitoring_id),
               (SELECT row(status, case_id, last_seq)::text FROM self_reports
                WHERE application_id = :application_id)
    """)

    async def take(caller: str) -> Any:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    sql,
                    {
                        "case_id": world.case_id,
                        "task_id": world.task_id,
                        "account": world.account,
                        "village": VILLAGE,
                        "caller": caller,
                        "monitoring_id": world.monitoring_id,
                        "application_id": world.application_id,
                    },
                )
            ).one()
        handle = temporal.client.get_workflow_handle(f"identification-{world.household}")
        state = await handle.query(IdentificationWorkflow.state)
        return tuple(row), state.model_dump(mode="json")

    yield take
    await engine.dispose()


def _label(endpoint: Endpoint) -> str:
    return f"{endpoint.method} {endpoint.path}"


@pytest.mark.parametrize("endpoint", MATRIX, ids=_label)
async def test_endpoint_by_role_and_area(
    driver: CaseDriver, world: World, snapshot: Callable[[str], Any], endpoint: Endpoint
) -> None:
    path = endpoint.path.format(
        case=world.case_id,
        household=world.household,
        task=world.task_id,
        account=world.account,
        village=VILLAGE,
        monitoring=world.monitoring_id,
        application=world.application_id,
        job=world.job_id,
        run=world.run_id,
    )
    for role, people in PEOPLE.items():
        for inside, username in zip((True, False), people, strict=False):
            where = f"{username} ({role}, {'inside' if inside else 'outside'})"
            before = await snapshot(username)
            now = {"task": before[0][1].strip("()").split(",")}
            headers = await driver.headers(username)
            params = endpoint.params(world) if endpoint.params else None
            body = endpoint.body(world, now) if endpoint.body else None
            answer = await driver.http.request(endpoint.method, path, params=params, json=body, headers=headers)
            allowed = role in endpoint.roles and (inside or endpoint.outside == "own")
            if allowed:
                assert answer.status_code not in (401, 403, 404), (where, answer.status_code, answer.text)
                if endpoint.holds and answer.status_code == 200:
                    shown = endpoint.holds(world, answer.json())
                    assert shown is (inside and role in endpoint.holds_for), (where, "target listed?", shown)
                continue
            expected = {403} if inside or endpoint.outside == "403" else {404}
            if role not in endpoint.roles and not inside:
                expected = {403, 404}
            assert answer.status_code in expected, (where, answer.status_code, answer.text)
            if endpoint.changes:
                assert await snapshot(username) == before, (where, "a refusal changed something")


async def test_signed_endpoints_refuse_bearer_tokens(driver: CaseDriver, world: World) -> None:
    for method, path in SIGNED:
        for people in PEOPLE.values():
            for username in people:
                answer = await driver.http.request(
                    method, path.format(request_id="nope"), json={}, headers=await driver.headers(username)
                )
                assert answer.status_code == 401, (path, username, answer.text)


async def test_applicant_endpoints_take_applicant_tokens_only(driver: CaseDriver, world: World) -> None:
    """Staff tokens open none of the mini-program's endpoints (and a refusal withdraws nothing);
    the household's token opens its own applications and no staff endpoint."""
    for method, path in APPLICANT:
        url = path.format(application_id=world.application_id)
        for people in PEOPLE.values():
            for username in people:
                answer = await driver.http.request(method, url, json={}, headers=await driver.headers(username))
                assert answer.status_code == 401, (path, username, answer.text)
    own = await driver.http.get("/api/v1/self-service/applications", headers=world.applicant.headers)
    assert own.status_code == 200 and world.application_id in {a["application_id"] for a in own.json()["items"]}
    mine = await driver.http.get(
        f"/api/v1/self-service/applications/{world.application_id}", headers=world.applicant.headers
    )
    assert mine.status_code == 200 and mine.json()["status"] == "pending", mine.text
    for method, path in (
        ("GET", "/api/v1/cases"),
        ("GET", "/api/v1/self-reports"),
        ("GET", "/api/v1/auth/me"),
        ("GET", f"/api/v1/self-reports/{world.application_id}"),
    ):
        answer = await driver.http.request(method, path, headers=world.applicant.headers)
        assert answer.status_code == 401, (path, answer.text)


async def test_the_matrix_covers_every_endpoint(live_api: FastAPI) -> None:
    served = {(m.upper(), p) for p, methods in live_api.openapi()["paths"].items() for m in methods}
    covered = {
        (
            e.method,
            e.path.replace("{case}", "{case_id}")
            .replace("{household}", "{code}")
            .replace("{task}", "{task_id}")
            .replace("{account}", "{username}")
            .replace("{village}", "{village_code}")
            .replace("/vehicles", "/{kind}")
            .replace("{monitoring}", "{monitoring_id}")
            .replace("{application}", "{application_id}")
            .replace("{job}", "{job_id}")
            .replace("{run}", "{run_id}")
            .replace("plans/1/", "plans/{plan_no}/")
            .replace("measures/1/", "measures/{measure_id}/")
            .replace("objections/1/", "objections/{objection_id}/")
            .replace("exports/1/", "exports/{batch_no}/")
            .replace("discrepancies/1/", "discrepancies/{discrepancy_id}/")
            .replace("/rosters/monitoring_targets", "/rosters/{kind}")
            .replace(KEPT_REPORT, "{report_key}"),
        )
        for e in MATRIX
    }
    assert served - covered - set(SIGNED) - set(PUBLIC) - set(APPLICANT) - set(OWN_FILE) == set()
