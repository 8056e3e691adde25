"""A statement compiled once and sent straight to asyncpg (services/db/direct.py) must send what
SQLAlchemy would send, run only where it cannot slip out of a transaction, and leave no dead
connection in the pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from sqlalchemy import ARRAY, DateTime, Integer, String, bindparam, false, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.direct import DirectStatement
from services.db.engine import create_engine, standalone
from services.settings import Settings

# JSON serialised by its bind processor (None as JSON null, as SQLAlchemy sends it), arrays, a
# timestamp, a value fixed in the statement, a parameter used twice.
STATEMENT = select(
    bindparam("doc", type_=JSONB()),
    bindparam("nothing", type_=JSONB()),
    bindparam("names", type_=ARRAY(String())),
    bindparam("at", type_=DateTime(timezone=True)),
    false(),
    bindparam("n", type_=Integer()) + bindparam("n", type_=Integer()),
    func.coalesce(bindparam("maybe", type_=String()), "none"),
)
PARAMS = {
    "doc": {"名称": "张三", "items": [1, 2.5, None], "ok": True},
    "nothing": None,
    "names": ["甲", "乙"],
    "at": datetime(2026, 12, 6, 16, 30, tzinfo=UTC),
    "n": 21,
    "maybe": None,
}


@pytest_asyncio.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    # One connection, not pinged when it was just returned: a dead one left in the pool would be
    # handed out again.
    engine = create_engine(settings.database_url, pool_size=1, ping_after_idle=60)
    yield engine
    await engine.dispose()


async def test_sends_what_sqlalchemy_sends(engine: AsyncEngine) -> None:
    direct = DirectStatement(STATEMENT, engine.dialect)
    async with standalone(engine).connect() as conn:
        expected = tuple((await conn.execute(STATEMENT, PARAMS)).one())
        got = await direct.first(conn, PARAMS)
    assert got is not None
    assert tuple(got) == expected
    assert expected[0] == PARAMS["doc"] and expected[5] == 42 and expected[6] == "none"


async def test_refused_inside_a_transaction(engine: AsyncEngine) -> None:
    """SQLAlchemy begins its transaction at its first statement: one sent around it would not be in it."""
    direct = DirectStatement(STATEMENT, engine.dialect)
    async with engine.connect() as conn:
        with pytest.raises(RuntimeError, match="autocommit"):
            await direct.first(conn, PARAMS)


async def test_a_connection_that_died_is_not_handed_out_again(engine: AsyncEngine) -> None:
    backend = DirectStatement(select(func.pg_backend_pid()), engine.dialect)
    terminate_itself = DirectStatement(select(func.pg_terminate_backend(func.pg_backend_pid())), engine.dialect)
    async with standalone(engine).connect() as conn:
        first = await backend.first(conn, {})
        with pytest.raises(Exception):  # noqa: B017  asyncpg's, whichever way the server closed it
            await terminate_itself.first(conn, {})
    async with standalone(engine).connect() as conn:
        again = await backend.first(conn, {})
    assert first is not None and again is not None and again[0] != first[0]
