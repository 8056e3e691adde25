"""Statements that stand alone, run without a transaction around them.

A lookup, or a write that is one statement, needs no BEGIN and COMMIT (or ROLLBACK) of its own:
under READ COMMITTED every statement reads its own snapshot anyway, and one statement is atomic.
In autocommit the driver sends neither, two round trips saved for each such transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db.engine import AUTOCOMMIT


async def session_connection(session: AsyncSession) -> AsyncConnection:
    """The connection of the session's transaction if one is in progress (what runs on it joins it);
    otherwise a connection in autocommit, used by the session until its next commit or close."""
    if session.in_transaction():
        return await session.connection()
    return await session.connection(execution_options=AUTOCOMMIT)
