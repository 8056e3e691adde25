"""Writing one chunk of an import's rows (already checked cell by cell) into the register's tables
(household size, members, incomes, signals).

Rows are copied into a temporary stage (PostgreSQL COPY) and checked there against the register
(services/db/screening_import_checks.py). Rows with a key the register does not hold yet (all of
them, the first time a file comes) are copied straight into their tables: COPY writes rows several
times faster than an upsert, which probes every key and locks each row it meets. Only the rows whose
key is held go through the upsert, which counts a row whose values are those already held as
unchanged; `changed_job` moves only with a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asyncpg import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from services.db.screening_import_checks import TARGETS, held_sql, refusals_sql
from services.domain.areas import area_prefix, township_of
from services.domain.screening.import_rows import KEYS, ImportKind, Refusal, repeated_key

# Stage columns per kind: `row` (the file's row number) then the kind's columns.
_STAGES = {
    ImportKind.households: (
        "import_stage_households",
        "row int, household_code text, village_code text, head_name text, address text, household_size int",
    ),
    ImportKind.members: (
        "import_stage_members",
        "row int, household_code text, name text, id_number text, relation text, sex text, labour_capacity text,"
        " health text, disability text, schooling text, birth_date date",
    ),
    ImportKind.incomes: ("import_stage_incomes", "row int, household_code text, year int, source text, yuan float8"),
    ImportKind.signals: ("import_stage_signals", "row int, household_code text, month text, kind text, amount float8"),
}

Rows = list[tuple[int, dict[str, Any]]]


@dataclass
class ChunkOutcome:
    changed: int
    unchanged: int
    refusals: list[Refusal]


@dataclass
class _Write:
    kind: ImportKind
    job_id: int
    county_code: str
    actor: str


async def write_chunk(
    conn: AsyncConnection,
    kind: ImportKind,
    job_id: int,
    county_code: str,
    actor: str,
    rows: Rows,
) -> ChunkOutcome:
    """Writes in `conn`'s transaction; answers the rows changed, unchanged and refused."""
    stage, columns = _STAGES[kind]
    # Through SQLAlchemy first: that opens the connection's transaction, which the driver's COPY
    # and statements below then run in (committed or rolled back with it).
    await conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({columns}) ON COMMIT DELETE ROWS")
    db: Connection = (await conn.get_raw_connection()).driver_connection
    await db.execute(f"TRUNCATE {stage}")
    names = [c.split()[0] for c in columns.split(", ")]
    await db.copy_records_to_table(
        stage, records=[(number, *(values[n] for n in names[1:])) for number, values in rows], columns=names
    )
    refusals, held = await _sort_out(db, kind, stage, job_id, county_code)
    refused = {r.row for r in refusals}
    write = _Write(kind, job_id, county_code, actor)
    taken = set(held) | refused
    new = [(number, values) for number, values in rows if number not in taken]
    await _copy_new(db, write, new)
    changed = len(new) + (await _upsert(db, write, stage, held) if held else 0)
    if kind == ImportKind.households and (new or held):
        await _keep_numbering_above(db, [values for number, values in rows if number not in refused])
    refusals.sort(key=lambda r: r.row)
    return ChunkOutcome(changed=changed, unchanged=len(held) - (changed - len(new)), refusals=refusals)


async def _sort_out(
    db: Connection, kind: ImportKind, stage: str, job_id: int, county_code: str
) -> tuple[list[Refusal], list[int]]:
    """The staged rows the register refuses, and the rows (not refused) whose key it holds."""
    refusals = [
        Refusal(r["row"], r["field"], r["message"])
        for r in await db.fetch(refusals_sql(kind, stage), area_prefix(county_code) + "%")
    ]
    refused = {r.row for r in refusals}
    held: list[int] = []
    for r in await db.fetch(held_sql(kind, stage)):
        if r["row"] in refused:
            continue
        if r["import_job"] == job_id and r["import_row"] < r["row"]:  # this file's earlier row wrote the key
            refusals.append(repeated_key(kind, r["row"], r["import_row"]))
        else:
            held.append(r["row"])
    return refusals, held


async def _copy_new(db: Connection, write: _Write, rows: Rows) -> None:
    """Rows whose key the register does not hold, copied into their tables (no key to compare)."""
    if not rows:
        return
    tracking = ("import_job", "import_row", "changed_job")
    if write.kind == ImportKind.households:
        await db.copy_records_to_table(
            "households",
            records=[
                (*_place(v, write.county_code), v["head_name"], v["address"], write.actor, "not_monitored")
                for _, v in rows
            ],
            columns=[
                "code",
                "county_code",
                "township_code",
                "village_code",
                "head_name",
                "address",
                "created_by",
                "status",
            ],
        )
        await db.copy_records_to_table(
            "household_profiles",
            records=[(v["household_code"], v["household_size"], write.job_id, n, write.job_id) for n, v in rows],
            columns=["household_code", "household_size", *tracking],
        )
        return
    names = [*KEYS[write.kind], *_VALUES[write.kind], *_DERIVED.get(write.kind, ())]
    await db.copy_records_to_table(
        TARGETS[write.kind],
        records=[(*(v[name] for name in names), write.job_id, n, write.job_id) for n, v in rows],
        columns=[*names, *tracking],
    )


