"""Writing one chunk of an import's rows (already checked cell by cell) into the register's tables.

Rows are copied into a temporary stage (PostgreSQL COPY), checked there against the register in
a few set-wise statements (unknown village or household, another village's household, a key an
earlier row of the same file already carried), and the rest upserted by their natural key. A row
whose values are those already held is counted unchanged; `changed_job` moves only with a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asyncpg import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from services.domain.areas import area_prefix
from services.domain.screening.import_rows import KEYS, ImportKind, Refusal

# Stage columns per kind: `row` (the file's row number) then the kind's columns.
_STAGES = {
    ImportKind.households: (
        "import_stage_households",
        "row int, household_code text, village_code text, head_name text, address text, household_size int",
    ),
    ImportKind.incomes: ("import_stage_incomes", "row int, household_code text, year int, source text, yuan float8"),
    ImportKind.signals: ("import_stage_signals", "row int, household_code text, month text, kind text, amount float8"),
}
_TARGETS = {
    ImportKind.households: "household_profiles",
    ImportKind.incomes: "household_incomes",
    ImportKind.signals: "household_signals",
}


@dataclass
class ChunkOutcome:
    changed: int
    unchanged: int
    refusals: list[Refusal]


async def write_chunk(
    conn: AsyncConnection,
    kind: ImportKind,
    job_id: int,
    county_code: str,
    actor: str,
    rows: list[tuple[int, dict[str, Any]]],
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
    refusals = [
        Refusal(r["row"], r["field"], r["message"])
        for r in await db.fetch(_checks(kind, stage), job_id, area_prefix(county_code) + "%")
    ]
    if refusals:
        await db.execute(f"DELETE FROM {stage} WHERE row = ANY($1::int[])", [r.row for r in refusals])
    changed = await _upsert(db, kind, stage, job_id, county_code, actor)
    return ChunkOutcome(changed=changed, unchanged=len(rows) - len(refusals) - changed, refusals=refusals)


def _checks(kind: ImportKind, stage: str) -> str:
    """One statement answering (row, field, message) for every staged row the register refuses;
    $1 is the job, $2 the county's code prefix for LIKE.

    Each staged row looks its key up in the register (LATERAL … LIMIT 1: an index probe per row),
    so a chunk costs the same however large the register grows; a join would be planned as a scan
    of the whole table for every chunk, the file's import then growing with its square."""
    key = " AND ".join(f"t.{k} = s.{k}" for k in KEYS[kind])
    duplicate = f"""
        SELECT s.row, '户编号' AS field, '与第' || t.import_row || '行重复（同一条记录出现两次）' AS message
        FROM {stage} s CROSS JOIN LATERAL (
            SELECT t.import_row FROM {_TARGETS[kind]} t WHERE {key} AND t.import_job = $1 AND t.import_row < s.row
            LIMIT 1) t"""
    if kind == ImportKind.households:
        return f"""
        SELECT DISTINCT ON (row) row, field, message FROM (
            SELECT s.row, '村代码' AS field, '没有这个村级区划代码，或该村不在本县' AS message
            FROM {stage} s LEFT JOIN areas a ON a.code = s.village_code AND a.level = 'village'
            WHERE a.code IS NULL OR s.village_code NOT LIKE $2
          UNION ALL
            SELECT s.row, '户编号', CASE WHEN h.merged_into IS NOT NULL THEN '该户已并入其他农户'
                                        ELSE '该户编号已登记在其他村' END
            FROM {stage} s CROSS JOIN LATERAL (
                SELECT h.village_code, h.merged_into FROM households h WHERE h.code = s.household_code LIMIT 1) h
            WHERE h.village_code <> s.village_code OR h.merged_into IS NOT NULL
          UNION ALL {duplicate}
        ) refused ORDER BY row"""
    return f"""
        SELECT DISTINCT ON (row) row, field, message FROM (
            SELECT s.row, '户编号' AS field, '户编号未登记，或该户不在本县' AS message
            FROM {stage} s LEFT JOIN LATERAL (
                SELECT h.code, h.county_code FROM households h
                WHERE h.code = s.household_code AND h.merged_into IS NULL LIMIT 1) h ON true
            WHERE h.code IS NULL OR h.county_code <> substr($2, 1, 6) || '000000'
          UNION ALL {duplicate}
        ) refused ORDER BY row"""


async def _upsert(db: Connection, kind: ImportKind, stage: str, job_id: int, county_code: str, actor: str) -> int:
    """Writes the staged rows; answers how many changed a value (or were new)."""
    if kind == ImportKind.households:
        # Only the renamed households come back (a new row has no xmax): a million new codes need not.
        renamed = await db.fetch(
            f"""WITH written AS (INSERT INTO households (code, county_code, township_code, village_code, head_name, address,
                                        created_by, status)
                SELECT household_code, $1, substr(village_code, 1, 9) || '000', village_code, head_name, address,
                       $2, 'not_monitored' FROM {stage}
                ON CONFLICT (code) DO UPDATE SET head_name = EXCLUDED.head_name, address = EXCLUDED.address
                WHERE (households.head_name, households.address) IS DISTINCT FROM (EXCLUDED.head_name, EXCLUDED.address)
                RETURNING code, xmax = 0 AS inserted)
                SELECT code FROM written WHERE NOT inserted""",
            county_code,
            actor,
        )
        # Codes the platform gave must never be handed out again by the register's own numbering.
        await db.execute(
            f"""SELECT setval('household_number_seq', GREATEST(
                    (SELECT last_value FROM household_number_seq),
                    (SELECT coalesce(max(right(household_code, 6)::int), 1) FROM {stage})))"""
        )
        statement = f"""
            INSERT INTO household_profiles AS t (household_code, household_size, import_job, import_row, changed_job)
            SELECT household_code, household_size, $1, row, $1 FROM {stage}
            ON CONFLICT (household_code) DO UPDATE SET
                household_size = EXCLUDED.household_size, import_job = $1, import_row = EXCLUDED.import_row,
                changed_job = CASE WHEN t.household_size IS DISTINCT FROM EXCLUDED.household_size
                                     OR t.household_code = ANY($2::text[]) THEN $1 ELSE t.changed_job END
            RETURNING t.changed_job = $1 AS changed"""
        return await db.fetchval(_count_changed(statement), job_id, [r["code"] for r in renamed])
    value = "yuan" if kind == ImportKind.incomes else "amount"
    keys = ", ".join(KEYS[kind])
    statement = f"""
        INSERT INTO {_TARGETS[kind]} AS t ({keys}, {value}, import_job, import_row, changed_job)
        SELECT {keys}, {value}, $1, row, $1 FROM {stage}
        ON CONFLICT ({keys}) DO UPDATE SET
            {value} = EXCLUDED.{value}, import_job = $1, import_row = EXCLUDED.import_row,
            changed_job = CASE WHEN t.{value} IS DISTINCT FROM EXCLUDED.{value} THEN $1 ELSE t.changed_job END
        RETURNING t.changed_job = $1 AS changed"""
    return await db.fetchval(_count_changed(statement), job_id)


def _count_changed(upsert: str) -> str:
    """The upsert's changed rows counted in the database, not sent back one by one."""
    return f"WITH written AS ({upsert}) SELECT count(*) FILTER (WHERE changed) FROM written"
