"""An engine for the bulk work of imports and screening runs: its statements (flagging a million
households, a chunk of rows) may take longer than the service's 10-second statement limit, which
keeps requests answering quickly while the database is slow or away.

Its statements run without parallel query workers: a parallel plan of a flagging query or an
import's checks takes every core, and the requests of cadres (the inbox) then wait behind it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.db.engine import CONNECT_TIMEOUT

BULK_STATEMENT_TIMEOUT = 600  # seconds


def create_bulk_engine(database_url: str, pool_size: int = 4) -> AsyncEngine:
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={
            "timeout": CONNECT_TIMEOUT,
            "command_timeout": BULK_STATEMENT_TIMEOUT,
            "server_settings": {"max_parallel_workers_per_gather": "0"},
        },
    )
