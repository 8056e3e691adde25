"""Accounts: the admin creates, edits and disables them inside their own county; a disabled
account's tokens stop at once; people change their own password; every change is audited."""

from __future__ import annotations

import itertools
import random

from services.demo_case import COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver
from services.demo_data import DEMO_PASSWORD
from tests.conftest import NewHousehold
from tests.inbox import the_task

_names = itertools.count(random.randrange(1000, 9000) * 100)


def _new_cadre(**overrides: str) -> dict[str, str]:
    return {
        "username": f"test.cadre{next(_names)}",
        "display_name": "东坑村 测试网格员",
        "role": "village_cadre",
        "area_code": "610824100201",
        "password": DEMO_PASSWORD,
    } | overrides


async def _sign_in(driver: CaseDriver, username: str, password: str = DEMO_PASSWORD) -> str:
    answer = await driver.http.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


async def _me(driver: CaseDriver, token: str) -> int:
    return (await driver.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code


async def test_admin_creates_and_disables_an_account(driver: CaseDriver, new_household: NewHousehold) -> None:
    body = _new_cadre()
    created = await driver.post("admin", "/api/v1/accounts", body)
    assert created.status_code == 201, created.text
    assert created.json() | {} == created.json() and "password" not in str(created.json())
    assert created.json()["role_label"] == "村干部"
    token = await _sign_in(driver, body["username"])
    assert await _me(driver, token) == 200
    again = await driver.post("admin", "/api/v1/accounts", body)
    assert again.status_code == 409 and again.json()["detail"]["code"] == "username_taken"

    # The new cadre holds a task; disabling the account stops its token at once and frees the task.
    case_id = (await driver.open_case(await new_household()))["case_id"]
    task = await the_task(driver, VILLAGE_CADRE, case_id, "home_verification")
    headers = {"Authorization": f"Bearer {token}"}
    claimed = await driver.http.post(
        f"/api/v1/tasks/{task['task_id']}/claim", json={"version": task["version"]}, headers=headers
    )
    assert claimed.status_code == 200
    disabled = await driver.http.patch(
        f"/api/v1/accounts/{body['username']}", json={"disabled": True}, headers=await driver.headers("admin")
    )
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert await _me(driver, token) == 401
    login = await driver.http.post("/api/v1/auth/login", json={"username": body["username"], "password": DEMO_PASSWORD})
    assert login.status_code == 401 and login.json()["detail"]["code"] == "account_disabled"
    assert (await the_task(driver, VILLAGE_CADRE, case_id, "home_verification"))["claimed_by"] is None

    audit = (
        await driver.get(COUNTY_OFFICER, "/api/v1/audit", subject_type="account", subject_id=body["username"])
    ).json()["items"]
    assert [e["action"] for e in audit] == ["update_account", "create_account"]
    assert audit[0]["before"] == {"disabled": False} and audit[0]["after"] == {"disabled": True}
    assert audit[0]["data"]["released_tasks"] == [task["task_id"]] and audit[0]["actor"] == "admin"
    assert "password" not in str(audit[1]["after"]) and "argon2" not in str(audit)


async def test_placement_follows_the_role_and_the_admins_area(driver: CaseDriver, other_county: dict) -> None:
    cases = [
        (_new_cadre(area_code="610824100000"), "area_code", "村干部的区划应为村级"),
        (_new_cadre(role="township_approver"), "area_code", "镇审核人员的区划应为镇级"),
        (_new_cadre(area_code="610824999999"), "area_code", "没有这个区划代码"),
        (_new_cadre(password="short"), "password", "密码至少8位"),
        (_new_cadre(password="alllowercase"), "password", "至少三种"),
        (_new_cadre(username="department.vehicles"), "username", "系统保留"),
        (_new_cadre(username="system"), "username", "系统保留"),
        (_new_cadre(username="Bad Name"), "username", "格式不正确"),
        (_new_cadre(role="department"), "role", "取值无效"),
    ]
    for body, field, words in cases:
        answer = await driver.post("admin", "/api/v1/accounts", body)
        assert answer.status_code == 422, (body, answer.text)
        detail = answer.json()["detail"]
        assert any(e["field"] == field and words in e["message"] for e in detail["errors"]), detail
    elsewhere = await driver.post("admin", "/api/v1/accounts", _new_cadre(area_code="610802100201"))
    assert elsewhere.status_code == 403, "another county's area"
    for not_admin in (COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE):
        assert (await driver.post(not_admin, "/api/v1/accounts", _new_cadre())).status_code == 403
    # Another county's admin does not see 靖边县's accounts at all.
    assert (await driver.get(other_county["admin"], f"/api/v1/accounts/{VILLAGE_CADRE}")).status_code == 404
    listed = (await driver.get(other_county["admin"], "/api/v1/accounts", limit=200)).json()["items"]
    assert {a["area_code"][:6] for a in listed} == {"610802"}
    assert (await driver.get("admin", "/api/v1/accounts", area="610802000000")).status_code == 403
    ours = (await driver.get("admin", "/api/v1/accounts", area="610824100000", limit=200)).json()["items"]
    assert {a["username"] for a in ours} >= {TOWNSHIP_APPROVER, VILLAGE_CADRE} and COUNTY_OFFICER not in {
        a["username"] for a in ours
    }


async def test_admin_edits_moves_and_resets_but_not_themselves(driver: CaseDriver) -> None:
    body = _new_cadre()
    await driver.post("admin", "/api/v1/accounts", body)
    token = await _sign_in(driver, body["username"])
    path = f"/api/v1/accounts/{body['username']}"
    admin = await driver.headers("admin")
    moved = await driver.http.patch(
        path,
        json={"role": "township_approver", "area_code": "610824100000", "display_name": "东坑镇 新审核"},
        headers=admin,
    )
    assert moved.status_code == 200 and moved.json()["role"] == "township_approver"
    me = await driver.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "township_approver", "the new role applies to the next request"
    reset = await driver.http.patch(path, json={"password": "Another@2026"}, headers=admin)
    assert reset.status_code == 200
    assert await _me(driver, token) == 401, "a reset password ends the old sign-ins"
    await _sign_in(driver, body["username"], "Another@2026")
    for change in ({"disabled": True}, {"role": "county_officer"}, {"area_code": "610824100000"}):
        refused = await driver.http.patch("/api/v1/accounts/admin", json=change, headers=admin)
        assert refused.status_code == 422, change
    assert (await driver.http.patch("/api/v1/accounts/nobody", json={}, headers=admin)).status_code == 404


async def test_people_change_their_own_password(driver: CaseDriver) -> None:
    body = _new_cadre()
    await driver.post("admin", "/api/v1/accounts", body)
    old = await _sign_in(driver, body["username"])
    headers = {"Authorization": f"Bearer {old}"}
    wrong = await driver.http.post(
        "/api/v1/auth/password", headers=headers, json={"current_password": "nope", "new_password": "Changed@2026"}
    )
    assert wrong.status_code == 422 and wrong.json()["detail"]["errors"][0]["field"] == "current_password"
    weak = await driver.http.post(
        "/api/v1/auth/password", headers=headers, json={"current_password": DEMO_PASSWORD, "new_password": "weak"}
    )
    assert weak.status_code == 422
    assert await _me(driver, old) == 200, "refused changes change nothing"
    changed = await driver.http.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": DEMO_PASSWORD, "new_password": "Changed@2026"},
    )
    assert changed.status_code == 200
    assert await _me(driver, old) == 401 and await _me(driver, changed.json()["access_token"]) == 200
    await _sign_in(driver, body["username"], "Changed@2026")
    bad_old = await driver.http.post(
        "/api/v1/auth/login", json={"username": body["username"], "password": DEMO_PASSWORD}
    )
    assert bad_old.status_code == 401
