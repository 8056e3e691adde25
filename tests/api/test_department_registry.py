"""The department registry: the admin manages it; secrets are sealed at rest and never shown."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver
from services.demo_data import DEMO_DEPARTMENT_SECRETS
from services.settings import Settings
from tests.departments.signed import callback_url, post_signed, query, result_body

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


_KIND = "disabled_persons_federation"


async def _put(driver: CaseDriver, body: dict[str, Any]) -> httpx.Response:
    return await driver.http.put(f"/api/v1/departments/{_KIND}", json=body, headers=await driver.headers("admin"))


async def _signed_by(settings: Settings, secret: str) -> int:
    """401 if `secret` signs for no department; 404 (no such request) once it authenticates."""
    url = callback_url(settings, "no-such-request")
    return (await post_signed(url, result_body("no-such-request", "real_estate"), secret=secret)).status_code


async def test_a_replaced_secret_is_accepted_for_its_grace_period(driver: CaseDriver, settings: Settings) -> None:
    [demo] = await query(settings, "SELECT base_url FROM departments WHERE kind = :kind", kind=_KIND)
    demo_secret, first, second = DEMO_DEPARTMENT_SECRETS[_KIND], "rotated-secret-one-" + "1" * 20, "two-" + "2" * 40
    try:
        rotated = await _put(driver, {"base_url": demo.base_url, "secret": first})
        assert rotated.status_code == 200
        until = datetime.fromisoformat(rotated.json()["previous_secret_until"])
        assert timedelta(hours=23) < until - datetime.now(UTC) <= timedelta(hours=24)
        # The department may still sign with the old secret while it switches over.
        assert [await _signed_by(settings, s) for s in (demo_secret, first, "a-guess-" * 5)] == [404, 404, 401]

        # A leaked secret is retired at once.
        revoked = await _put(driver, {"base_url": demo.base_url, "secret": second, "previous_secret_hours": 0})
        assert revoked.json()["previous_secret_until"] is None
        assert [await _signed_by(settings, s) for s in (demo_secret, first, second)] == [401, 401, 404]
    finally:
        await _put(driver, {"base_url": demo.base_url, "secret": demo_secret, "previous_secret_hours": 0})


async def test_two_admins_creating_the_same_department_at_once_both_succeed(
    driver: CaseDriver, settings: Settings
) -> None:
    [demo] = await query(settings, "SELECT base_url FROM departments WHERE kind = :kind", kind=_KIND)
    body = {"base_url": demo.base_url, "secret": DEMO_DEPARTMENT_SECRETS[_KIND], "previous_secret_hours": 0}
    headers = await driver.headers("admin")
    async with httpx.AsyncClient(base_url=settings.public_base_url, timeout=60) as http:
        for _ in range(3):
            await query(settings, "DELETE FROM departments WHERE kind = :kind", kind=_KIND)
            answers = await asyncio.gather(
                *(http.put(f"/api/v1/departments/{_KIND}", json=body, headers=headers) for _ in range(6))
            )
            assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert len(await query(settings, "SELECT id FROM departments WHERE kind = :kind", kind=_KIND)) == 1
