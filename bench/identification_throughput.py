"""Cases per second through the real service, beside a bare workflow of the same shape.

    uv run python bench/identification_throughput.py [--cases 40] [--concurrency 10] [--notice-seconds 1]
        [--pause-seconds 0]

Starts its own embedded PostgreSQL, Temporal dev server, department simulator, workers
(two processes, as docker-compose.yml deploys them; --worker-processes) and API (uvicorn)
in a temporary directory (bench/stack.py), then measures in one run against the same
Temporal server:

  service  N cases driven end to end through the HTTP API (open, every step, the
           notice shortened by a published policy, township review, county
           decision, announcement), at most C in flight;
  bare     N runs of `bench/bare_case_workflow.py` (same number of starts,
           updates, signals, activities and timers, no-op activities, the
           departments' cross-check included: 5 parallel sends after the
           authorisation, 5 result updates delivered as the "departments" get
           their requests, the review once all have answered, as in the service)
           driven straight with the Temporal client, at most C in flight, by a
           worker in this process.

With --pause-seconds P, each case's person pauses before each action in both phases (reading the
case, filling the form; P on average, drawn between P/2 and 3P/2): the step latencies at 10 cases in
flight of people, not of clients acting back to back.

Prints both rates and their ratio (target: service ≥ 0.75 × bare), CPU per case by
process, how busy the machine was, and each shape as counted from the histories of
the last cases (starts, updates by name, signals, activities by type, timers), and
writes the figures to bench/results/identification_throughput.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from bench.bare_case_workflow import (  # noqa: E402
    AFTER_NOTICE,
    BARE_DEPARTMENTS,
    BARE_TASK_QUEUE,
    BEFORE_NOTICE,
    CLOSED,
    DEPARTMENTS,
    BareCaseWorkflow,
    BareHandOver,
    BareMonitoringWorkflow,
    bare_monitoring_id,
    bare_record,
    bare_send,
)
from bench.stack import RESULTS, Stack, run_on_stack  # noqa: E402
from services.demo_case import (  # noqa: E402
    ADMIN,
    COUNTY_OFFICER,
    DEMO_VILLAGE,
    TOWNSHIP_APPROVER,
    VILLAGE_CADRE,
    CaseDriver,
)
from services.demo_data import demo_id_number  # noqa: E402
from services.demo_monitoring import MonitoringDriver, visit  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.temporal_client import connect  # noqa: E402
from services.workflows.contracts import monitoring_workflow_id  # noqa: E402
from services.workflows.identification import identification_workflow_id  # noqa: E402

TARGET_RATIO = 0.75
# What a person acting on a case may wait, per step action through the API, with the bench's cases in flight.
TARGET_P50_MS, TARGET_P99_MS = 150.0, 500.0
SERVICE_TASK_QUEUE = Stack.TASK_QUEUE
# The bare driver asks its workflow's query every 0.2 s until the case is at the step it waits for
# (a query cannot wait for a change); CaseDriver.wait_for_step waits in each request instead, for the
# case to leave its step (`after_step`).
POLL_SECONDS = 0.2
# How long a case may wait for its departments' answers (or its notice) before the bench gives up.
WAIT_SECONDS = 300.0
# Call labels in the order a case makes them (API endpoint names; "poll" is each request of a wait).
CALLS = ("open", *BEFORE_NOTICE, "poll", *AFTER_NOTICE, "department-result")
# A case's two waits, whole (each one or more polls): for its departments' answers (from the
# authorisation's answer to the review's step) and for its notice to end.
WAITS = {"democratic_review": "wait: cross-check", "township_review": "wait: notice"}
# The step actions a person takes through the API (path ends), with the workflow update each runs.
STEP_ACTIONS = {
    "open": "opened (start + update)",
    "home-verification": "verify_home",
    "authorisation": "record_authorisation",
    "democratic-review": "record_review",
    "township-review": "review_in_township",
    "county-decision": "decide_in_county",
    "announcement": "announce",
}
# The events counted in each case's history, to show both shapes match (see history_shape).
HISTORY_CASES = 5


# -- CPU accounting (Linux /proc) ---------------------------------------------------


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid → (parent pid, CPU ticks used so far, user + system)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        table[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def _machine_ticks() -> tuple[int, int]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def cpu_snapshot(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by each part of the stack (a process and its descendants)."""
    if not Path("/proc/stat").exists():
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    table = _proc_table()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _) in table.items():
        children[ppid].append(pid)

    def tree_ticks(root: int) -> int:
        total, todo = 0, [root]
        while todo:
            pid = todo.pop()
            total += table.get(pid, (0, 0))[1]
            todo += children.get(pid, [])
        return total

    snapshot = {name: sum(map(tree_ticks, pids)) / tick for name, pids in stack.pids().items() if pids}
    own = os.times()
    snapshot["bench (driver + bare worker)"] = own.user + own.system
    busy, total = _machine_ticks()
    snapshot["_machine_busy"], snapshot["_machine_total"] = busy / tick, total / tick
    return snapshot


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    used = {k: round(after[k] - before[k], 2) for k in after if k in before and not k.startswith("_")}
    if "_machine_total" in before:
        span = after["_machine_total"] - before["_machine_total"]
        used["_machine_busy_fraction"] = (
            round((after["_machine_busy"] - before["_machine_busy"]) / span, 3) if span else 0
        )
    return used


