"""Signed requests to the live API, as a department sends them."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import text

from services.db.engine import create_engine
from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver, authorisation, home_verification
from services.demo_data import DEMO_DEPARTMENT_SECRETS
from services.departments.signing import signed_headers
from services.settings import Settings


async def post_signed(
    url: str, body: Any, department: str | None = None, secret: str | None = None, now: float | None = None
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    key = secret if secret is not None else DEMO_DEPARTMENT_SECRETS[department or ""]
    async with httpx.AsyncClient(timeout=60) as http:
        return await http.post(url, content=raw, headers=signed_headers(key, raw, now=now))


def callback_url(settings: Settings, request_id: str) -> str:
    return f"{settings.public_base_url}/api/v1/callbacks/cross-checks/{request_id}"


def result_body(request_id: str, department: str, findings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "department": department,
        "status": "completed",
        "findings": findings or [],
        "completed_at": "2026-12-01T10:00:00+08:00",
    }


async def authorised_case(driver: CaseDriver, household: str) -> dict[str, Any]:
    """A case whose cross-check has been sent (every request exists)."""
    case_id = (await driver.open_case(household))["case_id"]
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification())
    await driver.act(VILLAGE_CADRE, case_id, "authorisation", authorisation())
    return await driver.wait_for(case_id, lambda c: c["cross_check"] is not None)


async def query(settings: Settings, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return list(result) if result.returns_rows else []
    finally:
        await engine.dispose()


async def timeline_actions(driver: CaseDriver, case_id: str) -> list[str]:
    entries = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}/timeline")).json()["entries"]
    return [e["action"] for e in entries]
