"""Department callbacks and early warnings per second through the real endpoints, beside a baseline.

    uv run python bench/department_endpoints.py [--cases 100] [--batches 8] [--concurrency 16]

Starts its own stack (bench/stack.py: PostgreSQL, Temporal, the department simulator,
worker, API) and a baseline server (bench/signature_only_app.py: the same paths under
the same uvicorn, only checking the signature and answering). Then, in one run:

  callbacks  `--cases` cases are driven to their cross-check with every department
             silent, so each has 5 requests waiting; each request gets one signed
             result (the simulator's shape), to the real endpoint (checked, matched,
             stored in the inbox, answered) and the same bodies to the baseline.
  warnings   `--batches` batches of 1,000 early warnings (5% about registered people,
             above or below the thresholds; 3% malformed; 2% repeated ids; the rest
             unknown people), to both; then single batches one at a time for latency.

Phases alternate baseline/real (ABBA). Targets: real ≥ 0.5 × baseline for both rates,
and a 1,000-warning batch answered in under 2 s. After measuring, it also reports how
long the worker took to hand every stored result and lead to its case (not a target).
Figures go to bench/results/department_endpoints.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.identification_throughput import household_body, register_households  # noqa: E402
from bench.stack import RESULTS, Stack, run_on_stack  # noqa: E402
from services.db.engine import create_engine  # noqa: E402
from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver, authorisation, home_verification  # noqa: E402
from services.demo_data import DEMO_DEPARTMENT_SECRETS, demo_id_number  # noqa: E402
from services.department_simulator.client import SimulatorClient  # noqa: E402
from services.departments.signing import signed_headers  # noqa: E402
from services.devstack.servers import free_port, wait_for_port  # noqa: E402
from services.domain.vocabulary import Department  # noqa: E402

TARGET_RATIO, TARGET_BATCH_SECONDS = 0.5, 2.0
BATCH = 1000


async def run_requests(
    http: httpx.AsyncClient, base: str, requests: list[tuple[str, str, bytes]], concurrency: int
) -> tuple[float, Counter[int]]:
    """Sends (path, department, body) signed at send time, `concurrency` in flight: (seconds, statuses)."""
    queue = iter(requests)
    statuses: Counter[int] = Counter()

    async def sender() -> None:
        for path, department, body in queue:
            answer = await http.post(
                base + path, content=body, headers=signed_headers(DEMO_DEPARTMENT_SECRETS[department], body)
            )
            statuses[answer.status_code] += 1

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return time.perf_counter() - started, statuses


async def abba(
    label: str,
    real: Callable[[int], Awaitable[tuple[float, Counter[int]]]],
    baseline: Callable[[int], Awaitable[tuple[float, Counter[int]]]],
    units: int,
) -> dict[str, Any]:
    """Two rounds, baseline first then real first; each round sends half of the units."""
    figures: dict[str, dict[str, Any]] = {
        "real": {"seconds": 0.0, "statuses": Counter()},
        "baseline": {"seconds": 0.0, "statuses": Counter()},
    }
    for round_no, order in enumerate((("baseline", "real"), ("real", "baseline"))):
        for name in order:
            seconds, statuses = await (real if name == "real" else baseline)(round_no)
            figures[name]["seconds"] += seconds
            figures[name]["statuses"] += statuses
            print(
                f"{label} round {round_no + 1} {name:8s}: {units // 2} in {seconds:.3f} s "
                f"= {units / 2 / seconds:,.0f}/s {dict(statuses)}",
                flush=True,
            )
    for figure in figures.values():
        figure["per_second"] = round(units / figure["seconds"], 1)
        figure["statuses"] = dict(figure["statuses"])
    figures["ratio"] = round(figures["real"]["per_second"] / figures["baseline"]["per_second"], 3)
    return figures


# -- setting up -------------------------------------------------------------------------


async def cases_waiting_for_departments(
    driver: CaseDriver, simulator: SimulatorClient, codes: list[str], database_url: str, concurrency: int
) -> list[tuple[str, str]]:
    for department in Department:
        await simulator.behave(department.value, silent=True)
    gate = asyncio.Semaphore(concurrency)

    async def to_cross_check(code: str) -> None:
        async with gate:
            case_id = (await driver.open_case(code))["case_id"]
            await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification())
            await driver.act(VILLAGE_CADRE, case_id, "authorisation", authorisation())

    await asyncio.gather(*(to_cross_check(code) for code in codes))
    engine = create_engine(database_url, pool_size=1)
    try:
        for _ in range(600):
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(
                        text("SELECT request_id, department FROM cross_check_requests WHERE accepted_at IS NOT NULL")
                    )
                ).all()
            if len(rows) >= len(codes) * len(Department):
                return [(r.request_id, r.department) for r in rows]
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
    raise RuntimeError("the cross-check requests were not all sent")


def callback_body(request_id: str, department: str, subjects: list[str]) -> bytes:
    return json.dumps(
        {
            "request_id": request_id,
            "department": department,
            "status": "completed",
            "findings": [{"id_number": s, "matches": []} for s in subjects],
            "completed_at": "2026-12-01T10:00:00+08:00",
        }
    ).encode()


def warning_batches(count: int, known: list[str], run: str, rng: random.Random) -> list[bytes]:
    batches = []
    for b in range(count):
        warnings: list[Any] = []
        for n in range(BATCH):
            warning_id = f"{run}-{b}-{n}"
            roll = rng.random()
            if roll < 0.05:
                id_number, amount = rng.choice(known), rng.choice([5000.0, 12000.0, 18000.0, 30000.0])
            else:
                born = date(1940, 1, 1) + timedelta(days=rng.randrange(20000))
                id_number, amount = demo_id_number("110101", born, rng.randrange(10**4), rng.random() < 0.5), 40000.0
            warning: Any = {
                "warning_id": warning_id,
                "id_number": id_number,
                "kind": "medical_expense",
                "amount": amount,
                "occurred_on": "2026-11-20",
                "detail": "住院自付费用",
            }
            if 0.05 <= roll < 0.08:
                warning["id_number"] = id_number[:17] + ("0" if id_number[17] != "0" else "1")  # bad check digit
            elif 0.08 <= roll < 0.10 and n:
                warning["warning_id"] = f"{run}-{b}-{n - 1}"  # a repeated id
            warnings.append(warning)
        batches.append(json.dumps({"department": "medical_insurance", "warnings": warnings}).encode())
    return batches


async def known_id_numbers(database_url: str) -> list[str]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text("SELECT id_number FROM members"))).scalars())
    finally:
        await engine.dispose()


async def drain_seconds(database_url: str, started: float, timeout: float = 600) -> float | None:
    """Seconds from `started` until the worker has handed every stored result and lead to its case."""
    engine = create_engine(database_url, pool_size=1)
    try:
        while time.perf_counter() - started < timeout:
            async with engine.connect() as conn:
                left = await conn.scalar(
                    text(
                        "SELECT (SELECT count(*) FROM cross_check_callbacks WHERE delivered_at IS NULL)"
                        " + (SELECT count(*) FROM early_warnings WHERE outcome IN ('opened', 'joined')"
                        " AND delivered_at IS NULL)"
                    )
                )
            if not left:
                return time.perf_counter() - started
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    return None


# -- the run ---------------------------------------------------------------------------


async def measure(stack: Stack, baseline_url: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(610824)
    limits = httpx.Limits(max_connections=args.concurrency + 10, max_keepalive_connections=args.concurrency + 10)
    async with (
        httpx.AsyncClient(base_url=stack.api_url, timeout=120) as api,
        httpx.AsyncClient(timeout=120, limits=limits) as http,
    ):
        driver = CaseDriver(api)
        for username in (VILLAGE_CADRE, COUNTY_OFFICER):
            await driver.headers(username)
        simulator = SimulatorClient(stack.simulator_url, http)
        codes = await register_households(driver, args.cases, 10)
        started = time.perf_counter()
        requests = await cases_waiting_for_departments(driver, simulator, codes, stack.database_url, 10)
        print(
            f"{args.cases} cases sent {len(requests)} cross-check requests in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        subjects = {code: [m["id_number"] for m in household_body(i)["members"]] for i, code in enumerate(codes)}
        engine = create_engine(stack.database_url, pool_size=1)
        async with engine.connect() as conn:
            household_of = dict(
                (await conn.execute(text("SELECT request_id, household_code FROM cross_check_requests"))).all()
            )
        await engine.dispose()
        bodies = [
            (f"/api/v1/callbacks/cross-checks/{rid}", dept, callback_body(rid, dept, subjects[household_of[rid]]))
            for rid, dept in requests
        ]
        halves = [bodies[: len(bodies) // 2], bodies[len(bodies) // 2 : len(bodies) // 2 * 2]]
        callbacks = await abba(
            "callbacks",
            lambda r: run_requests(http, stack.api_url, halves[r], args.concurrency),
            lambda r: run_requests(http, baseline_url, halves[r], args.concurrency),
            len(halves[0]) * 2,
        )

        known = await known_id_numbers(stack.database_url)
        batches = warning_batches(args.batches * 2 + args.latency_batches, known, "bench", rng)
        paths = [("/api/v1/early-warnings", "medical_insurance", b) for b in batches]
        rounds = [paths[: args.batches], paths[args.batches : args.batches * 2]]
        warnings = await abba(
            "warnings",
            lambda r: run_requests(http, stack.api_url, rounds[r], args.warning_concurrency),
            lambda r: run_requests(http, baseline_url, rounds[r], args.warning_concurrency),
            args.batches * 2 * BATCH,
        )
        latencies, outcomes = [], Counter()
        for path, department, body in paths[args.batches * 2 :]:
            started = time.perf_counter()
            answer = await http.post(
                stack.api_url + path, content=body, headers=signed_headers(DEMO_DEPARTMENT_SECRETS[department], body)
            )
            latencies.append(time.perf_counter() - started)
            outcomes.update(o["outcome"] for o in answer.json()["outcomes"])
        drained = await drain_seconds(stack.database_url, time.perf_counter())
    batch_latency = {
        "count": len(latencies),
        "p50_s": round(statistics.median(latencies), 3),
        "max_s": round(max(latencies), 3),
        "outcomes_of_these_batches": dict(outcomes),
    }
    return {
        "bench": "department_endpoints",
        "config": vars(args),
        "callbacks": callbacks,
        "early_warnings": {**warnings, "single_batch_latency": batch_latency},
        "drain_after_measuring_s": round(drained, 1) if drained is not None else None,
        "targets": {"ratio": TARGET_RATIO, "batch_seconds": TARGET_BATCH_SECONDS},
        "passed": callbacks["ratio"] >= TARGET_RATIO
        and warnings["ratio"] >= TARGET_RATIO
        and batch_latency["max_s"] < TARGET_BATCH_SECONDS,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100, help="cases with 5 waiting requests each (default 100)")
    parser.add_argument("--concurrency", type=int, default=16, help="callbacks in flight (default 16)")
    parser.add_argument("--batches", type=int, default=8, help="1,000-warning batches per round (default 8)")
    parser.add_argument("--warning-concurrency", type=int, default=2, help="batches in flight (default 2)")
    parser.add_argument("--latency-batches", type=int, default=5, help="batches sent one at a time (default 5)")
    parser.add_argument("--fail-under-target", action="store_true")
    args = parser.parse_args()

    def measure_with_baseline(stack: Stack) -> dict[str, Any]:
        port = free_port()
        baseline = stack.spawn(
            "baseline",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.signature_only_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stack.env,
        )
        wait_for_port(port, timeout=60, process=baseline)
        return asyncio.run(measure(stack, f"http://127.0.0.1:{port}", args))

    result = run_on_stack("department_endpoints", measure_with_baseline)
    out = RESULTS / "department_endpoints.json"
    cb, ew = result["callbacks"], result["early_warnings"]
    print(
        f"\ncallbacks/s      real {cb['real']['per_second']:>10,.0f}   baseline {cb['baseline']['per_second']:>10,.0f}"
        f"   ratio {cb['ratio']:.3f} (target ≥ {TARGET_RATIO})"
    )
    print(
        f"early warnings/s real {ew['real']['per_second']:>10,.0f}   baseline {ew['baseline']['per_second']:>10,.0f}"
        f"   ratio {ew['ratio']:.3f} (target ≥ {TARGET_RATIO})"
    )
    lat = ew["single_batch_latency"]
    print(
        f"1,000-warning batch answered in p50 {lat['p50_s']:.3f} s, max {lat['max_s']:.3f} s "
        f"(target < {TARGET_BATCH_SECONDS} s)"
    )
    print(
        f"worker handed every stored result and lead to its case {result['drain_after_measuring_s']} s after "
        f"the last batch\n{'PASS' if result['passed'] else 'FAIL'}; figures in {out.relative_to(ROOT)}"
    )
    return 1 if args.fail_under_target and not result["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
