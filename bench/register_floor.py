"""What writing an import's rows into the register's tables costs, whatever the import does first.

Used by bench/screening.py after its large import: the rows the import jobs wrote (households, their
profiles, their incomes) are set aside, then written again by one `INSERT … SELECT` per table into
scratch copies of those tables, three ways:

  as_registered  the copies have the tables' indexes and foreign keys (to `areas`, and to the copy
                 of `households`): no import can write these rows for less
  indexes_only   the same without the foreign keys
  bare           neither (the heap and its WAL only)

Each is timed beside the run's baseline COPY: if `as_registered` alone is over the target's
multiple of the baseline, the target cannot be met by the import's code, only by the schema.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from asyncpg import Connection, InsufficientPrivilegeError

from services.db.bulk_engine import create_bulk_engine

# In foreign-key order: a copy is written after the copies it refers to.
_TABLES = ("households", "household_profiles", "household_incomes")
_ROWS = {
    "households": "SELECT h.* FROM households h JOIN household_profiles p ON p.household_code = h.code"
    " WHERE p.import_job = ANY($1::int[])",
    "household_profiles": "SELECT * FROM household_profiles WHERE import_job = ANY($1::int[])",
    "household_incomes": "SELECT * FROM household_incomes WHERE import_job = ANY($1::int[])",
}
VARIANTS = ("as_registered", "indexes_only", "bare")


async def measure_floor(database_url: str, job_ids: list[int]) -> dict[str, Any]:
    """Seconds to write the jobs' rows into copies of the register's tables, per variant, and the rows."""
    engine = create_bulk_engine(database_url, pool_size=1)  # no parallel workers, as the import's statements
    try:
        async with engine.connect() as conn:
            db: Connection = (await conn.get_raw_connection()).driver_connection
            rows = {}
            for table in _TABLES:  # set aside first: reading the register is not part of the writing
                await db.execute(f"DROP TABLE IF EXISTS floor_source_{table}")
                await db.execute(f"CREATE UNLOGGED TABLE floor_source_{table} AS {_ROWS[table]}", job_ids)
                rows[table] = await db.fetchval(f"SELECT count(*) FROM floor_source_{table}")
            seconds = {variant: await _write_copies(db, variant) for variant in VARIANTS}
            for table in _TABLES:
                await db.execute(f"DROP TABLE floor_source_{table}")
    finally:
        await engine.dispose()
    return {"seconds": seconds, "rows": rows}


async def _write_copies(db: Connection, variant: str) -> float:
    for table in reversed(_TABLES):
        await db.execute(f"DROP TABLE IF EXISTS floor_{table}")
    for table in _TABLES:
        included = "INCLUDING DEFAULTS" if variant == "bare" else "INCLUDING DEFAULTS INCLUDING INDEXES"
        await db.execute(f"CREATE TABLE floor_{table} (LIKE {table} {included})")
        if variant == "as_registered":
            for definition in await _foreign_keys(db, table):
                await db.execute(f"ALTER TABLE floor_{table} ADD {definition}")
    with contextlib.suppress(InsufficientPrivilegeError):  # each variant starts without the last one's dirty pages
        await db.execute("CHECKPOINT")
    started = time.perf_counter()
    for table in _TABLES:
        await db.execute(f"INSERT INTO floor_{table} SELECT * FROM floor_source_{table}")
    seconds = time.perf_counter() - started
    for table in reversed(_TABLES):
        await db.execute(f"DROP TABLE floor_{table}")
    return seconds


async def _foreign_keys(db: Connection, table: str) -> list[str]:
    """The table's foreign keys as `FOREIGN KEY … REFERENCES …`, pointing at the copies where the
    referenced table is one of those copied."""
    definitions = await db.fetch(
        "SELECT pg_get_constraintdef(oid) AS definition, confrelid::regclass::text AS target"
        " FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'",
        table,
    )
    return [
        d["definition"].replace(f"REFERENCES {d['target']}(", f"REFERENCES floor_{d['target']}(")
        if d["target"] in _TABLES
        else d["definition"]
        for d in definitions
    ]
