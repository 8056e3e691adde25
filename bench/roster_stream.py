"""The monitoring-target roster (Excel) through the real endpoint beside PostgreSQL's `COPY … TO`,
its memory at two sizes, and a county's statistics for a month over a year of events.

    uv run python bench/roster_stream.py [--small 20000] [--big 200000] [--rounds 3]

Starts a read-only stack (bench/stack.py: embedded PostgreSQL, the Temporal dev server the API
connects to, the API under uvicorn over real HTTP) and creates two databases in the same
PostgreSQL server, each with its own API process: `--small` and `--big` monitoring targets of the
demo county, generated with SQL (`generate_series`), each household with its head, a monitoring
period begun in 2025 (one in four eliminated since), a plan of two measures, a case (one in ten
still open, with two step changes in the audit log) and twelve monthly visit tasks of 2025.

1. Roster: `county.officer` downloads `GET /api/v1/reports/rosters/monitoring_targets` (every
   household, 11 columns) from the big database; the baseline is `COPY (<the same query's rows and
   columns, plain>) TO STDOUT` on the same database, through asyncpg, read to the end. Rounds
   alternate (COPY, API, API, COPY). Target: API median ≤ 3 × COPY median.
2. Memory: each API process's peak RSS (VmHWM) after its download; the two sizes are separate
   processes, so each peak is that size's own. Target: big ≤ 1.5 × small.
3. Statistics: `GET /api/v1/reports/statistics?from_date=2025-12-01&as_of=2025-12-31` for the county
   on the big database (every figure of the monthly report). Target: under 10 s.
Figures go to bench/results/roster_stream.json.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bench.stack import Stack, run_on_stack  # noqa: E402
from bench.task_inbox import VILLAGES, create_database  # noqa: E402
from services.api.reports.rosters import RosterFilter, RosterKind, plain_query, roster_shape  # noqa: E402
from services.demo_case import COUNTY_OFFICER  # noqa: E402
from services.demo_data import DEMO_PASSWORD  # noqa: E402

COUNTY = "610824000000"
TARGET_TIME_RATIO, TARGET_RSS_RATIO, TARGET_STATISTICS_S = 3.0, 1.5, 10.0

# One statement per table over generate_series(1, :n); household g lives in village 1 + g % 9.
_SEED = [
    """
    INSERT INTO households (code, county_code, township_code, village_code, head_name, address, phone,
                            category, status, created_by, formerly_poor)
    SELECT village || lpad(g::text, 8, '0'), '610824000000', left(village, 9) || '000', village,
           '户主' || g, '测试地址' || g || '号', '139' || lpad(g::text, 8, '0'),
           (ARRAY['marginal', 'sudden_hardship', 'unstable_formerly_poor'])[1 + g % 3],
           CASE WHEN g % 4 = 0 THEN 'risk_eliminated' ELSE 'risk_not_eliminated' END, 'bench', g % 3 = 2
    FROM generate_series(1, :n) AS g, LATERAL (SELECT (CAST(:villages AS text[]))[1 + g % 9] AS village) AS v
    """,
    """
    INSERT INTO members (household_code, name, id_number, relation, sex, birth_date, labour_capacity)
    SELECT code, head_name, '610824' || lpad(substr(code, 13)::text, 11, '0') || 'X', '户主', 'male',
           DATE '1970-01-01', 'full'
    FROM households WHERE created_by = 'bench'
    """,
    """
    INSERT INTO monitoring_records (monitoring_id, workflow_id, household_code, county_code, township_code,
                                    village_code, status, exit_eligible, since, risk_eliminated_at, tasks, last_seq, state)
    SELECT 'bench-' || code, 'monitoring-' || code, code, county_code, township_code, village_code, status,
           false, since, CASE WHEN status = 'risk_eliminated' THEN since + interval '100 days' END, '[]', 1,
           jsonb_build_object(
             'category', category,
             'risk_types', jsonb_build_array((ARRAY['illness', 'schooling', 'disaster', 'housing'])[1 + g % 4]),
             'plans', jsonb_build_array(jsonb_build_object(
               'plan_no', 1, 'submitted_at', since + interval '5 days', 'measures', jsonb_build_array(
                 jsonb_build_object('kind', 'employment', 'content', '公益性岗位', 'owner', '镇政府',
                   'starts_on', to_char(since + interval '6 days', 'YYYY-MM-DD'), 'status', 'delivered',
                   'delivery', jsonb_build_object('delivered_on', to_char(since + interval '20 days', 'YYYY-MM-DD'))),
                 jsonb_build_object('kind', 'finance', 'content', '小额信贷', 'owner', '信用社',
                   'starts_on', to_char(since + interval '6 days', 'YYYY-MM-DD'), 'status', 'in_progress')))))
    FROM (SELECT h.*, substr(h.code, 13)::bigint AS g,
                 TIMESTAMPTZ '2025-01-01 09:00+08' + (substr(h.code, 13)::bigint % 330) * interval '1 day' AS since
          FROM households h WHERE created_by = 'bench') AS h
    """,
    """
    INSERT INTO case_records (case_id, workflow_id, run_id, household_code, county_code, township_code,
                              village_code, channel, step, outcome, policy_version, opened_at, due_at,
                              step_due_at, closed_at, last_seq, state)
    SELECT 'bench-' || household_code, 'identification-' || household_code, 'bench', household_code,
           county_code, township_code, village_code, 'cadre_screening',
           CASE WHEN open THEN 'cross_check' ELSE 'closed' END, CASE WHEN open THEN NULL ELSE 'monitoring_target' END,
           1, since - interval '12 days', since + interval '3 days', NULL,
           CASE WHEN open THEN NULL ELSE since END, 3, '{}'
    FROM (SELECT m.*, substr(m.household_code, 13)::bigint % 10 = 0 AS open FROM monitoring_records m
          WHERE m.monitoring_id LIKE 'bench-%') AS m
    """,
    """
    INSERT INTO audit_entries (case_id, seq, subject_type, subject_id, action, actor_username, actor_area_code, at,
                               data, after)
    SELECT c.case_id, s.seq, 'case', c.case_id, 'bench', 'bench', c.village_code,
           c.opened_at + s.seq * interval '1 day', '{}',
           jsonb_build_object('step', s.step, 'step_due_at', c.opened_at + (s.seq + 2) * interval '1 day')
    FROM case_records c, (VALUES (1, 'authorisation'), (2, 'cross_check')) AS s(seq, step)
    WHERE c.run_id = 'bench'
    """,
    """
    INSERT INTO visit_tasks (monitoring_id, period, household_code, county_code, township_code, village_code,
                             opens_on, due_at, status, visit_count, first_visited_on, last_seq)
    SELECT m.monitoring_id, to_char(month, 'YYYY-MM'), m.household_code, m.county_code, m.township_code,
           m.village_code, month::date, (month + interval '1 month')::timestamptz,
           CASE WHEN visited THEN 'done' ELSE 'overdue' END, CASE WHEN visited THEN 1 ELSE 0 END,
           CASE WHEN visited THEN month::date + 10 END, 1
    FROM monitoring_records m,
         LATERAL (SELECT month, (substr(m.household_code, 13)::bigint + extract(month FROM month)::int) % 7 <> 0 AS visited
                  FROM generate_series(TIMESTAMP '2025-01-01', TIMESTAMP '2025-12-01', interval '1 month') AS month) AS t
    WHERE m.monitoring_id LIKE 'bench-%'
    """,
]


async def seed(url: str, households: int) -> dict[str, Any]:
    # Seeding statements run for minutes at 200,000: beyond the service's statement timeout.
    engine = create_async_engine(url, connect_args={"command_timeout": 1800})
    started = time.perf_counter()
    async with engine.begin() as conn:
        for statement in _SEED:
            await conn.execute(text(statement), {"n": households, "villages": VILLAGES})
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
        counts = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM households WHERE status <> 'not_monitored'),"
                    " (SELECT count(*) FROM case_records), (SELECT count(*) FROM audit_entries),"
                    " (SELECT count(*) FROM visit_tasks)"
                )
            )
        ).one()
    await engine.dispose()
    return {
        "monitoring_targets": counts[0],
        "cases": counts[1],
        "audit_entries": counts[2],
        "visit_tasks": counts[3],
        "seed_seconds": round(time.perf_counter() - started, 1),
    }


def copy_sql() -> str:
    """The roster's rows and columns as the county officer gets them, plain, for `COPY`."""
    shape = roster_shape(RosterKind.monitoring_targets, RosterFilter(scope=COUNTY, whole_personal_data=True))
    compiled = plain_query(shape).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return str(compiled)


