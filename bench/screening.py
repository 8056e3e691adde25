"""Import and screen a million households through the real job, beside PostgreSQL's own COPY.

    uv run python bench/screening.py [--households 1000000] [--small 100000] [--flag-every 10000]

Starts the whole stack (bench/stack.py: PostgreSQL, Temporal, the worker, the API). For each size
(`--small`, then `--households`) it writes two CSV files as a province platform hands them over:
households (户编号, 村代码, 户主姓名, 住址, 家庭人口; spread over the demo county's 9 villages) and
their incomes (one row per household). Then, in the same run and the same PostgreSQL:

  baseline  COPY of both files (psql-style `COPY … FROM STDIN CSV HEADER`, through asyncpg) into
            two fresh tables with the same primary keys (code; household, year, source)
  service   both files uploaded as a county officer uploads them (`POST /screening/imports/upload`,
            multipart over HTTP to the stack's API: spooled, hashed, stored in 1 MB parts), each an
            import job (`ImportWorkflow` on the worker: read back, every cell checked, staged, checked
            against the register, new keys copied into their tables and keys already held
            upserted), then a screening
            run of the county (`ScreeningRunWorkflow`: flagging, then leads for the flagged
            households, one in `--flag-every` having an income below the line)

While the service works, a township approver asks for "my tasks" (the inbox of bench/task_inbox.py,
measured the same way) one request after another. The worker's resident memory is sampled
(/proc/<pid>/status) throughout. Targets: service ≤ 2 × baseline at the large size; the worker's
peak memory the same at both sizes (flat with the file's size); the inbox's p99 < 50 ms.
After the large size, bench/register_floor.py writes the rows the jobs wrote again, into copies of
the register's tables (with and without their foreign keys and indexes), beside the same baseline:
what no import's code can go below. Figures go to bench/results/screening.json.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from temporalio.client import Client  # noqa: E402

from bench.import_upload import upload  # noqa: E402
from bench.register_floor import VARIANTS, measure_floor  # noqa: E402
from bench.stack import Stack, run_on_stack  # noqa: E402
from bench.task_inbox import PAGE, TARGET_P99_MS, summary  # noqa: E402
from services.api.screening.runs import start_run  # noqa: E402
from services.db.bulk_engine import create_bulk_engine  # noqa: E402
from services.db.engine import create_engine, session_factory  # noqa: E402
from services.db.screening import IMPORT_FINISHED, ImportJob, ScreeningRun  # noqa: E402
from services.db.screening_runs import insert_run  # noqa: E402
from services.demo_case import COUNTY_OFFICER, TOWNSHIP_APPROVER  # noqa: E402
from services.demo_data import DEMO_PASSWORD, TOWNSHIPS  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.temporal_client import connect  # noqa: E402

TARGET_RATIO = 2.0
COUNTY = "610824000000"
VILLAGES = [v for _, villages in TOWNSHIPS.values() for v in villages]
YEAR = 2030


def write_files(folder: Path, size: int, first: int, flag_every: int) -> tuple[Path, Path]:
    """Households numbered from `first` (codes never used by the demo data), and their incomes."""
    households, incomes = folder / f"households-{size}.csv", folder / f"incomes-{size}.csv"
    with households.open("w", encoding="utf-8") as h, incomes.open("w", encoding="utf-8") as i:
        h.write("户编号,村代码,户主姓名,住址,家庭人口\n")
        i.write("户编号,年度,收入来源,金额\n")
        for n in range(first, first + size):
            # Six digits after the village code: numbered per village, above the demo households' numbers.
            village = VILLAGES[n % len(VILLAGES)]
            code = f"{village}{1000 + n // len(VILLAGES):06d}"
            h.write(f"{code},{village},户主{n},测试地址{n % 50}组,{1 + n % 5}\n")
            # Most households earn well above the line; one in `flag_every` far below it.
            yuan = 2000 if n % flag_every == 0 else 60000
            i.write(f"{code},{YEAR},wage,{yuan}\n")
    return households, incomes


async def copy_baseline(url: str, households: Path, incomes: Path, tag: str) -> float:
    engine = create_bulk_engine(url, pool_size=1)  # a million rows' COPY outlasts the service's statement limit
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"CREATE TABLE copy_households_{tag} (code text PRIMARY KEY, village_code text,"
                " head_name text, address text, household_size int)"
            )
        )
        await conn.execute(
            text(
                f"CREATE TABLE copy_incomes_{tag} (household_code text, year int, source text,"
                " yuan float8, PRIMARY KEY (household_code, year, source))"
            )
        )
    started = time.perf_counter()
    async with engine.begin() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        for table, path in ((f"copy_households_{tag}", households), (f"copy_incomes_{tag}", incomes)):
            await raw.copy_to_table(table, source=path, format="csv", header=True)
    seconds = time.perf_counter() - started
    await engine.dispose()
    return seconds


async def import_file(api: str, kind: str, path: Path) -> int:
    """The file uploaded through the API, which stores it as an import job and starts its workflow."""
    _, job = await upload(api, path, kind)
    if job["repeated"]:  # a job of an earlier run: nothing would be imported, or measured
        raise RuntimeError(f"{path.name} was imported before (job {job['job_id']})")
    return int(job["job_id"])


async def wait_for(
    sessions: Any, model: Any, key: int, done: tuple[str, ...], seen: dict[str, float] | None = None
) -> Any:
    """The row once its status is one of `done`; `seen` gets the time each status was first seen."""
    started = time.perf_counter()
    while True:
        async with sessions() as session:
            row = await session.get(model, key)
        if row is not None and seen is not None:
            seen.setdefault(row.status, round(time.perf_counter() - started, 2))
        if row is not None and row.status in done:
            return row
        await asyncio.sleep(0.2)


def worker_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def sample_memory(pid: int, peaks: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peaks.append(worker_rss_kb(pid))
        await asyncio.sleep(0.2)


async def ask_inbox(api: str, samples: list[float], stop: asyncio.Event, at_least: int = 0) -> None:
    """ "My tasks", one request after another, until `stop` (and at least `at_least` answers)."""
    async with httpx.AsyncClient(base_url=api, timeout=30) as http:
        login = await http.post("/api/v1/auth/login", json={"username": TOWNSHIP_APPROVER, "password": DEMO_PASSWORD})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        while not stop.is_set() or len(samples) < at_least:
            started = time.perf_counter()
            answer = await http.get("/api/v1/tasks", params={"limit": PAGE}, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
            await asyncio.sleep(0.02)


async def one_size(
    stack: Stack, client: Client, folder: Path, size: int, first: int, flag_every: int, with_floor: bool
) -> dict[str, Any]:
    """The baseline and the service at one size; `with_floor`: then bench/register_floor.py on the rows written."""
    households, incomes = write_files(folder, size, first, flag_every)
    baseline = await copy_baseline(stack.database_url, households, incomes, str(size))
    engine = create_engine(stack.database_url, pool_size=2)
    sessions = session_factory(engine)
    assert stack.worker is not None
    idle_samples: list[float] = []
    done = asyncio.Event()
    done.set()
    await ask_inbox(stack.api_url, idle_samples, done, at_least=200)  # the inbox while nothing runs
    idle = summary(idle_samples)
    memory: list[int] = []
    inbox: list[float] = []
    stop = asyncio.Event()
    watchers = [
        asyncio.create_task(sample_memory(stack.worker.pid, memory, stop)),
        asyncio.create_task(ask_inbox(stack.api_url, inbox, stop)),
    ]
    started = time.perf_counter()
    jobs, job_ids = {}, []
    for kind, path in (("households", households), ("incomes", incomes)):
        job_id = await import_file(stack.api_url, kind, path)
        job_ids.append(job_id)
        jobs[kind] = (await wait_for(sessions, ImportJob, job_id, IMPORT_FINISHED)).model_dump(
            include={"status", "rows_read", "rows_changed", "rows_rejected"}
        )
    imported = time.perf_counter() - started
    import_samples = len(inbox)
    async with sessions() as session:
        run_id = await insert_run(session, COUNTY, YEAR, COUNTY_OFFICER)
        await session.commit()
    await start_run(client, Stack.TASK_QUEUE, run_id)
    statuses: dict[str, float] = {}
    run = await wait_for(sessions, ScreeningRun, run_id, ("done",), statuses)
    total = time.perf_counter() - started
    stop.set()
    await asyncio.gather(*watchers)
    await engine.dispose()
    floor = await measure_floor(stack.database_url, job_ids) if with_floor else None
    return {
        "households": size,
        "file_mb": round((households.stat().st_size + incomes.stat().st_size) / 2**20, 1),
        "baseline_copy_s": round(baseline, 2),
        "import_s": round(imported, 2),
        "screening_s": round(total - imported, 2),
        "service_s": round(total, 2),
        "ratio": round(total / baseline, 2),
        "jobs": jobs,
        "run": run.model_dump(include={"flagged", "opened", "joined", "skipped"}),
        "run_status_seen_at_s": statuses,
        "inbox_idle": idle,
        "worker_peak_rss_mb": round(max(memory) / 1024, 1),
        "inbox": summary(inbox),
        "inbox_during_import": summary(inbox[:import_samples]),
        "inbox_during_screening": summary(inbox[import_samples:]),
        **({"register_floor": _floor_figures(floor, baseline)} if floor else {}),
    }


def _floor_figures(floor: dict[str, Any], baseline: float) -> dict[str, Any]:
    return {
        "rows": floor["rows"],
        **{variant: {"s": round(s, 2), "x_copy": round(s / baseline, 2)} for variant, s in floor["seconds"].items()},
    }


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(database_url=stack.database_url, temporal_address=stack.temporal_address, environment="test")
    client = await connect(settings)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-screening-files-") as folder:
        first = 100_000
        for size in (args.small, args.households):
            print(f"{size:,} households…", flush=True)
            with_floor = size == args.households
            results.append(await one_size(stack, client, Path(folder), size, first, args.flag_every, with_floor))
            print(results[-1], flush=True)
            first += size
    small, big = results
    return {
        "sizes": results,
        "ratio_at_large": big["ratio"],
        "memory_growth": round(big["worker_peak_rss_mb"] / small["worker_peak_rss_mb"], 2),
        "targets": {"ratio_at_most": TARGET_RATIO, "inbox_p99_ms_under": TARGET_P99_MS},
        "met": big["ratio"] <= TARGET_RATIO and big["inbox"]["p99_ms"] < TARGET_P99_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--flag-every", type=int, default=10_000)
    args = parser.parse_args()
    result = run_on_stack("screening", lambda stack: asyncio.run(measure(stack, args)))
    for size in result["sizes"]:
        print(
            f"{size['households']:>9,} households ({size['file_mb']} MB): COPY {size['baseline_copy_s']} s, "
            f"import {size['import_s']} s + screening {size['screening_s']} s = {size['service_s']} s "
            f"(× {size['ratio']}); worker peak {size['worker_peak_rss_mb']} MB; inbox p99 {size['inbox']['p99_ms']} ms"
            f" (import {size['inbox_during_import']['p99_ms']}, screening {size['inbox_during_screening']['p99_ms']})"
        )
    if floor := result["sizes"][-1].get("register_floor"):
        print(
            "register floor (the same rows INSERTed into copies of the register's tables, no checks): "
            + ", ".join(f"{v} {floor[v]['s']} s (× {floor[v]['x_copy']})" for v in VARIANTS)
        )
    print(
        f"ratio {result['ratio_at_large']} (target ≤ {TARGET_RATIO}), memory ×{result['memory_growth']} "
        f"→ {'met' if result['met'] else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