async def database_snapshot(stack: Stack) -> dict[str, int]:
    """The service database's size, WAL written so far, and transactions that wrote (the next
    transaction id: read-only ones take none), exact at once (unlike pg_stat_database's counters)."""
    conn = await asyncpg.connect(stack.database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        row = await conn.fetchrow(
            "SELECT pg_database_size(current_database()) AS size_bytes,"
            " pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS wal_bytes,"
            " pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS write_transactions"
        )
    finally:
        await conn.close()
    assert row is not None
    return dict(row)


def database_used(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before[key] for key in after}


# -- timing -------------------------------------------------------------------------


class CallTimes:
    """Seconds per call, by label."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(list)

    def add(self, label: str, started: float) -> None:
        self.seconds[label].append(time.perf_counter() - started)

    def summary(self) -> dict[str, dict[str, float]]:
        return {label: _stats(values) for label, values in self.seconds.items()}


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "count": len(values),
        "mean_ms": round(statistics.fmean(values) * 1000, 1),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1),
        "p95_ms": round(_percentile(ordered, 0.95) * 1000, 1),
        "p99_ms": round(_percentile(ordered, 0.99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def _percentile(ordered: list[float], fraction: float) -> float:
    """Nearest rank: with fewer than 100 values the 99th percentile is the largest."""
    return ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * fraction) - 1))]


# -- the service: cases through the HTTP API -----------------------------------------


async def pause(mean_seconds: float) -> None:
    """A person's pause before an action: between half and one and a half times the mean, so the
    cases in flight do not act in step with one another."""
    if mean_seconds > 0:
        await asyncio.sleep(random.uniform(0.5, 1.5) * mean_seconds)


class TimedCaseDriver(CaseDriver):
    """CaseDriver that times every call and (like a careful client) sends an Idempotency-Key."""

    def __init__(self, http: httpx.AsyncClient, idempotency_keys: bool, pause_seconds: float = 0.0) -> None:
        super().__init__(http)
        self.idempotency_keys, self.pause_seconds = idempotency_keys, pause_seconds
        self.times = CallTimes()

    async def post(self, username: str, path: str, body: Any, **headers: str) -> httpx.Response:
        if path.startswith("/api/v1/cases"):  # the open and each step: the person reads, fills the form
            await pause(self.pause_seconds)
        if self.idempotency_keys:
            headers.setdefault("Idempotency-Key", uuid.uuid4().hex)
        started = time.perf_counter()
        answer = await super().post(username, path, body, **headers)
        self.times.add("open" if path == "/api/v1/cases" else path.rsplit("/", 1)[-1], started)
        return answer

    async def get(self, username: str, path: str, **params: Any) -> httpx.Response:
        started = time.perf_counter()
        answer = await super().get(username, path, **params)
        self.times.add("poll", started)
        return answer

    async def wait_for_step(
        self, case_id: str, step: str, timeout: float = 30.0, seen: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        started = time.perf_counter()
        # A loaded machine can take longer than the demo's 30 s for the departments to answer.
        case = await super().wait_for_step(case_id, step, max(timeout, WAIT_SECONDS), seen)
        self.times.add(WAITS[step], started)
        return case


def household_body(index: int) -> dict[str, Any]:
    """A registrable two-person household. Its members are born before 1952 and the
    demo data's after, so the ID numbers never clash."""
    born = date(1900, 1, 1) + timedelta(days=index)
    return {
        "village_code": DEMO_VILLAGE,
        "address": f"东坑村压测组{index}号",
        "phone": "13800138000",
        "members": [
            {
                "name": f"压测户主{index}",
                "id_number": demo_id_number("610824", born, 0, True),
                "relation": "户主",
                "sex": "male",
                "labour_capacity": "full",
            },
            {
                "name": f"压测配偶{index}",
                "id_number": demo_id_number("610824", born, 1, False),
                "relation": "配偶",
                "sex": "female",
                "labour_capacity": "partial",
            },
        ],
    }


async def register_households(driver: CaseDriver, count: int, concurrency: int) -> list[str]:
    gate = asyncio.Semaphore(concurrency)

    async def register(index: int) -> str:
        async with gate:
            answer = await driver.http.post(
                "/api/v1/households", json=household_body(index), headers=await driver.headers(VILLAGE_CADRE)
            )
        if answer.status_code != 201:
            raise RuntimeError(f"registering household {index}: {answer.status_code} {answer.text}")
        return answer.json()["code"]

    return list(await asyncio.gather(*(register(i) for i in range(count))))


async def service_case(driver: TimedCaseDriver, household_code: str, notice_seconds: float) -> None:
    case = await driver.open_case(household_code)
    case_id = case["case_id"]
    case = await driver.through_review(case_id)
    case = await driver.wait_for_step(case_id, "township_review", timeout=notice_seconds + 60, seen=case)
    if case["step"] != "township_review":
        raise RuntimeError(f"case {case_id} still at {case['step']} long after its notice should have ended")
    case = await driver.after_notice(case_id)
    if case["step"] != "closed" or case["outcome"] != "monitoring_target":
        raise RuntimeError(f"case {case_id} ended at {case['step']} / {case['outcome']}")


async def record_visits(
    driver: TimedCaseDriver, households: list[str], per_period: int, concurrency: int
) -> tuple[float, list[float], int]:
    """`per_period` monthly visits to each household's monitoring period (the hand-over opened
    it when its case ended as a monitoring target), at most `concurrency` periods at once:
    (wall seconds, each visit's seconds, visits)."""
    monitoring = MonitoringDriver(driver)
    periods = [(await monitoring.period_of(code))["monitoring_id"] for code in households]
    today = await driver.today()

    async def one_visit(monitoring_id: str, number: int) -> None:
        await monitoring.act(VILLAGE_CADRE, monitoring_id, "visits", visit(today, income=9800.0 + number))

    visits = [lambda m=m, n=n: one_visit(m, n) for n in range(per_period) for m in periods]
    seconds, latencies = await run_cases(visits, concurrency)
    return seconds, latencies, len(visits)


# -- the bare workflow: straight against Temporal --------------------------------------


async def bare_case(
    client: Client, workflow_id: str, notice_seconds: float, times: CallTimes, pause_seconds: float = 0.0
) -> None:
    await pause(pause_seconds)  # as TimedCaseDriver.post, before the open
    started = time.perf_counter()
    # As the API starts a case: start, then the `opened` update (not update-with-start).
    handle = await client.start_workflow(
        BareCaseWorkflow.run,
        notice_seconds,
        id=workflow_id,
        task_queue=BARE_TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        memo={"case_id": workflow_id},
    )
    await handle.execute_update(BareCaseWorkflow.opened)
    times.add("open", started)
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(bare_callbacks(handle, times))
            await bare_steps(handle, workflow_id, notice_seconds, times, pause_seconds)
    finally:
        DEPARTMENTS.forget(workflow_id)


async def bare_callbacks(handle: Any, times: CallTimes) -> None:
    """As the simulator and the worker's inbox forwarder: once a department has the request
    (the no-op send ran), its result goes to the case as an update with the forwarder's kind
    of id, all departments concurrently, beside the review and the notice."""

    async def deliver(department: str) -> None:
        started = time.perf_counter()
        outcome = await handle.execute_update(
            BareCaseWorkflow.department_result, department, id=f"cross-check-result:{handle.id}:{department}"
        )
        times.add("department-result", started)
        if outcome != "recorded":
            raise RuntimeError(f"{handle.id}: the {department} result was {outcome}")

    async with asyncio.TaskGroup() as group:
        for _ in BARE_DEPARTMENTS:
            group.create_task(deliver(await DEPARTMENTS.next_request(handle.id)))


async def bare_steps(
    handle: Any, workflow_id: str, notice_seconds: float, times: CallTimes, pause_seconds: float
) -> None:
    """As `service_case`: the steps, waiting for the departments before the review and for the notice's end."""
    answer = BEFORE_NOTICE[0]  # the step each action answers; an opened case is at the first
    for step in BEFORE_NOTICE:
        if step == "democratic-review":  # as CaseDriver.authorise_and_wait_for_review
            await bare_wait_for_step(handle, step, WAIT_SECONDS, times, answer)
        await pause(pause_seconds)  # as TimedCaseDriver.post
        started = time.perf_counter()
        answer = await handle.execute_update(BareCaseWorkflow.act, step)
        times.add(step, started)
    await bare_wait_for_step(handle, AFTER_NOTICE[0], notice_seconds + 60, times, answer)
    for step in AFTER_NOTICE:
        await pause(pause_seconds)
        started = time.perf_counter()
        answer = await handle.execute_update(BareCaseWorkflow.act, step)
        times.add(step, started)
    if answer != CLOSED:
        raise RuntimeError(f"{workflow_id} ended at {answer}")


async def bare_wait_for_step(handle: Any, step: str, timeout: float, times: CallTimes, seen: str) -> None:
    """CaseDriver.wait_for_step's counterpart: from the step the last action answered (`seen`), look
    every 0.2 s until the case is at `step`."""
    deadline = time.monotonic() + timeout
    waiting, now_at = time.perf_counter(), seen
    while now_at != step:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{handle.id} still at {now_at}, not {step}, after {timeout:g} s")
        await asyncio.sleep(POLL_SECONDS)
        started = time.perf_counter()
        now_at = await handle.query(BareCaseWorkflow.step)
        times.add("poll", started)
    times.add(WAITS[step.replace("-", "_")], waiting)


# -- the shape of a case, counted from its history --------------------------------------


def local_activity_type(event: Any) -> str | None:
    """The activity type a local activity's marker names (the SDK core's marker data, JSON)."""
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != "core_local_activity" or "data" not in marker.details:
        return None
    return json.loads(marker.details["data"].payloads[0].data).get("activity_type")


# History events counted by their kind alone, under these names.
_COUNTED_KINDS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "starts",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signals",
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: "signals sent",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers started",
    EventType.EVENT_TYPE_TIMER_FIRED: "timers fired",
    EventType.EVENT_TYPE_TIMER_CANCELED: "timers cancelled",
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: "workflow tasks",
    EventType.EVENT_TYPE_MARKER_RECORDED: "markers (patches, versions)",  # other than local activities'
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "search attribute upserts",
    EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: "memo changes",
}


