"""Reading cases: the one a reader may see, and the case list with its filters."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import pagination
from services.api.access import area_scope, may_name, require_visible, visible
from services.api.case_changes import RECHECK_SECONDS, CaseChanges
from services.api.errors import not_found
from services.api.identification.schemas import CasePage
from services.api.identification.views import case_summary
from services.db.tables import Account, CaseRecord, Household
from services.domain.vocabulary import Step

_NOT_VISIBLE = "没有找到该案件，或该案件不在您的管辖区域内"


async def visible_case(session: AsyncSession, reader: Account, case_id: str) -> CaseRecord:
    return await visible(session, reader, CaseRecord, case_id, _NOT_VISIBLE)


MAX_WAIT_SECONDS = 25.0  # under the idle timeouts of the proxies in front (60 s and more)


@dataclass(frozen=True)
class CaseWait:
    """What a waiting request waits for: the case's `seq` to pass `after_seq` (any change), or the
    case to leave the step `after_step` (one given)."""

    after_seq: int | None = None
    after_step: Step | None = None

    def ends_at(self, seq: int, step: str) -> bool:
        if self.after_seq is not None:
            return seq > self.after_seq
        return step != self.after_step


async def case_after(
    session: AsyncSession, reader: Account, case_id: str, wait: CaseWait, wait_seconds: float, changes: CaseChanges
) -> CaseRecord:
    """`visible_case` once `wait` ends, or as it is after `wait_seconds`. Holds no database
    connection while it waits (the session is closed in between), and reads the case again only
    when what it heard may end the wait, or every RECHECK_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    async with changes.watching(case_id) as watch:
        record = await visible_case(session, reader, case_id)  # read after watching: no change is missed
        unread = False  # the case changed since `record` was read, not so that the wait ends
        while not wait.ends_at(record.last_seq, record.step) and (left := deadline - loop.time()) > 0:
            await session.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watch.changed.wait(), min(left, RECHECK_SECONDS))
            announced = watch.take()
            unread = announced is not None and not wait.ends_at(*announced)
            if not unread:
                record = await visible_case(session, reader, case_id)
        if unread:  # the time is up: the case as it is now
            record = await visible_case(session, reader, case_id)
    return record


class CaseRef(NamedTuple):
    """What acting on a case needs of its record."""

    case_id: str
    workflow_id: str
    run_id: str
    village_code: str


_CASE_REF = select(
    col(CaseRecord.case_id), col(CaseRecord.workflow_id), col(CaseRecord.run_id), col(CaseRecord.village_code)
).where(col(CaseRecord.case_id) == bindparam("case_id"))


async def case_to_act_on(session: AsyncSession, reader: Account, case_id: str) -> CaseRef:
    """`visible_case`, without the state an action does not need (the workflow decides, and the
    answer is read afterwards): the largest column, not read and decoded for nothing."""
    found = (await session.execute(_CASE_REF, {"case_id": case_id})).first() if may_name(CaseRecord, case_id) else None
    if found is None:
        raise not_found(_NOT_VISIBLE)
    require_visible(reader, found.village_code, _NOT_VISIBLE)
    return CaseRef(*found)


@dataclass(frozen=True)
class CaseFilter:
    scope: str  # an area code the reader may list
    step: Step | None = None
    overdue: bool | None = None
    open: bool | None = None
    household_code: str | None = None


async def case_page(session: AsyncSession, wanted: CaseFilter, limit: int, cursor: str | None) -> CasePage:
    """Newest first."""
    now = datetime.now(UTC)
    query = (
        select(CaseRecord, col(Household.head_name))
        .join(Household, col(Household.code) == col(CaseRecord.household_code))
        .where(area_scope(CaseRecord, wanted.scope))
    )
    if wanted.step is not None:
        query = query.where(col(CaseRecord.step) == wanted.step)
    if wanted.household_code is not None:
        query = query.where(col(CaseRecord.household_code) == wanted.household_code)
    if wanted.open is not None:
        query = query.where(
            col(CaseRecord.closed_at).is_(None) if wanted.open else col(CaseRecord.closed_at).is_not(None)
        )
    if wanted.overdue is not None:
        late = and_(col(CaseRecord.closed_at).is_(None), col(CaseRecord.due_at) < now)
        query = query.where(late if wanted.overdue else ~late)
    query = pagination.newest_first(query, col(CaseRecord.opened_at), col(CaseRecord.case_id), cursor, limit)
    rows = (await session.exec(query)).all()
    last = rows[limit - 1][0] if len(rows) > limit else None
    return CasePage(
        items=[case_summary(record, head_name) for record, head_name in rows[:limit]],
        next_cursor=pagination.encode(last.opened_at, last.case_id) if last else None,
    )
