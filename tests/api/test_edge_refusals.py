"""What the edge refuses, one reported defect at a time (issue 9): each of these once hung a
request, wedged a case, answered 500 or was accepted. The properties over every endpoint are
in test_edge_properties.py."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from services.demo_case import (
    ADMIN,
    COUNTY_OFFICER,
    DEMO_VILLAGE,
    VILLAGE_CADRE,
    CaseDriver,
    authorisation,
    home_verification,
)
from services.demo_data import DEMO_DEPARTMENT_SECRETS, demo_id_number
from services.departments.signing import signed_headers
from services.domain.identification.forms import HomeVerification
from services.domain.identification.state import Actor
from services.domain.vocabulary import Role
from services.settings import Settings
from services.workflows.identification import IdentificationWorkflow
from tests.conftest import NewHousehold, case_snapshot, new_household_body
from tests.departments.signed import query

# Long enough for a case to answer, short enough that a request that hangs fails the test.
ANSWER_WITHIN = 30


def _refused(answer: httpx.Response, field: str, words: str = "", status: int = 422) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert detail["code"] == "invalid"
    assert field in {e["field"] for e in detail["errors"]}, detail
    assert words in detail["message"], detail
    return detail


async def test_a_nul_in_the_lead_note_is_refused_and_the_household_can_still_open_a_case(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    """It used to start the case and then hang: the read model refused the note for ever, and the
    household answered 409 naming a case that answered 404."""
    household = await new_household()
    answer = await asyncio.wait_for(
        driver.post(
            VILLAGE_CADRE,
            "/api/v1/cases",
            {"household_code": household, "channel": "cadre_screening", "lead_note": "走访\x00发现"},
        ),
        ANSWER_WITHIN,
    )
    detail = _refused(answer, "lead_note")
    assert detail["message"] == "lead_note：含有无法保存的控制字符"
    case = await asyncio.wait_for(driver.open_case(household), ANSWER_WITHIN)
    assert (await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{case['case_id']}")).status_code == 200


async def test_a_nul_in_a_step_form_is_refused_by_the_api_and_by_the_workflow(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment
) -> None:
    case = await driver.open_case(await new_household())
    case_id = case["case_id"]
    before = await case_snapshot(driver, temporal.client, case_id)
    for field, value in (("notes", "户主\x00患病"), ("verifiers", ["张村干部", "刘\x00网格员"])):
        answer = await asyncio.wait_for(
            driver.post(
                VILLAGE_CADRE, f"/api/v1/cases/{case_id}/home-verification", home_verification(**{field: value})
            ),
            ANSWER_WITHIN,
        )
        _refused(answer, field if field == "notes" else "verifiers[1]", "控制字符")
    # The form is also the workflow's update argument: sent past the API, the workflow refuses it.
    unchecked = HomeVerification.model_construct(
        **(HomeVerification.model_validate(home_verification()).__dict__ | {"notes": "户主\x00患病"})
    )
    cadre = Actor(
        username=VILLAGE_CADRE, display_name="东坑村 张村干部", role=Role.village_cadre, area_code=DEMO_VILLAGE
    )
    handle = temporal.client.get_workflow_handle(f"identification-{case['household_code']}")
    with pytest.raises(WorkflowUpdateFailedError):
        await asyncio.wait_for(
            handle.execute_update(
                IdentificationWorkflow.verify_home, args=[cadre, unchecked], id=f"nul-{uuid.uuid4().hex}"
            ),
            ANSWER_WITHIN,
        )
    assert await case_snapshot(driver, temporal.client, case_id) == before
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification())


async def test_nul_in_a_registry_write_is_422_not_500(driver: CaseDriver) -> None:
    for field in ("address", "members[0].name", "members[0].health", "members[0].disability", "members[0].schooling"):
        body = new_household_body()
        if field == "address":
            body["address"] = "测试\x00地址"
        else:
            body["members"][0][field.rsplit(".", 1)[1]] = "一\x00二"
        _refused(await driver.post(VILLAGE_CADRE, "/api/v1/households", body), field, "控制字符")
    account = {
        "username": "nul.check",
        "display_name": "张\x00三",
        "role": "village_cadre",
        "area_code": DEMO_VILLAGE,
        "password": "Abcdef12!x",
    }
    _refused(await driver.post(ADMIN, "/api/v1/accounts", account), "display_name")
    _refused(
        await driver.http.patch(
            "/api/v1/accounts/dongkeng.cadre2", json={"display_name": "张\x00三"}, headers=await driver.headers(ADMIN)
        ),
        "display_name",
    )
    _refused(await driver.http.post("/api/v1/auth/login", json={"username": "admin\x00", "password": "x"}), "username")
    _refused(
        await driver.http.put(
            "/api/v1/departments/vehicles",
            json={"name": "车\x00管", "base_url": "http://a.example"},
            headers=await driver.headers(ADMIN),
        ),
        "name",
    )
    _refused(
        await driver.post(COUNTY_OFFICER, "/api/v1/tasks/1/assign", {"version": 1, "username": "a\x00"}), "username"
    )
    _refused(
        await driver.post(VILLAGE_CADRE, "/api/v1/cases", {"household_code": "\x00", "channel": "cadre_screening"}),
        "household_code",
    )


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/households/%00", "code"),
        ("/api/v1/tasks?step=a%00", "step"),
        ("/api/v1/cases?household_code=%00", "household_code"),
        ("/api/v1/cases/%00/timeline", "case_id"),
    ],
)
async def test_a_nul_in_a_path_or_query_names_the_parameter(driver: CaseDriver, path: str, parameter: str) -> None:
    answer = await driver.http.get(path, headers=await driver.headers(VILLAGE_CADRE))
    assert _refused(answer, parameter)["message"] == f"{parameter}：含有无法保存的控制字符"


async def test_a_query_parameter_the_route_does_not_read_is_refused_by_name(
    driver: CaseDriver, new_household: NewHousehold
) -> None:
    """Found by the fuzz job: a misspelt filter was ignored, so the list answered unfiltered; a
    write with an unknown parameter is refused before it acts."""
    household = await new_household()
    misspelt = await driver.get(COUNTY_OFFICER, "/api/v1/cases", houshold_code=household)
    assert _refused(misspelt, "houshold_code")["message"] == "houshold_code：不认识的查询参数，请删除"
    body = {"household_code": household, "channel": "cadre_screening"}
    write = await driver.http.post("/api/v1/cases?dry_run=1", json=body, headers=await driver.headers(VILLAGE_CADRE))
    _refused(write, "dry_run")
    listed = await driver.get(COUNTY_OFFICER, "/api/v1/cases", household_code=household)
    assert listed.status_code == 200 and listed.json()["items"] == []
    empty_name = await driver.http.get("/api/v1/cases?=1", headers=await driver.headers(COUNTY_OFFICER))
    _refused(empty_name, "（空参数名）")


async def test_one_bad_warning_does_not_spoil_the_batch(driver: CaseDriver, settings: Settings) -> None:
    """A NUL in one warning's detail made the whole batch answer `500 []` (INTERFACES.md §3)."""
    tag = uuid.uuid4().hex[:12]
    stranger = demo_id_number("110101", date(1951, 3, 1), 11, True)
    good = {
        "warning_id": f"{tag}-good",
        "id_number": stranger,
        "kind": "medical_expense",
        "amount": 28000.0,
        "occurred_on": "2026-11-20",
        "detail": "住院自付费用",
    }
    batch = {
        "department": "medical_insurance",
        "warnings": [
            good,
            good | {"warning_id": f"{tag}-nul", "detail": "住院\x00自付"},
            good | {"warning_id": f"{tag}-surrogate", "detail": "住院\ud800自付"},
            good | {"warning_id": f"{tag}-nan", "amount": float("nan")},
            good | {"warning_id": f"{tag}-year", "occurred_on": "0001-01-01"},
        ],
    }
    raw = json.dumps(batch).encode()  # escapes as JSON does: \u0000, \ud800, NaN
    answer = await driver.http.post(
        f"{settings.public_base_url}/api/v1/early-warnings",
        content=raw,
        headers=signed_headers(DEMO_DEPARTMENT_SECRETS["medical_insurance"], raw),
    )
    assert answer.status_code == 200, answer.text
    outcomes = answer.json()["outcomes"]
    assert [o["outcome"] for o in outcomes] == ["unknown_person"] + ["invalid"] * 4
    assert [o["warning_id"] for o in outcomes] == [w["warning_id"] for w in batch["warnings"]]
    for outcome, field in zip(outcomes[1:], ("detail", "detail", "amount", "occurred_on"), strict=True):
        assert outcome["reason"].startswith(f"{field}："), outcome
    kept = await query(
        settings,
        "SELECT warning_id, outcome, raw->>'detail' AS detail FROM early_warnings WHERE warning_id LIKE :t ORDER BY id",
        t=f"{tag}-%",
    )
    assert [(k.warning_id, k.outcome) for k in kept] == [(o["warning_id"], o["outcome"]) for o in outcomes]
    assert kept[1].detail == "住院\ufffd自付", "kept for the record as far as PostgreSQL can hold it"


