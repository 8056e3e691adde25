"""Sign-in and bearer tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from services.demo_case import VILLAGE_CADRE, CaseDriver
from services.settings import Settings


async def test_sign_in_returns_an_expiring_token(driver: CaseDriver) -> None:
    answer = await driver.http.post("/api/v1/auth/login", json={"username": VILLAGE_CADRE, "password": "Demo@2026"})
    assert answer.status_code == 200
    token = answer.json()
    assert token["token_type"] == "bearer" and datetime.fromisoformat(token["expires_at"]) > datetime.now(UTC)
    me = await driver.http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json() | {} == {
        "username": VILLAGE_CADRE,
        "display_name": "东坑村 张村干部",
        "role": "village_cadre",
        "role_label": "村干部",
        "area_code": "610824100201",
    }


async def test_wrong_password_and_unknown_user_get_the_same_answer(driver: CaseDriver) -> None:
    wrong = await driver.http.post("/api/v1/auth/login", json={"username": VILLAGE_CADRE, "password": "nope"})
    unknown = await driver.http.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_requests_without_a_valid_token_are_401(driver: CaseDriver, settings: Settings) -> None:
    assert (await driver.http.get("/api/v1/cases")).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await driver.http.get("/api/v1/cases", headers=bad)).status_code == 401
    expired = jwt.encode(
        {"sub": VILLAGE_CADRE, "exp": datetime.now(UTC) - timedelta(minutes=1)}, settings.jwt_secret, algorithm="HS256"
    )
    answer = await driver.http.get("/api/v1/cases", headers={"Authorization": f"Bearer {expired}"})
    assert answer.status_code == 401 and answer.json()["detail"]["message"] == "登录已失效，请重新登录"
    forged = jwt.encode(
        {"sub": "admin", "exp": datetime.now(UTC) + timedelta(hours=1)},
        "another-secret-another-secret-another-secret",
        algorithm="HS256",
    )
    assert (await driver.http.get("/api/v1/cases", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
