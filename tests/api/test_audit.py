"""The audit log: every action with who, role, area, when, the data given and what it changed;
queried by county officers by case, person and time; and append-only, whoever tries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from services.demo_case import COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, home_verification
from services.settings import Settings
from tests.conftest import NewHousehold
from tests.departments.signed import query

ROOT = Path(__file__).resolve().parents[2]


async def test_case_events_keep_before_and_after(driver: CaseDriver, new_household: NewHousehold) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    case_id = (await driver.open_case(await new_household()))["case_id"]
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification())
    entries = (await driver.get(COUNTY_OFFICER, "/api/v1/audit", case_id=case_id)).json()["items"]
    assert [e["action"] for e in entries] == ["verify_home", "open_case"]
    verify, opened = entries
    assert verify["actor"] == VILLAGE_CADRE and verify["role"] == "village_cadre"
    assert verify["area_code"] == "610824100201" and verify["seq"] == 2 and verify["subject_id"] == case_id
    assert verify["before"]["step"] == "home_verification" and verify["after"]["step"] == "authorisation"
    assert verify["before"]["verification"] is None and verify["after"]["verification"]["household_size"] == 4
    assert "case_id" not in verify["after"], "only what changed is kept"
    assert opened["before"] == {} and opened["after"]["case_id"] == case_id

    mine = (
        await driver.get(COUNTY_OFFICER, "/api/v1/audit", actor=VILLAGE_CADRE, since=started.isoformat(), limit=500)
    ).json()["items"]
    assert {e["actor"] for e in mine} == {VILLAGE_CADRE} and case_id in {e["case_id"] for e in mine}
    assert all(datetime.fromisoformat(e["at"]) >= started for e in mine)
    before_it = (await driver.get(COUNTY_OFFICER, "/api/v1/audit", case_id=case_id, until=started.isoformat())).json()[
        "items"
    ]
    assert before_it == []
    first = (await driver.get(COUNTY_OFFICER, "/api/v1/audit", case_id=case_id, limit=1)).json()
    second = (
        await driver.get(COUNTY_OFFICER, "/api/v1/audit", case_id=case_id, limit=1, cursor=first["next_cursor"])
    ).json()
    assert [first["items"][0]["action"], second["items"][0]["action"]] == ["verify_home", "open_case"]
    naive = await driver.get(COUNTY_OFFICER, "/api/v1/audit", since="2026-11-29T00:00:00")
    assert naive.status_code == 422
    for reader in (VILLAGE_CADRE, TOWNSHIP_APPROVER, "admin"):
        assert (await driver.get(reader, "/api/v1/audit", case_id=case_id)).status_code == 403


async def test_personal_data_in_the_audit_is_masked(driver: CaseDriver, new_household: NewHousehold) -> None:
    code = await new_household()
    household = (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{code}")).json()
    entry = (await driver.get(COUNTY_OFFICER, "/api/v1/audit", subject_type="household", subject_id=code)).json()[
        "items"
    ][0]
    assert entry["action"] == "register_household"
    for member in household["members"]:
        assert member["id_number"] not in str(entry)
        assert member["id_number"][:6] + "********" + member["id_number"][-4:] in str(entry)
    assert "13800138000" not in str(entry)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET action = 'forged' WHERE id = (SELECT max(id) FROM audit_entries)",
        "DELETE FROM audit_entries WHERE id = (SELECT max(id) FROM audit_entries)",
        "TRUNCATE audit_entries",
    ],
)
async def test_the_database_refuses_to_change_the_audit(settings: Settings, driver: CaseDriver, statement: str) -> None:
    count, newest = (await query(settings, "SELECT count(*), max(id) FROM audit_entries"))[0]
    with pytest.raises(DBAPIError, match="append-only"):
        await query(settings, statement)
    assert (await query(settings, "SELECT count(*) >= :n, bool_and(action <> 'forged') FROM audit_entries", n=count))[
        0
    ] == (True, True)
    assert (await query(settings, "SELECT count(*) FROM audit_entries WHERE id = :id", id=newest))[0][0] == 1


async def test_no_code_path_updates_or_deletes_the_audit(live_api: FastAPI) -> None:
    paths = live_api.openapi()["paths"]
    audit_methods = {m for path, methods in paths.items() if path.startswith("/api/v1/audit") for m in methods}
    assert audit_methods == {"get"}
    writes = re.compile(r"(update|delete)\(\s*AuditEntry|(UPDATE|DELETE\s+FROM|TRUNCATE)\s+audit_entries", re.I)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "services").rglob("*.py") if writes.search(p.read_text())]
    assert offenders == []