async def test_deep_or_huge_json_is_refused_before_parsing(driver: CaseDriver, settings: Settings) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    headers = await driver.headers(VILLAGE_CADRE) | {"Content-Type": "application/json"}
    answer = await driver.http.post("/api/v1/cases", content=deep, headers=headers)
    _refused(answer, "请求", "嵌套层级过深")
    signed = await driver.http.post(
        f"{settings.public_base_url}/api/v1/early-warnings",
        content=deep,
        headers=signed_headers(DEMO_DEPARTMENT_SECRETS["medical_insurance"], deep),
    )
    _refused(signed, "请求", "嵌套层级过深")
    huge = b'{"lead_note": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    too_large = await driver.http.post("/api/v1/cases", content=huge, headers=headers)
    assert too_large.status_code == 413 and too_large.json()["detail"]["code"] == "body_too_large"
    # Only the evidence uploads take the larger, binary multipart body; any other path keeps 4 MB.
    multipart = {**headers, "Content-Type": "multipart/form-data; boundary=x"}
    upload_elsewhere = await driver.http.post("/api/v1/cases", content=huge, headers=multipart)
    assert upload_elsewhere.status_code == 413 and upload_elsewhere.json()["detail"]["code"] == "body_too_large"


async def test_numbers_out_of_their_range_are_refused(
    driver: CaseDriver, new_household: NewHousehold, settings: Settings
) -> None:
    case = await driver.open_case(await new_household())
    task_id = (await query(settings, "SELECT id FROM tasks WHERE case_id = :c", c=case["case_id"]))[0].id
    for action in ("claim", "release", "assign"):
        answer = await driver.post(VILLAGE_CADRE, f"/api/v1/tasks/{task_id}/{action}", {"version": 10**30})
        _refused(answer, "version", "不能大于")
    task = (await driver.get(VILLAGE_CADRE, f"/api/v1/tasks/{task_id}")).json()
    assert task["version"] == 1 and task["claimed_by"] is None

    before = (await driver.get(ADMIN, "/api/v1/policies/current")).json()
    for body, field in (
        ('{"income_line_yuan": "1e999"}', "income_line_yuan"),
        ('{"income_line_yuan": 1e30}', "income_line_yuan"),
        ('{"medical_expense_threshold_other": Infinity}', "medical_expense_threshold_other"),
        ('{"step_days": {"home_verification": 1e30}}', "step_days.home_verification"),
        ('{"vote_rule": {"quorum_numerator": 1e30}}', "vote_rule.quorum_numerator"),
    ):
        answer = await driver.http.post(
            "/api/v1/policies",
            content=body.encode(),
            headers=await driver.headers(ADMIN) | {"Content-Type": "application/json"},
        )
        _refused(answer, field)
    assert (await driver.get(ADMIN, "/api/v1/policies/current")).json() == before

    coverage = await driver.get(COUNTY_OFFICER, "/api/v1/monitoring/visit-coverage", to_period="0000-01")
    _refused(coverage, "to_period", "2000年至2100年")
    audit = await driver.get(COUNTY_OFFICER, "/api/v1/audit", since="0001-01-01T00:00:00+08:00")
    _refused(audit, "since", "2000年至2100年")


