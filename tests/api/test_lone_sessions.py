"""Lone sessions (services/api/deps.py): no transaction around their statements, and none of that
left on the pooled connection for the next request's ordinary session."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.deps import AppResources
from services.db.engine import create_engine, session_factory


async def _driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, after one statement on it."""
    await session.execute(text("SELECT 1"))
    return (await (await session.connection()).get_raw_connection()).driver_connection


async def test_a_lone_session_runs_outside_a_transaction_and_leaves_none_behind(live_api: FastAPI) -> None:
    shared: AppResources = live_api.state.resources
    engine = create_engine(shared.settings.database_url, pool_size=1)  # one connection, used by turns
    resources = dataclasses.replace(shared, engine=engine, sessions=session_factory(engine))
    try:
        async with resources.lone_sessions() as lone:
            first = await _driver_connection(lone)
            assert not first.is_in_transaction()  # no BEGIN was sent
        async with resources.sessions() as ordinary:
            again = await _driver_connection(ordinary)
            assert again is first  # the same pooled connection, back in its ordinary mode
            assert again.is_in_transaction()
        async with resources.lone_sessions() as lone:
            assert not (await _driver_connection(lone)).is_in_transaction()
    finally:
        await engine.dispose()
