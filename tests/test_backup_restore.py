"""Backup and restore (scripts/backup, scripts/restore): the session's database, with a case in
it, is dumped, restored into a new empty database, and the API served from the restored one
reads the case as before. A restore over a database that has tables is refused."""

from __future__ import annotations

import asyncio
import os
import tarfile
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from temporalio.testing import WorkflowEnvironment

from services.db.engine import create_engine
from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver
from services.settings import Settings
from tests.conftest import api_for, new_household_body

ROOT = Path(__file__).resolve().parent.parent


async def _script(name: str, database_url: str, *args: str, evidence_dir: str = "") -> tuple[int, str]:
    """Runs scripts/<name> as an operator would (without blocking the suite's worker and API)."""
    process = await asyncio.create_subprocess_exec(
        str(ROOT / "scripts" / name),
        *args,
        env={**os.environ, "DATABASE_URL": database_url, "EVIDENCE_DIR": evidence_dir},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def _on_server(settings: Settings, statement: str) -> None:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def test_a_restored_backup_serves_the_case(
    driver: CaseDriver, settings: Settings, temporal: WorkflowEnvironment, tmp_path: Path
) -> None:
    household = (await driver.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())).json()["code"]
    started = await driver.post(
        VILLAGE_CADRE, "/api/v1/cases", {"household_code": household, "channel": "cadre_screening"}
    )
    assert started.status_code == 201, started.text
    case_id = started.json()["case_id"]
    before = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}")).json()

    backup = tmp_path / "fanpin.dump"
    evidence = Path(settings.evidence_dir) / "610824100201" / f"{uuid.uuid4().hex}.jpg"
    evidence.parent.mkdir(parents=True, exist_ok=True)
    evidence.write_bytes(b"\xff\xd8\xff photo")
    status, output = await _script(
        "backup", settings.require_database_url(), str(backup), evidence_dir=settings.evidence_dir
    )
    assert status == 0, output
    assert backup.is_file() and not backup.with_name("fanpin.dump.partial").exists()
    # The evidence files beside the dump, by the same names under the directory.
    with tarfile.open(backup.with_name("fanpin.dump.evidence.tar")) as tar:
        names = tar.getnames()
        member = tar.extractfile(str(evidence.relative_to(settings.evidence_dir)))
        assert member is not None and member.read() == evidence.read_bytes(), names

    name = f"restored_{uuid.uuid4().hex[:8]}"
    restored_url = make_url(settings.require_database_url()).set(database=name).render_as_string(hide_password=False)
    await _on_server(settings, f'CREATE DATABASE "{name}"')
    try:
        status, output = await _script("restore", restored_url, str(backup))
        assert status == 0, output
        # Once more onto the now full database: refused, nothing loaded twice.
        status, output = await _script("restore", restored_url, str(backup))
        assert status != 0 and "refused" in output, output

        restored = settings.model_copy(update={"database_url": restored_url})
        async with api_for(restored, temporal.client) as api:
            answer = await api.get(COUNTY_OFFICER, f"/api/v1/cases/{case_id}")
            assert answer.status_code == 200, answer.text
            assert answer.json() == before
            audit = await api.get(COUNTY_OFFICER, "/api/v1/audit", case_id=case_id)
            assert audit.status_code == 200 and audit.json()["items"], audit.text
    finally:
        await _on_server(settings, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