# The columns a row of each kind writes beside its key; a row is changed when one of them is.
def _place(v: dict[str, Any], county_code: str) -> tuple[str, str, str, str]:
    """A household's code, county, township and village (the township's code is the village's first 9 digits)."""
    return v["household_code"], county_code, township_of(v["village_code"]), v["village_code"]


_VALUES: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.members: (
        "household_code",
        "name",
        "relation",
        "sex",
        "labour_capacity",
        "health",
        "disability",
        "schooling",
    ),
    ImportKind.incomes: ("yuan",),
    ImportKind.signals: ("amount",),
}
# Columns the row's reading derives from its key (a member's birth date, from the ID number: see
# Heading.read), staged and written with it; never a change of their own.
_DERIVED: dict[ImportKind, tuple[str, ...]] = {ImportKind.members: ("birth_date",)}
# A member's key is unique among current members only (a partial unique index).
_CONFLICT = {ImportKind.members: "(id_number) WHERE ended_on IS NULL"}


async def _keep_numbering_above(db: Connection, rows: list[dict[str, Any]]) -> None:
    """Codes the platform gave must never be handed out again by the register's own numbering."""
    highest = max(int(v["household_code"][-6:]) for v in rows)
    await db.execute(
        "SELECT setval('household_number_seq', GREATEST((SELECT last_value FROM household_number_seq), $1))",
        max(highest, 1),
    )


async def _upsert(db: Connection, write: _Write, stage: str, held: list[int]) -> int:
    """Writes the staged rows `held` (their key is in the register); answers how many changed a value."""
    job_id = write.job_id
    if write.kind == ImportKind.households:
        # Only the renamed households come back (the codes are held: nothing is inserted here).
        renamed = await db.fetch(
            f"""INSERT INTO households (code, county_code, township_code, village_code, head_name, address,
                                       created_by, status)
                SELECT household_code, $1, substr(village_code, 1, 9) || '000', village_code, head_name, address,
                       $2, 'not_monitored' FROM {stage} JOIN unnest($3::int[]) AS held(row) USING (row)
                ON CONFLICT (code) DO UPDATE SET head_name = EXCLUDED.head_name, address = EXCLUDED.address
                WHERE (households.head_name, households.address) IS DISTINCT FROM (EXCLUDED.head_name, EXCLUDED.address)
                RETURNING code""",
            write.county_code,
            write.actor,
            held,
        )
        statement = f"""
            INSERT INTO household_profiles AS t (household_code, household_size, import_job, import_row, changed_job)
            SELECT household_code, household_size, $1, row, $1 FROM {stage} JOIN unnest($3::int[]) AS held(row) USING (row)
            ON CONFLICT (household_code) DO UPDATE SET
                household_size = EXCLUDED.household_size, import_job = $1, import_row = EXCLUDED.import_row,
                changed_job = CASE WHEN t.household_size IS DISTINCT FROM EXCLUDED.household_size
                                     OR t.household_code = ANY($2::text[]) THEN $1 ELSE t.changed_job END
            RETURNING t.changed_job = $1 AS changed"""
        return await db.fetchval(_count_changed(statement), job_id, [r["code"] for r in renamed], held)
    keys, values = KEYS[write.kind], _VALUES[write.kind]
    derived = _DERIVED.get(write.kind, ())
    written = ", ".join([*keys, *values, *derived])
    taken = ", ".join(f"{c} = EXCLUDED.{c}" for c in [*values, *derived])
    held_values = ", ".join(f"t.{c}" for c in values)
    new_values = ", ".join(f"EXCLUDED.{c}" for c in values)
    statement = f"""
        INSERT INTO {TARGETS[write.kind]} AS t ({written}, import_job, import_row, changed_job)
        SELECT {written}, $1, row, $1 FROM {stage} JOIN unnest($2::int[]) AS held(row) USING (row)
        ON CONFLICT {_CONFLICT.get(write.kind, f"({', '.join(keys)})")} DO UPDATE SET
            {taken}, import_job = $1, import_row = EXCLUDED.import_row,
            changed_job = CASE WHEN ROW({held_values}) IS DISTINCT FROM ROW({new_values})
                               THEN $1 ELSE t.changed_job END
        RETURNING t.changed_job = $1 AS changed"""
    return await db.fetchval(_count_changed(statement), job_id, held)


def _count_changed(upsert: str) -> str:
    """The upsert's changed rows counted in the database, not sent back one by one."""
    return f"WITH written AS ({upsert}) SELECT count(*) FILTER (WHERE changed) FROM written"