async def history_shape(client: Client, workflow_ids: list[str]) -> dict[str, Any]:
    """Per case (min–max over the given cases): starts, updates by name, signals, activities
    by type, timers started / fired / cancelled, workflow tasks, markers and upserts."""
    counts: list[dict[str, int]] = []
    for workflow_id in workflow_ids:
        count: dict[str, int] = defaultdict(int)
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                name = event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
                count[f"update {name}"] += 1
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                count[f"activity {event.activity_task_scheduled_event_attributes.activity_type.name}"] += 1
            elif kind == EventType.EVENT_TYPE_MARKER_RECORDED and (name := local_activity_type(event)):
                count[f"local activity {name}"] += 1
            elif kind in _COUNTED_KINDS:
                count[_COUNTED_KINDS[kind]] += 1
            count["history events"] += 1
        counts.append(count)
    keys = sorted({k for c in counts for k in c})
    shape: dict[str, Any] = {}
    for key in keys:
        low, high = min(c.get(key, 0) for c in counts), max(c.get(key, 0) for c in counts)
        shape[key] = low if low == high else f"{low}–{high}"
    return shape


# -- phases ---------------------------------------------------------------------------


async def run_cases(cases: list[Callable[[], Awaitable[None]]], concurrency: int) -> tuple[float, list[float]]:
    """Runs the cases with at most `concurrency` in flight: (wall seconds, each case's seconds)."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(case: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            started = time.perf_counter()
            await case()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for case in cases:
            group.create_task(one(case))
    return time.perf_counter() - started, latencies


class Phase:
    def __init__(self, name: str) -> None:
        self.name = name
        self.rounds: list[dict[str, Any]] = []
        self.latencies: list[float] = []
        self.times = CallTimes()
        self.cpu: dict[str, float] = defaultdict(float)
        self.database: dict[str, int] = defaultdict(int)

    def add_database(self, used: dict[str, int]) -> None:
        for key, value in used.items():
            self.database[key] += value

    def add_round(self, cases: int, seconds: float, latencies: list[float], cpu: dict[str, float]) -> None:
        self.rounds.append(
            {
                "cases": cases,
                "seconds": round(seconds, 3),
                "cases_per_second": round(cases / seconds, 3),
                "machine_busy_fraction": cpu.get("_machine_busy_fraction"),
            }
        )
        self.latencies += latencies
        for k, v in cpu.items():
            if not k.startswith("_"):
                self.cpu[k] += v

    @property
    def cases(self) -> int:
        return sum(r["cases"] for r in self.rounds)

    @property
    def seconds(self) -> float:
        return sum(r["seconds"] for r in self.rounds)

    @property
    def rate(self) -> float:
        return self.cases / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "seconds": round(self.seconds, 3),
            "cases_per_second": round(self.rate, 3),
            "case_latency": _stats(self.latencies),
            "rounds": self.rounds,
            "calls": self.times.summary(),
            "cpu_seconds": {k: round(v, 2) for k, v in self.cpu.items()},
            "cpu_seconds_per_case": {k: round(v / self.cases, 3) for k, v in self.cpu.items()},
            "database_per_case": {k: round(v / self.cases) for k, v in self.database.items()},
        }


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(
        environment="test", temporal_address=stack.temporal_address, temporal_task_queue=SERVICE_TASK_QUEUE
    )
    client = await connect(settings)  # the service's data converter (pydantic + AES-GCM)
    run_tag = uuid.uuid4().hex[:8]
    limits = httpx.Limits(
        max_connections=args.concurrency * 2 + 10, max_keepalive_connections=args.concurrency * 2 + 10
    )
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=120, limits=limits) as http:
        driver = TimedCaseDriver(http, idempotency_keys=not args.no_idempotency_keys, pause_seconds=args.pause_seconds)
        for username in (VILLAGE_CADRE, COUNTY_OFFICER, TOWNSHIP_APPROVER, ADMIN):
            await driver.headers(username)  # sign in now: argon2 is slow by design, and not what is measured
        policy = await driver.publish_notice_seconds(args.notice_seconds)
        print(f"published policy version {policy['version']}: notice {args.notice_seconds:g} s", flush=True)
        registering = await database_snapshot(stack)
        households = await register_households(driver, args.warmup + args.cases, args.concurrency)
        registered = database_used(registering, await database_snapshot(stack))
        print(f"registered {len(households)} households", flush=True)
        warmup_households, households = households[: args.warmup], households[args.warmup :]
        measured_households = list(households)
        bare_ids: list[str] = []

        async with Worker(
            client,
            task_queue=BARE_TASK_QUEUE,
            workflows=[BareCaseWorkflow, BareMonitoringWorkflow],
            activities=[bare_record, bare_send, BareHandOver(client).tell_monitoring_case_ended],
        ):
            numbers = iter(range(10**9))

            def service_cases(codes: list[str]) -> list[Callable[[], Awaitable[None]]]:
                return [lambda code=code: service_case(driver, code, args.notice_seconds) for code in codes]

            def bare_cases(count: int, times: CallTimes) -> list[Callable[[], Awaitable[None]]]:
                ids = [f"bench-bare-{run_tag}-{next(numbers)}" for _ in range(count)]
                bare_ids.extend(ids)
                return [
                    lambda wid=wid: bare_case(client, wid, args.notice_seconds, times, args.pause_seconds)
                    for wid in ids
                ]

            if args.warmup:  # untimed: loads the sandboxed workflows, fills connection pools and caches
                await run_cases(
                    service_cases(warmup_households) + bare_cases(args.warmup, CallTimes()), args.concurrency
                )
                print(f"warm-up: {args.warmup} cases each, untimed", flush=True)

            service, bare = Phase("service"), Phase("bare")
            order: list[str] = []
            for round_no, count in enumerate(split(args.cases, args.rounds)):
                # ABBA: bare first in even rounds, service first in odd ones, so drift
                # (a growing Temporal database, a warming cache) weighs on both alike.
                for name in ("bare", "service") if round_no % 2 == 0 else ("service", "bare"):
                    stack.check_alive()
                    before = cpu_snapshot(stack)
                    database_before = await database_snapshot(stack)
                    if name == "service":
                        driver.times = service.times
                        codes, households = households[:count], households[count:]
                        seconds, latencies = await run_cases(service_cases(codes), args.concurrency)
                        phase = service
                    else:
                        seconds, latencies = await run_cases(bare_cases(count, bare.times), args.concurrency)
                        phase = bare
                    phase.add_round(count, seconds, latencies, cpu_used(before, cpu_snapshot(stack)))
                    phase.add_database(database_used(database_before, await database_snapshot(stack)))
                    order.append(name)
                    print(
                        f"round {round_no + 1} {name:8s}: {count} cases in {seconds:.2f} s "
                        f"= {count / seconds:.2f} cases/s",
                        flush=True,
                    )
        shapes = {
            "service": await history_shape(
                client, [identification_workflow_id(code) for code in measured_households[-HISTORY_CASES:]]
            ),
            "bare": await history_shape(client, bare_ids[-HISTORY_CASES:]),
        }
        # The monitoring period each case's hand-over opened, before any visit.
        monitoring_shapes = {
            "service": await history_shape(
                client, [monitoring_workflow_id(code) for code in measured_households[-HISTORY_CASES:]]
            ),
            "bare": await history_shape(client, [bare_monitoring_id(wid) for wid in bare_ids[-HISTORY_CASES:]]),
        }
        visits = Phase("visits")
        if args.visits_per_period:
            # The CPU a monitoring visit costs, for sizing (README): after the cases, on their periods.
            driver.times = visits.times
            before, database_before = cpu_snapshot(stack), await database_snapshot(stack)
            seconds, latencies, count = await record_visits(
                driver, measured_households, args.visits_per_period, args.concurrency
            )
            visits.add_round(count, seconds, latencies, cpu_used(before, cpu_snapshot(stack)))
            visits.add_database(database_used(database_before, await database_snapshot(stack)))
            print(f"visits: {count} in {seconds:.2f} s = {count / seconds:.2f} visits/s", flush=True)
    ratio = service.rate / bare.rate
    latency_ok = all(
        service.times.summary()[label]["p50_ms"] <= TARGET_P50_MS
        and service.times.summary()[label]["p99_ms"] <= TARGET_P99_MS
        for label in STEP_ACTIONS
    )
    return {
        "bench": "identification_throughput",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "config": {
            "cases_per_phase": args.cases,
            "concurrency": args.concurrency,
            "notice_seconds": args.notice_seconds,
            "pause_seconds": args.pause_seconds,
            "rounds": args.rounds,
            "warmup_cases": args.warmup,
            "idempotency_keys": not args.no_idempotency_keys,
            "postgresql": "external" if args.external_database else "embedded",
            "worker_processes": args.worker_processes,
            "order": order,
        },
        "history_per_case": shapes,
        "history_per_monitoring_period_opened": monitoring_shapes,
        "service": service.as_dict(),
        "bare": bare.as_dict(),
        "visits": visits.as_dict() if visits.rounds else None,
        "database_per_household_registered": {
            k: round(v / len(measured_households + warmup_households)) for k, v in registered.items()
        },
        "ratio_service_to_bare": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "passed": ratio >= TARGET_RATIO,
        "step_latency_target_ms": {"p50": TARGET_P50_MS, "p99": TARGET_P99_MS},
        "step_latency_passed": latency_ok,
    }


# -- report ---------------------------------------------------------------------------


def print_report(result: dict[str, Any]) -> None:
    service, bare, config = result["service"], result["bare"], result["config"]
    print()
    print(
        f"Identification throughput: {config['cases_per_phase']} cases per phase, concurrency "
        f"{config['concurrency']}, notice {config['notice_seconds']:g} s, mean pause before each action "
        f"{config.get('pause_seconds', 0):g} s, order {' → '.join(config['order'])}, "
        f"PostgreSQL {config.get('postgresql', 'embedded')}, worker processes {config.get('worker_processes', 1)}"
    )
    print(f"{'':26s}{'cases':>7s}{'seconds':>10s}{'cases/s':>10s}{'case latency mean / p95':>26s}")
    for label, phase in (("bare workflow (Temporal)", bare), ("service (HTTP API)", service)):
        lat = phase["case_latency"]
        print(
            f"{label:26s}{phase['cases']:7d}{phase['seconds']:10.2f}{phase['cases_per_second']:10.2f}"
            f"{lat['mean_ms'] / 1000:18.2f} s / {lat['p95_ms'] / 1000:.2f} s"
        )
    verdict = "PASS" if result["passed"] else "FAIL"
    print(
        f"ratio service / bare: {result['ratio_service_to_bare']:.3f}   target ≥ {result['target_ratio']}   {verdict}"
    )
    print()
    # A service poll waits for the case to leave its step (`wait_seconds`): its time is mostly waiting.
    print(
        f"{'mean ms per call':26s}{'bare':>10s}{'service':>10s}{'service p95':>13s}{'calls per case, bare / service':>34s}"
    )
    for label in (*CALLS, *WAITS.values()):
        b, s = bare["calls"].get(label), service["calls"].get(label)
        per_case = (
            f"{(b or {}).get('count', 0) / bare['cases']:.1f} / {(s or {}).get('count', 0) / service['cases']:.1f}"
        )
        print(
            f"{label:26s}{b['mean_ms'] if b else float('nan'):10.1f}{s['mean_ms'] if s else float('nan'):10.1f}"
            f"{s['p95_ms'] if s else float('nan'):13.1f}{per_case:>34s}"
        )
    print()
    print(
        f"{'step action (service, ms)':26s}{'update':>26s}{'n':>5s}{'p50':>8s}{'p95':>8s}{'p99':>8s}{'max':>8s}"
        f"   target p50 ≤ {TARGET_P50_MS:g}, p99 ≤ {TARGET_P99_MS:g}"
    )
    for label, update in STEP_ACTIONS.items():
        call = service["calls"][label]
        ok = call["p50_ms"] <= TARGET_P50_MS and call["p99_ms"] <= TARGET_P99_MS
        print(
            f"{label:26s}{update:>26s}{call['count']:5d}{call['p50_ms']:8.0f}{call['p95_ms']:8.0f}"
            f"{call['p99_ms']:8.0f}{call['max_ms']:8.0f}   {'ok' if ok else 'OVER'}"
        )
    if service["cpu_seconds"]:
        print()
        print(f"{'CPU ms per case':26s}{'bare':>10s}{'service':>10s}")
        for name in service["cpu_seconds_per_case"]:
            print(
                f"{name:26s}{bare['cpu_seconds_per_case'].get(name, 0) * 1000:10.0f}"
                f"{service['cpu_seconds_per_case'][name] * 1000:10.0f}"
            )
        busy = (
            [r["machine_busy_fraction"] for r in service["rounds"]],
            [r["machine_busy_fraction"] for r in bare["rounds"]],
        )
        print(f"machine CPU busy (all cores): service {busy[0]}, bare {busy[1]}")
    visits = result.get("visits")
    if visits:
        lat, cpu = visits["calls"]["visits"], visits["cpu_seconds_per_case"]
        print()
        print(
            f"monitoring visits: {visits['cases']} in {visits['seconds']:.1f} s = {visits['cases_per_second']:.2f}/s; "
            f"latency p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms"
        )
        print("CPU ms per visit: " + ", ".join(f"{name} {v * 1000:.0f}" for name, v in cpu.items()))
    print()
    print("service database, per case / per visit / per household registered:")
    for key in ("size_bytes", "wal_bytes", "write_transactions"):
        per_visit = visits["database_per_case"].get(key) if visits else None
        print(
            f"  {key:20s}{service['database_per_case'].get(key, 0):>10}{per_visit if per_visit is not None else '-':>10}"
            f"{result['database_per_household_registered'].get(key, 0):>10}"
        )
    for title, key in (
        ("per case, from history", "history_per_case"),
        ("per monitoring period opened, from history", "history_per_monitoring_period_opened"),
    ):
        if shapes := result.get(key):
            print()
            print(f"{title:45s}{'bare':>10s}{'service':>10s}")
            for count in sorted(set(shapes["bare"]) | set(shapes["service"])):
                print(f"{count:45s}{shapes['bare'].get(count, 0)!s:>10s}{shapes['service'].get(count, 0)!s:>10s}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=40, help="cases per phase (default 40)")
    parser.add_argument("--concurrency", type=int, default=10, help="cases in flight at most (default 10)")
    parser.add_argument("--notice-seconds", type=float, default=1.0, help="the shortened notice period (default 1)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="split each phase's cases over this many rounds, alternating which phase goes first "
        "(default 2: bare, service, service, bare)",
    )
    parser.add_argument(
        "--pause-seconds",
        type=float,
        default=0.0,
        help="a person's mean pause before each action (reading the case, filling the form), in both phases, "
        "each drawn between half and 1.5 times it (default 0: the cases in flight act back to back, which keeps "
        "the machine saturated)",
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed cases per phase before measuring (default 2)")
    parser.add_argument(
        "--no-idempotency-keys", action="store_true", help="send the API's POSTs without an Idempotency-Key header"
    )
    parser.add_argument(
        "--external-database",
        metavar="URL",
        help="run on a fresh database of this PostgreSQL server (postgresql://user@host:port/postgres) "
        "instead of the embedded one; its CPU is then not counted",
    )
    parser.add_argument(
        "--worker-processes",
        "-w",
        type=int,
        default=2,
        help="worker processes serving the service's task queue (default 2, as docker-compose.yml deploys it: "
        "one Python process runs on one core)",
    )
    parser.add_argument(
        "--visits-per-period",
        type=int,
        default=2,
        help="after the cases, monthly visits recorded on each measured case's monitoring period, for the CPU "
        "per visit (default 2; 0: none)",
    )
    parser.add_argument("--fail-under-target", action="store_true", help="exit 1 when the ratio is under the target")
    args = parser.parse_args()
    if args.cases < args.rounds or args.concurrency < 1 or args.notice_seconds <= 0 or args.worker_processes < 1:
        parser.error("need --cases ≥ --rounds, --concurrency ≥ 1, --notice-seconds > 0 and --worker-processes ≥ 1")
    if args.pause_seconds < 0:
        parser.error("need --pause-seconds ≥ 0")

    result = run_on_stack(
        "identification_throughput",
        lambda stack: asyncio.run(measure(stack, args)),
        external_database=args.external_database,
        worker_processes=args.worker_processes,
    )
    out = RESULTS / "identification_throughput.json"
    print_report(result)
    print(f"\nfigures written to {out.relative_to(ROOT)}")
    return 1 if args.fail_under_target and not result["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
