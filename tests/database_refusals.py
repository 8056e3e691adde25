"""PostgreSQL refusing data, for tests: a CHECK constraint, added for the test and dropped after
it, that refuses any row of one table whose column holds a marker. The refusal is PostgreSQL's
own (SQLSTATE 23514), met by the real service code on its normal path, whatever validation the
API does in front of it; other tests' rows, without the marker, are untouched."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from services.db.engine import create_engine


def new_marker() -> str:
    return f"REFUSED-{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def refusing(database_url: str, table: str, column: str, marker: str) -> AsyncIterator[None]:
    """While inside, PostgreSQL refuses every new `table` row whose `column` (as text) holds `marker`."""
    name = f"test_refuses_{marker.lower().replace('-', '_')}"
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    f"ALTER TABLE {table} ADD CONSTRAINT {name} "
                    f"CHECK (position('{marker}' in {column}::text) = 0) NOT VALID"
                )
            )
        try:
            yield
        finally:
            async with engine.begin() as conn:
                await conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
    finally:
        await engine.dispose()
