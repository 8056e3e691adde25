""" "My tasks" for a township approver through the real endpoint, at a thousand cases and at a million.

    uv run python bench/task_inbox.py [--cases 1000000] [--rounds 4] [--requests 100]

Starts a read-only stack (bench/stack.py: embedded PostgreSQL, the Temporal dev server the API
connects to, and the API under uvicorn, over real HTTP) and, in the same PostgreSQL server, a
second database with its own API process. The first database gets 1,000 cases, the second
`--cases` (a million by default), generated straight with SQL (`generate_series`):

  households   one per case, spread over the demo county's 9 villages in 4 townships
  case_records one per household; one case in five is open
  tasks        every case has a closed task of its history; every open case one open task
               (village cadres 60 %, township approvers 30 %, county officers 10 %), due from
               five days ago to fifteen days ahead: 200,000 open tasks at a million cases

Task counts per inbox come from the trigger of migration 0005, as in the service. Then
`dongkeng.approver` (东坑镇) asks for the first page of "my tasks", alternating between the
two databases (`--rounds` × `--requests` each, after a warm-up), and a few other shapes of the
same endpoint (a step, overdue only, the second page by cursor). Target: the first page's median
at a million cases within 1.5× its median at a thousand, and its 99th percentile under 50 ms.
Figures go to bench/results/task_inbox.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bench.stack import Stack, run_on_stack  # noqa: E402
from services.db.engine import create_engine  # noqa: E402
from services.demo_case import TOWNSHIP_APPROVER  # noqa: E402
from services.demo_data import DEMO_PASSWORD, TOWNSHIPS  # noqa: E402

SMALL = 1_000
TARGET_RATIO, TARGET_P99_MS = 1.5, 50.0
PAGE = 50
VILLAGES = [v for _, villages in TOWNSHIPS.values() for v in villages]

# One statement per table, each over generate_series(1, :n). Open cases are those with g % 5 = 0;
# `kind` picks the open task's role and step from (g / 5) % 10.
_SEED = [
    """
    INSERT INTO households (code, county_code, township_code, village_code, head_name, address, status, created_by)
    SELECT village || lpad(g::text, 8, '0'), '610824000000', left(village, 9) || '000', village,
           '户主' || g, '测试地址', 'not_monitored', 'bench'
    FROM generate_series(1, :n) AS g, LATERAL (SELECT (CAST(:villages AS text[]))[1 + g % 9] AS village) AS v
    """,
    """
    INSERT INTO case_records (case_id, workflow_id, run_id, household_code, county_code, township_code,
                              village_code, channel, step, outcome, policy_version, opened_at, due_at,
                              step_due_at, closed_at, last_seq, state)
    SELECT 'bench' || g, 'identification-' || code, 'bench', code, county_code, township_code, village_code,
           'cadre_screening', CASE WHEN open THEN 'township_review' ELSE 'closed' END,
           CASE WHEN open THEN NULL ELSE 'monitoring_target' END, 1, opened, opened + interval '15 days',
           CASE WHEN open THEN opened + interval '2 days' END,
           CASE WHEN open THEN NULL ELSE opened + interval '9 days' END,
           12, jsonb_build_object('case_id', 'bench' || g, 'household_code', code, 'step',
                                  CASE WHEN open THEN 'township_review' ELSE 'closed' END)
    FROM (SELECT g, g % 5 = 0 AS open, now() - (g % 400) * interval '1 day' AS opened,
                 h.code, h.county_code, h.township_code, h.village_code
          FROM generate_series(1, :n) AS g
          JOIN households h ON h.code = (CAST(:villages AS text[]))[1 + g % 9] || lpad(g::text, 8, '0')) AS c
    """,
    r"""
    INSERT INTO tasks (key, source, case_id, workflow_id, step, action, title, household_code, county_code,
                       township_code, village_code, role, area_code, due_at, opened_at, opened_seq,
                       closed_at, closed_seq, closed_by)
    SELECT c.case_id || '\:home_verification', 'identification', c.case_id, c.workflow_id, 'home_verification',
           'verify_home', '入户核查', c.household_code, c.county_code, c.township_code, c.village_code,
           'village_cadre', c.village_code, c.opened_at + interval '3 days', c.opened_at, 1,
           c.opened_at + interval '1 day', 2, 'bench'
    FROM case_records c WHERE c.run_id = 'bench'
    """,
    r"""
    INSERT INTO tasks (key, source, case_id, workflow_id, step, action, title, household_code, county_code,
                       township_code, village_code, role, area_code, due_at, opened_at, opened_seq)
    SELECT c.case_id || '\:open', 'identification', c.case_id, c.workflow_id, k.step, k.action, k.title,
           c.household_code, c.county_code, c.township_code, c.village_code, k.role,
           CASE k.role WHEN 'village_cadre' THEN c.village_code WHEN 'township_approver' THEN c.township_code
                       ELSE c.county_code END,
           now() + ((g * 7919) % 480 - 120) * interval '1 hour', now() - interval '1 day', 11
    FROM (SELECT c.*, substr(c.case_id, 6)::bigint AS g FROM case_records c
          WHERE c.run_id = 'bench' AND c.closed_at IS NULL) AS c
    JOIN (VALUES (0, 'village_cadre', 'home_verification', 'verify_home', '入户核查'),
                 (1, 'village_cadre', 'home_verification', 'verify_home', '入户核查'),
                 (2, 'village_cadre', 'authorisation', 'record_authorisation', '承诺授权'),
                 (3, 'village_cadre', 'authorisation', 'record_authorisation', '承诺授权'),
                 (4, 'village_cadre', 'democratic_review', 'record_review', '民主评议'),
                 (5, 'village_cadre', 'democratic_review', 'record_review', '民主评议'),
                 (6, 'township_approver', 'township_review', 'review_in_township', '镇审核'),
                 (7, 'township_approver', 'township_review', 'review_in_township', '镇审核'),
                 (8, 'township_approver', 'announcement', 'announce', '结果公告'),
                 (9, 'county_officer', 'county_decision', 'decide_in_county', '县级审定'))
         AS k(kind, role, step, action, title) ON k.kind = (c.g / 5) % 10
    """,
]


async def seed(url: str, cases: int) -> dict[str, Any]:
    """Generates `cases` cases with their households and tasks; answers the sizes. Without the
    service's statement timeout (10 s, for requests): a million rows take longer on a busy machine."""
    engine = create_async_engine(url, pool_size=1, connect_args={"command_timeout": None})
    started = time.perf_counter()
    async with engine.begin() as conn:
        for statement in _SEED:
            await conn.execute(text(statement), {"n": cases, "villages": VILLAGES})
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
        sizes = (
            await conn.execute(
                text("""
            SELECT (SELECT count(*) FROM case_records), (SELECT count(*) FROM tasks),
                   (SELECT count(*) FROM tasks WHERE closed_at IS NULL),
                   (SELECT count(*) FROM tasks WHERE closed_at IS NULL AND role = 'township_approver'
                    AND area_code = '610824100000')
        """)
            )
        ).one()
    await engine.dispose()
    return {
        "cases": sizes[0],
        "tasks": sizes[1],
        "open_tasks": sizes[2],
        "approver_inbox": sizes[3],
        "seed_seconds": round(time.perf_counter() - started, 1),
    }


