"""The province export through the real endpoint, beside PostgreSQL's own COPY of the same rows.

    uv run python bench/province_export.py [--households 20000] [--members 3]

Starts a read-only stack (bench/stack.py: embedded PostgreSQL, the Temporal dev server the API
connects to, the API under uvicorn, over real HTTP) and generates `--households` households of
the demo county with `--members` members each, straight with SQL. Then, as the county officer:

  full     the first export (every household and member) and its file downloaded
  steady   an export after the acknowledgement, with nothing changed (every record hashed,
           nothing sent): what a daily exchange costs when the county is quiet
  changed  an export after 1 % of the households changed (a flag set), file downloaded

and, in the same run and the same database, `COPY (SELECT households JOIN members) TO STDOUT`
of the same rows (the baseline: the database alone, no hashing, no JSON). Figures: seconds and
the ratio to COPY for each, and the batch sizes. Written to bench/results/province_export.json.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.stack import Stack, run_on_stack  # noqa: E402
from services.db.engine import create_engine  # noqa: E402
from services.demo_case import COUNTY_OFFICER  # noqa: E402
from services.demo_data import DEMO_PASSWORD, TOWNSHIPS  # noqa: E402

VILLAGES = [v for _, villages in TOWNSHIPS.values() for v in villages]
_SEED = [
    """
    INSERT INTO households (code, county_code, township_code, village_code, head_name, address, phone, status, created_by)
    SELECT village || (100000 + g)::text, '610824000000', left(village, 9) || '000', village,
           '户主' || g, '测试地址' || g || '号', '138' || lpad(g::text, 8, '0'), 'not_monitored', 'bench'
    FROM generate_series(1, :n) AS g, LATERAL (SELECT (CAST(:villages AS text[]))[1 + g % 9] AS village) AS v
    """,
    """
    INSERT INTO members (household_code, name, id_number, relation, sex, birth_date, labour_capacity)
    SELECT h.code, '成员' || h.code || '-' || k, '9' || lpad((substr(h.code, 13)::bigint * 10 + k)::text, 16, '0') || 'X',
           CASE k WHEN 1 THEN '户主' ELSE '家庭成员' END, CASE k % 2 WHEN 1 THEN 'male' ELSE 'female' END,
           date '1960-01-01' + (k * 3000), 'full'
    FROM households h, generate_series(1, :members) AS k WHERE h.created_by = 'bench'
    """,
]
_ROWS = """
    SELECT h.code, h.county_code, h.township_code, h.village_code, h.head_name, h.address, h.phone,
                 h.category, h.status, h.formerly_poor, h.poverty_exit_year, h.minimum_living_allowance,
                 h.extreme_poverty_support, h.disabled_member, h.merged_into,
                 m.id, m.name, m.id_number, m.relation, m.sex, m.birth_date, m.labour_capacity, m.health,
                 m.disability, m.schooling, m.joined_on, m.ended_on
          FROM households h JOIN members m ON m.household_code = h.code
          WHERE h.county_code = '610824000000'
"""


async def seed(url: str, households: int, members: int) -> float:
    engine = create_engine(url, pool_size=1)
    started = time.perf_counter()
    async with engine.begin() as conn:
        for statement in _SEED:
            await conn.execute(text(statement), {"n": households, "members": members, "villages": VILLAGES})
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
    await engine.dispose()
    return time.perf_counter() - started


async def copy_seconds(url: str) -> tuple[float, int]:
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(plain)
    try:
        size = 0

        async def sink(chunk: bytes) -> None:
            nonlocal size
            size += len(chunk)

        started = time.perf_counter()
        await conn.copy_from_query(_ROWS, output=sink)  # COPY (…) TO STDOUT
        return time.perf_counter() - started, size
    finally:
        await conn.close()


async def export(http: httpx.AsyncClient) -> tuple[float, dict[str, Any] | None, int]:
    """Seconds for an export and its file's download; the batch; the file's bytes."""
    started = time.perf_counter()
    answer = await http.post("/api/v1/province/exports")
    answer.raise_for_status()
    batch = answer.json()["batch"]
    made = time.perf_counter() - started
    size = 0
    if batch is not None:
        file = await http.get(f"/api/v1/province/exports/{batch['batch_no']}/file")
        file.raise_for_status()
        size = len(file.content)
    seconds = time.perf_counter() - started
    print(f"export {made:.2f} s, with the download {seconds:.2f} s", flush=True)
    if batch is not None:
        receipt = {k: batch[k] for k in ("batch_no", "sha256", "record_count")} | {"receipt_id": "bench"}
        (await http.post(f"/api/v1/province/exports/{batch['batch_no']}/ack", json=receipt)).raise_for_status()
    return seconds, batch, size


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    print(f"seeding {args.households:,} households × {args.members} members…", flush=True)
    seeded = await seed(stack.database_url, args.households, args.members)
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=600) as http:
        login = await http.post("/api/v1/auth/login", json={"username": COUNTY_OFFICER, "password": DEMO_PASSWORD})
        login.raise_for_status()
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        baseline, copied = await copy_seconds(stack.database_url)
        full, full_batch, full_bytes = await export(http)
        steady, steady_batch, _ = await export(http)
        engine = create_engine(stack.database_url, pool_size=1)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE households SET minimum_living_allowance = true WHERE created_by = 'bench' AND substr(code, 13)::int % 100 = 0"
                )
            )
        await engine.dispose()
        changed, changed_batch, _ = await export(http)
        baseline_again, _ = await copy_seconds(stack.database_url)
    copy = min(baseline, baseline_again)
    assert full_batch is not None and changed_batch is not None and steady_batch is None
    return {
        "households": args.households,
        "members_each": args.members,
        "seed_seconds": round(seeded, 1),
        "copy_seconds": round(copy, 3),
        "copy_bytes": copied,
        "full": {
            "seconds": round(full, 2),
            "ratio_to_copy": round(full / copy, 1),
            "records": full_batch["record_count"],
            "file_bytes": full_bytes,
        },
        "steady": {"seconds": round(steady, 2), "ratio_to_copy": round(steady / copy, 1), "records": 0},
        "changed": {
            "seconds": round(changed, 2),
            "ratio_to_copy": round(changed / copy, 1),
            "records": changed_batch["record_count"],
        },
        "through": "uvicorn over real HTTP on 127.0.0.1; COPY through asyncpg on the same server",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--members", type=int, default=3)
    args = parser.parse_args()
    result = run_on_stack("province_export", lambda stack: asyncio.run(measure(stack, args)), read_only=True)
    print(result)


if __name__ == "__main__":
    main()