async def timed_copy(url: str, sql: str) -> tuple[float, int]:
    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    size = 0

    async def sink(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)

    try:
        started = time.perf_counter()
        await connection.copy_from_query(sql, output=sink)
        return time.perf_counter() - started, size
    finally:
        await connection.close()


async def timed_download(client: httpx.AsyncClient) -> tuple[float, bytes]:
    started = time.perf_counter()
    async with client.stream("GET", "/api/v1/reports/rosters/monitoring_targets") as answer:
        answer.raise_for_status()
        body = b"".join([chunk async for chunk in answer.aiter_bytes()])
    return time.perf_counter() - started, body


def sheet_rows(workbook: bytes) -> int:
    """Rows in the sheet, headings included, read by unzipping the sheet as a stream."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as package, package.open("xl/worksheets/sheet1.xml") as sheet:
        rows, tail = 0, b""
        while chunk := sheet.read(1 << 20):
            rows += (tail + chunk).count(b"<row>")
            tail = chunk[-4:]
        return rows


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM")


async def signed_in(http: httpx.AsyncClient, base: str) -> httpx.AsyncClient:
    login = await http.post(f"{base}/api/v1/auth/login", json={"username": COUNTY_OFFICER, "password": DEMO_PASSWORD})
    login.raise_for_status()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    return httpx.AsyncClient(base_url=base, timeout=120, headers=headers)


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    big_url = await create_database(stack.database_url, "bench_roster_big")
    big_env = stack.env | {"DATABASE_URL": big_url}
    stack.prepare_database(big_env)
    print(f"seeding {args.small:,} and {args.big:,} monitoring targets…", flush=True)
    sizes = {"small": await seed(stack.database_url, args.small), "big": await seed(big_url, args.big)}
    print(sizes, flush=True)
    big_api, big_base = stack.start_api("api-roster-big", big_env)
    assert stack.api is not None
    apis = {"small": (stack.api.pid, stack.api_url), "big": (big_api.pid, big_base)}
    sql = copy_sql()
    async with httpx.AsyncClient(timeout=120) as http:
        clients = {size: await signed_in(http, base) for size, (_, base) in apis.items()}
        rss_before = {size: peak_rss_mb(pid) for size, (pid, _) in apis.items()}
        small_seconds, small_book = await timed_download(clients["small"])
        rows = {"small": sheet_rows(small_book) - 1}
        copy_times: list[float] = []
        api_times: list[float] = []
        copy_bytes = workbook_bytes = 0
        for round_no in range(args.rounds):
            order = ("copy", "api", "api", "copy") if round_no % 2 == 0 else ("api", "copy", "copy", "api")
            for what in order:
                if what == "copy":
                    seconds, copy_bytes = await timed_copy(big_url, sql)
                    copy_times.append(seconds)
                else:
                    seconds, book = await timed_download(clients["big"])
                    api_times.append(seconds)
                    workbook_bytes = len(book)
                    rows["big"] = sheet_rows(book) - 1
                    del book
                print(f"  {what}: {seconds:.2f} s", flush=True)
        rss_after = {size: peak_rss_mb(pid) for size, (pid, _) in apis.items()}
        statistics_times = []
        for _ in range(3):
            started = time.perf_counter()
            answer = await clients["big"].get(
                "/api/v1/reports/statistics", params={"from_date": "2025-12-01", "as_of": "2025-12-31"}
            )
            answer.raise_for_status()
            statistics_times.append(time.perf_counter() - started)
        figures = answer.json()
        for client in clients.values():
            await client.aclose()
    copy_median, api_median = statistics.median(copy_times), statistics.median(api_times)
    time_ratio = round(api_median / copy_median, 2)
    rss_ratio = round(rss_after["big"] / rss_after["small"], 3)
    statistics_median = round(statistics.median(statistics_times), 2)
    return {
        "sizes": sizes,
        "roster_rows": rows,
        "roster": {
            "copy_seconds": [round(t, 3) for t in copy_times],
            "api_seconds": [round(t, 3) for t in api_times],
            "copy_median_s": round(copy_median, 3),
            "api_median_s": round(api_median, 3),
            "small_api_s": round(small_seconds, 3),
            "copy_bytes": copy_bytes,
            "workbook_bytes": workbook_bytes,
            "ratio": time_ratio,
        },
        "peak_rss_mb": {"before_download": rss_before, "after_downloads": rss_after, "big_over_small": rss_ratio},
        "statistics": {
            "seconds": [round(t, 2) for t in statistics_times],
            "median_s": statistics_median,
            "households_total": figures["households"]["total"],
            "visits_owed": figures["visits"]["owed"],
            "open_cases": figures["open_cases"]["open"],
        },
        "targets": {
            "time_ratio_at_most": TARGET_TIME_RATIO,
            "rss_ratio_at_most": TARGET_RSS_RATIO,
            "statistics_seconds_under": TARGET_STATISTICS_S,
        },
        "met": {
            "time": time_ratio <= TARGET_TIME_RATIO,
            "memory": rss_ratio <= TARGET_RSS_RATIO,
            "statistics": statistics_median < TARGET_STATISTICS_S,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--big", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    result = run_on_stack("roster_stream", lambda stack: asyncio.run(measure(stack, args)), read_only=True)
    roster = result["roster"]
    print(f"sizes: {result['sizes']}")
    print(
        f"roster of {result['roster_rows']['big']:,} rows: API median {roster['api_median_s']} s, "
        f"COPY median {roster['copy_median_s']} s, ratio {roster['ratio']} (target ≤ {TARGET_TIME_RATIO})"
    )
    rss = result["peak_rss_mb"]
    print(
        f"API peak RSS: {rss['after_downloads']['small']} MB at {result['roster_rows']['small']:,} rows, "
        f"{rss['after_downloads']['big']} MB at {result['roster_rows']['big']:,}: ratio {rss['big_over_small']} "
        f"(target ≤ {TARGET_RSS_RATIO})"
    )
    print(
        f"county statistics for 2025-12: median {result['statistics']['median_s']} s "
        f"(target < {TARGET_STATISTICS_S} s); met: {result['met']}"
    )


if __name__ == "__main__":
    main()
