"""The department registry: the admin manages it; secrets are sealed at rest and never shown."""

from __future__ import annotations

from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver
from services.settings import Settings
from tests.departments.signed import query

SECRET = "civil-affairs-secret-for-the-registry-test-0001"


async def test_admin_sets_a_department_and_its_secret_stays_hidden(driver: CaseDriver, settings: Settings) -> None:
    body = {"base_url": "https://mz.example.gov.cn/api/", "secret": SECRET, "answer_days": 3}
    await query(settings, "DELETE FROM departments WHERE kind = 'emergency_management'")  # a county without it
    missing_secret = await driver.http.put(
        "/api/v1/departments/emergency_management",
        json={"base_url": "https://x.example.gov.cn"},
        headers=await driver.headers("admin"),
    )
    assert missing_secret.status_code == 422 and missing_secret.json()["detail"]["errors"][0]["field"] == "secret"
    unknown_kind = await driver.http.put(
        "/api/v1/departments/lottery", json=body, headers=await driver.headers("admin")
    )
    assert unknown_kind.status_code == 422
    answer = await driver.http.put(
        "/api/v1/departments/emergency_management", json=body, headers=await driver.headers("admin")
    )
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["base_url"] == "https://mz.example.gov.cn/api" and view["secret_set"] is True
    assert SECRET not in answer.text and "secret_sealed" not in view
    [row] = await query(settings, "SELECT secret_sealed FROM departments WHERE kind = 'emergency_management'")
    assert row.secret_sealed.startswith("v1:") and SECRET not in row.secret_sealed

    # Changing the address without a secret keeps the secret; the list shows no secret either.
    changed = await driver.http.put(
        "/api/v1/departments/emergency_management",
        json={"base_url": "https://yj.example.gov.cn", "enabled": False},
        headers=await driver.headers("admin"),
    )
    assert changed.json()["enabled"] is False and changed.json()["answer_days"] is None
    [after] = await query(settings, "SELECT secret_sealed FROM departments WHERE kind = 'emergency_management'")
    assert after.secret_sealed == row.secret_sealed
    listed = (await driver.get(COUNTY_OFFICER, "/api/v1/departments")).json()
    assert "emergency_management" in {d["kind"] for d in listed} and SECRET not in str(listed)


async def test_only_the_admin_changes_the_registry(driver: CaseDriver) -> None:
    body = {"base_url": "https://x.example.gov.cn", "secret": SECRET}
    for who in (COUNTY_OFFICER, VILLAGE_CADRE):
        answer = await driver.http.put(
            "/api/v1/departments/civil_affairs", json=body, headers=await driver.headers(who)
        )
        assert answer.status_code == 403
    short = await driver.http.put(
        "/api/v1/departments/civil_affairs", json=body | {"secret": "short"}, headers=await driver.headers("admin")
    )
    assert short.status_code == 422 and "short" not in short.text
    bad_url = await driver.http.put(
        "/api/v1/departments/civil_affairs", json=body | {"base_url": "ftp://x"}, headers=await driver.headers("admin")
    )
    assert bad_url.status_code == 422
    assert (await driver.get(VILLAGE_CADRE, "/api/v1/departments")).status_code == 403