async def test_a_policy_published_before_its_bounds_is_not_in_force(
    driver: CaseDriver, new_household: NewHousehold, settings: Settings
) -> None:
    """Versions with an income line of 1e30 were published before the bounds existed: rather than
    failing every case start (and the publishing of a sane version), the newest sane one is in force."""
    in_force = (await driver.get(ADMIN, "/api/v1/policies/current")).json()
    await query(
        settings,
        "INSERT INTO policy_versions (version, body, created_by) "
        "SELECT coalesce(max(version), 1) + 1, CAST(:body AS jsonb), 'admin' FROM policy_versions",
        body=json.dumps({"income_line_yuan": 1e30, "step_days": {"home_verification": 1e30}}),
    )
    assert (await driver.get(ADMIN, "/api/v1/policies/current")).json() == in_force
    await driver.open_case(await new_household())
    published = await driver.post(ADMIN, "/api/v1/policies", {k: v for k, v in in_force.items() if k != "version"})
    assert published.status_code == 201, published.text
    assert (await driver.get(ADMIN, "/api/v1/policies/current")).json()["version"] == published.json()["version"]


async def test_a_form_dated_after_the_workflows_today_is_refused(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment
) -> None:
    """A home verification dated 2099 was accepted. The API refuses only dates no clock could accept;
    "after today" is the workflow's today (its clock may run ahead of the API's machine)."""
    case = await driver.open_case(await new_household())
    case_id = case["case_id"]
    before = await case_snapshot(driver, temporal.client, case_id)
    today = await driver.today()
    for day in (date(2099, 1, 1), today + timedelta(days=2)):
        answer = await driver.post(
            VILLAGE_CADRE, f"/api/v1/cases/{case_id}/home-verification", home_verification(on=day)
        )
        assert _refused(answer, "visited_on")["message"] == "入户日期不能晚于今天"
    for day in (date(1999, 12, 31), date(2101, 1, 1)):
        answer = await driver.post(
            VILLAGE_CADRE, f"/api/v1/cases/{case_id}/home-verification", home_verification(on=day)
        )
        _refused(answer, "visited_on", "2000年至2100年")
    assert await case_snapshot(driver, temporal.client, case_id) == before

    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification(on=today))
    late = await driver.post(
        VILLAGE_CADRE, f"/api/v1/cases/{case_id}/authorisation", authorisation(on=today + timedelta(days=2))
    )
    assert _refused(late, "signed_on")["message"] == "签署（或拒绝）日期不能晚于今天"


async def test_an_unknown_route_answers_in_the_documented_shape(driver: CaseDriver) -> None:
    answer = await driver.get(VILLAGE_CADRE, "/api/v1/no-such-thing")
    assert answer.status_code == 404 and answer.json()["detail"]["code"] == "not_found"