async def create_database(url: str, name: str) -> str:
    engine = create_engine(url, pool_size=1)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def timed(http: httpx.AsyncClient, url: str, params: dict[str, Any], times: int) -> list[float]:
    """Milliseconds per request, one after another; every answer must be a full page or the last one."""
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        answer = await http.get(url, params=params)
        samples.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return samples


def timing_line(name: str, by_size: dict[str, dict[str, float]], width: int = 12) -> str:
    """One measured shape's summaries (see `summary`) per database size, on one line."""
    sizes = "  ".join(f"{size}: median {s['median_ms']} ms, p99 {s['p99_ms']} ms" for size, s in by_size.items())
    return f"{name:{width}} {sizes}"


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "requests": len(ordered),
    }


async def two_databases(stack: Stack, cases: int) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """The stack's database seeded with a thousand cases and a second one with `cases`, each with
    its own API: their sizes, and (API URL, database URL) of each, "small" and "big"."""
    big_url = await create_database(stack.database_url, "bench_million")
    big_env = stack.env | {"DATABASE_URL": big_url}
    stack.prepare_database(big_env)
    print(f"seeding {SMALL:,} and {cases:,} cases…", flush=True)
    sizes = {"small": await seed(stack.database_url, SMALL), "big": await seed(big_url, cases)}
    print(sizes, flush=True)
    _, big_api = stack.start_api("api-million", big_env)
    return sizes, {"small": (stack.api_url, stack.database_url), "big": (big_api, big_url)}


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    sizes, databases = await two_databases(stack, args.cases)
    apis = {size: api for size, (api, _) in databases.items()}
    shapes = {
        "first_page": {"limit": PAGE},
        "step": {"limit": PAGE, "step": "township_review"},
        "overdue": {"limit": PAGE, "overdue": "true"},
        "second_page": {"limit": PAGE},
    }
    samples: dict[str, dict[str, list[float]]] = {shape: {"small": [], "big": []} for shape in shapes}
    async with httpx.AsyncClient(timeout=30) as http:
        clients = {}
        for size, base in apis.items():
            login = await http.post(
                f"{base}/api/v1/auth/login", json={"username": TOWNSHIP_APPROVER, "password": DEMO_PASSWORD}
            )
            login.raise_for_status()
            client = httpx.AsyncClient(
                base_url=base, timeout=30, headers={"Authorization": f"Bearer {login.json()['access_token']}"}
            )
            first = (await client.get("/api/v1/tasks", params={"limit": PAGE})).json()
            shapes_for = {**shapes, "second_page": {"limit": PAGE, "cursor": first["next_cursor"]}}
            clients[size] = (client, shapes_for, len(first["items"]), first["total"])
            await timed(client, "/api/v1/tasks", {"limit": PAGE}, 50)  # warm-up
        for round_no in range(args.rounds):
            for size in ("small", "big") if round_no % 2 == 0 else ("big", "small"):
                client, shapes_for, _, _ = clients[size]
                for shape, params in shapes_for.items():
                    if params.get("cursor", "") is None:
                        continue
                    samples[shape][size] += await timed(client, "/api/v1/tasks", params, args.requests)
        for client, *_ in clients.values():
            await client.aclose()
    results = {shape: {size: summary(s) for size, s in by_size.items() if s} for shape, by_size in samples.items()}
    first = results["first_page"]
    ratio = round(first["big"]["median_ms"] / first["small"]["median_ms"], 2)
    return {
        "sizes": sizes,
        "page_items": {size: c[2] for size, c in clients.items()},
        "inbox_total": {size: c[3] for size, c in clients.items()},
        "results": results,
        "first_page_median_ratio": ratio,
        "targets": {"median_ratio_at_most": TARGET_RATIO, "p99_ms_under": TARGET_P99_MS},
        "met": ratio <= TARGET_RATIO and first["big"]["p99_ms"] < TARGET_P99_MS,
        "through": "uvicorn (one process per database) over real HTTP on 127.0.0.1, one request at a time",
    }


def size_arguments(doc: str | None, requests: int) -> argparse.Namespace:
    """--cases (the big database), --rounds and --requests (per round and database)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=requests)
    return parser.parse_args()


def main() -> None:
    args = size_arguments(__doc__, requests=100)
    result = run_on_stack("task_inbox", lambda stack: asyncio.run(measure(stack, args)), read_only=True)
    first = result["results"]["first_page"]
    print(f"sizes: {result['sizes']}")
    for shape, by_size in result["results"].items():
        print(timing_line(shape, by_size))
    print(
        f"first page: median ratio {result['first_page_median_ratio']} (target ≤ {TARGET_RATIO}), "
        f"p99 at {result['sizes']['big']['cases']:,} cases {first['big']['p99_ms']} ms (target < {TARGET_P99_MS})"
        f" → {'met' if result['met'] else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
