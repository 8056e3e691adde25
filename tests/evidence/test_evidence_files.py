"""No evidence file without its row, in either store: the file is written before the row, so when
the row's insert or the commit fails in PostgreSQL the file written for it is removed; a committed
upload keeps it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.evidence.service import Upload, attach_to_case, commit_evidence
from services.db.evidence import Evidence
from services.db.tables import Account
from services.demo_case import VILLAGE_CADRE, CaseDriver
from services.domain.evidence import EvidenceKind
from services.settings import Settings
from services.storage.evidence_store import evidence_store
from tests.conftest import NewHousehold
from tests.evidence.files import photo
from tests.evidence.s3rver import stored_keys


async def _cadre(session: AsyncSession) -> Account:
    account = await session.get(Account, VILLAGE_CADRE)
    assert account is not None
    return account


async def test_no_file_left_when_the_row_or_its_commit_fails(
    driver: CaseDriver, new_household: NewHousehold, live_api: FastAPI, evidence_settings: Settings
) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    sessions = live_api.state.resources.sessions
    store, limit = evidence_store(evidence_settings), evidence_settings.evidence_max_bytes
    before = await stored_keys(evidence_settings)

    # PostgreSQL refuses a NUL byte in text: the insert fails after the file was written.
    async with sessions() as session:
        upload = Upload(EvidenceKind.commitment, photo(colour="red"), "a.jpg", "\x00")
        with pytest.raises(DBAPIError):
            await attach_to_case(session, store, await _cadre(session), case_id, upload, None, limit)
    assert await stored_keys(evidence_settings) == before

    # A commit PostgreSQL refuses (a deferred constraint, checked only at commit): row and file both go.
    async with sessions() as session:
        await session.exec(text("CREATE TEMP TABLE refused_at_commit (n int UNIQUE DEFERRABLE INITIALLY DEFERRED)"))  # type: ignore[call-overload]
        await session.exec(text("INSERT INTO refused_at_commit VALUES (1), (1)"))  # type: ignore[call-overload]
        upload = Upload(EvidenceKind.commitment, photo(colour="blue"), "b.jpg")
        kept = await attach_to_case(session, store, await _cadre(session), case_id, upload, None, limit)
        written = kept[0].storage_key
        assert kept[1] and written in await stored_keys(evidence_settings)
        with pytest.raises(DBAPIError):
            await commit_evidence(session, store, kept)
    assert await stored_keys(evidence_settings) == before

    # The same upload committed: its row and its file stay.
    async with sessions() as session:
        kept = await attach_to_case(session, store, await _cadre(session), case_id, upload, None, limit)
        evidence_id, key = kept[0].evidence_id, kept[0].storage_key
        await commit_evidence(session, store, kept)
    async with sessions() as session:
        assert (await session.get(Evidence, evidence_id)) is not None
    assert await stored_keys(evidence_settings) == before | {key}
