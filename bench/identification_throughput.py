"""Cases per second through the real service, beside a bare workflow of the same shape.

    uv run python bench/identification_throughput.py [--cases 40] [--concurrency 10] [--notice-seconds 1]

Starts its own embedded PostgreSQL, Temporal dev server, worker and API (uvicorn)
in a temporary directory, then measures in one run against the same Temporal server:

  service   N cases driven end to end through the HTTP API (open, every step, the
            notice shortened by a published policy, township review, county
            decision, announcement), at most C in flight;
  bare      N runs of `bench/bare_case_workflow.py` (same number of updates,
            activities and timers, no-op activities) driven straight with the
            Temporal client, at most C in flight, by a worker in this process;
  workflow  (breakdown, skip with --no-breakdown) N cases of the real workflow on
            the real worker, driven straight with the Temporal client: the
            service without its HTTP API.

Prints the rates and the ratio service / bare (target ≥ 0.75) and writes the
figures to bench/results/identification_throughput.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# pgserver's platformdirs complains when XDG_RUNTIME_DIR is unset (containers); harmless here.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from temporalio.client import Client, WorkflowHandle  # noqa: E402
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from bench.bare_case_workflow import (  # noqa: E402
    AFTER_NOTICE,
    BARE_TASK_QUEUE,
    BEFORE_NOTICE,
    CLOSED,
    BareCaseWorkflow,
    bare_record,
)
from services.demo_case import (  # noqa: E402
    ADMIN,
    COUNTY_OFFICER,
    DEMO_VILLAGE,
    TOWNSHIP_APPROVER,
    VILLAGE_CADRE,
    CaseDriver,
    announcement,
    authorisation,
    county_decision,
    cross_check_results,
    democratic_review,
    home_verification,
    township_review,
)
from services.demo_data import DEMO_ACCOUNTS, demo_id_number  # noqa: E402
from services.devstack.servers import (  # noqa: E402
    free_port,
    start_embedded_postgres,
    start_temporal_dev_server,
    wait_for_port,
)
from services.domain.case_forms import (  # noqa: E402
    Announcement,
    Authorisation,
    CountyDecision,
    CrossCheckEntry,
    DemocraticReview,
    HomeVerification,
    TownshipReview,
)
from services.domain.case_state import Actor, CaseStart  # noqa: E402
from services.domain.policy import Policy  # noqa: E402
from services.domain.vocabulary import Channel, Outcome, Step  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.temporal_client import connect  # noqa: E402
from services.workflows.identification import IdentificationWorkflow, identification_workflow_id  # noqa: E402

TARGET_RATIO = 0.75
RESULTS = ROOT / "bench" / "results"
SERVICE_TASK_QUEUE = "identification"
# CaseDriver.wait_for_step polls every 0.2 s; the other drivers poll their query as often.
POLL_SECONDS = 0.2
# Call labels in the order a case makes them (API endpoint names; "poll" waits for the notice to end).
CALLS = ("open", *BEFORE_NOTICE, "poll", *AFTER_NOTICE)
PHASE_TITLES = {
    "bare": "bare workflow (Temporal)",
    "workflow": "real workflow, no API",
    "service": "service (HTTP API)",
}
# More than this many cores busy outside the stack during a round makes its figures doubtful.
OUTSIDE_CORES_WARNING = 0.25


# -- the stack ------------------------------------------------------------------


class Stack:
    """PostgreSQL, Temporal, the worker and the API, run as the dev stack runs them."""

    def __init__(self, workdir: Path, logs: Path) -> None:
        self.workdir, self.logs = workdir, logs
        self.postgres: Any = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.temporal_address = ""
        self.api_url = ""
        self.env: dict[str, str] = {}

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        for old in self.logs.glob("*.log"):
            old.unlink()
        self.postgres, database_url = start_embedded_postgres(self.workdir / "postgres")
        temporal_port = free_port()
        self.processes["temporal server"] = start_temporal_dev_server(
            self.workdir / "temporal.sqlite", temporal_port, None, log_file=self.logs / "temporal.log")
        self.temporal_address = f"127.0.0.1:{temporal_port}"
        self.env = dict(os.environ) | {
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_TASK_QUEUE": SERVICE_TASK_QUEUE,
            "ENVIRONMENT": "test",
        }
        python = sys.executable
        for name, args in (("migrate", ["-m", "alembic", "upgrade", "head"]), ("demo_data", ["-m", "services.demo_data"])):
            with open(self.logs / f"{name}.log", "wb") as log:
                subprocess.run([python, *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                               check=True)
        self.spawn("worker", [python, "-m", "services.workers.main"])
        api_port = free_port()
        api = self.spawn("api", [python, "-m", "uvicorn", "services.api.app:app", "--host", "127.0.0.1",
                                 "--port", str(api_port)])
        wait_for_port(api_port, timeout=60, process=api)
        self.api_url = f"http://127.0.0.1:{api_port}"

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name.replace(' ', '_')}.log", "ab")  # noqa: SIM115 (lives as long as the process)
        self.processes[name] = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self.processes[name]

    async def wait_for_log(self, name: str, line: str, timeout: float = 60) -> None:
        """Waits until the process `name` has written `line` to its log."""
        log = self.logs / f"{name.replace(' ', '_')}.log"
        deadline = time.monotonic() + timeout
        while line not in log.read_text(errors="replace"):
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {name} process did not start in {timeout:.0f} s; see {log}")
            await asyncio.sleep(0.1)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"the {name} process exited with status {process.returncode}; see {self.logs}")

    def stop(self) -> None:
        children = list(self.processes.values())
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in reversed(children):
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self.postgres is not None:
            self.postgres.cleanup()

    def pids(self) -> dict[str, int]:
        pids = {name: process.pid for name, process in self.processes.items()}
        if self.postgres is not None and (pid := self.postgres.get_pid()):
            pids["postgres"] = pid
        return pids


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


def cpu_snapshot(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by each part of the stack (a process and its descendants),
    by this process, and by the whole machine (keys starting with "_")."""
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

    snapshot = {name: tree_ticks(pid) / tick for name, pid in stack.pids().items()}
    own = os.times()
    snapshot["bench process"] = own.user + own.system
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    snapshot["_machine_busy"] = (sum(values) - values[3] - values[4]) / tick
    return snapshot


def cpu_used(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    """CPU seconds per part between two snapshots, plus the cores busy outside the stack."""
    used = {k: after[k] - before[k] for k in after if k in before and not k.startswith("_")}
    if "_machine_busy" in before:
        busy = after["_machine_busy"] - before["_machine_busy"]
        used["_machine_cores_busy"] = busy / seconds
        used["_outside_cores_busy"] = max(0.0, busy - sum(used.values())) / seconds
    return used


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
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 1),
    }


async def poll_until(look: Callable[[], Awaitable[bool]], times: CallTimes, timeout: float, what: str) -> None:
    """As CaseDriver.wait_for_step: look, then again every POLL_SECONDS."""
    deadline = time.monotonic() + timeout
    while True:
        started = time.perf_counter()
        done = await look()
        times.add("poll", started)
        if done:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: the notice did not end in {timeout:.0f} s")
        await asyncio.sleep(POLL_SECONDS)


# -- the service: cases through the HTTP API -----------------------------------------


class TimedCaseDriver(CaseDriver):
    """CaseDriver that times every call and (like a careful client) sends an Idempotency-Key."""

    def __init__(self, http: httpx.AsyncClient, idempotency_keys: bool) -> None:
        super().__init__(http)
        self.idempotency_keys = idempotency_keys
        self.times = CallTimes()

    async def post(self, username: str, path: str, body: Any, **headers: str) -> httpx.Response:
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


def household_body(index: int) -> dict[str, Any]:
    """A registrable two-person household. Its members are born before 1952 and the
    demo data's after, so the ID numbers never clash."""
    born = date(1900, 1, 1) + timedelta(days=index)
    return {
        "village_code": DEMO_VILLAGE,
        "address": f"东坑村压测组{index}号",
        "phone": "13800138000",
        "members": [
            {"name": f"压测户主{index}", "id_number": demo_id_number("610824", born, 0, True),
             "relation": "户主", "sex": "male", "labour_capacity": "full"},
            {"name": f"压测配偶{index}", "id_number": demo_id_number("610824", born, 1, False),
             "relation": "配偶", "sex": "female", "labour_capacity": "partial"},
        ],
    }


async def register_households(driver: CaseDriver, count: int, concurrency: int) -> list[str]:
    gate = asyncio.Semaphore(concurrency)
    headers = await driver.headers(VILLAGE_CADRE)

    async def register(index: int) -> str:
        async with gate:
            answer = await driver.http.post("/api/v1/households", json=household_body(index), headers=headers)
        if answer.status_code != 201:
            raise RuntimeError(f"registering household {index}: {answer.status_code} {answer.text}")
        return answer.json()["code"]

    return list(await asyncio.gather(*(register(i) for i in range(count))))


async def service_case(driver: TimedCaseDriver, household_code: str, notice_seconds: float) -> None:
    case = await driver.open_case(household_code)
    case_id = case["case_id"]
    await driver.through_review(case_id)
    case = await driver.wait_for_step(case_id, Step.township_review, timeout=notice_seconds + 60)
    if case["step"] != Step.township_review:
        raise RuntimeError(f"case {case_id} still at {case['step']} long after its notice should have ended")
    case = await driver.after_notice(case_id)
    if case["step"] != Step.closed or case["outcome"] != Outcome.monitoring_target:
        raise RuntimeError(f"case {case_id} ended at {case['step']} / {case['outcome']}")


# -- the real workflow without the API ------------------------------------------------

ACTORS = {username: Actor(username=username, display_name=name, role=role, area_code=area)
          for username, name, role, area in DEMO_ACCOUNTS}
# The updates and payloads CaseDriver.through_review / after_notice send, by the same people.
WORKFLOW_STEPS_BEFORE_NOTICE: list[tuple[str, Any, str, BaseModel]] = [
    ("home-verification", IdentificationWorkflow.verify_home, VILLAGE_CADRE,
     HomeVerification.model_validate(home_verification())),
    ("authorisation", IdentificationWorkflow.record_authorisation, VILLAGE_CADRE,
     Authorisation.model_validate(authorisation())),
    ("cross-check-results", IdentificationWorkflow.record_cross_check, COUNTY_OFFICER,
     CrossCheckEntry.model_validate(cross_check_results())),
    ("democratic-review", IdentificationWorkflow.record_review, VILLAGE_CADRE,
     DemocraticReview.model_validate(democratic_review())),
]
WORKFLOW_STEPS_AFTER_NOTICE: list[tuple[str, Any, str, BaseModel]] = [
    ("township-review", IdentificationWorkflow.review_in_township, TOWNSHIP_APPROVER,
     TownshipReview.model_validate(township_review())),
    ("county-decision", IdentificationWorkflow.decide_in_county, COUNTY_OFFICER,
     CountyDecision.model_validate(county_decision())),
    ("announcement", IdentificationWorkflow.announce, TOWNSHIP_APPROVER,
     Announcement.model_validate(announcement())),
]


async def workflow_case(client: Client, household_code: str, policy: Policy, notice_seconds: float,
                        times: CallTimes) -> None:
    """One case of the real workflow, started and acted on as case_commands does, minus HTTP and the API."""
    case_id = uuid.uuid4().hex
    start = CaseStart(case_id=case_id, household_code=household_code, village_code=DEMO_VILLAGE,
                      channel=Channel.cadre_screening, lead_note="走访发现", policy=policy,
                      opened_by=ACTORS[VILLAGE_CADRE])
    started = time.perf_counter()
    handle: WorkflowHandle[Any, Any] = await client.start_workflow(
        IdentificationWorkflow.run, start, id=identification_workflow_id(household_code),
        task_queue=SERVICE_TASK_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE, memo={"case_id": case_id},
    )
    await handle.execute_update(IdentificationWorkflow.opened)
    times.add("open", started)
    for label, update, username, form in WORKFLOW_STEPS_BEFORE_NOTICE:
        started = time.perf_counter()
        await handle.execute_update(update, args=[ACTORS[username], form])
        times.add(label, started)

    async def notice_over() -> bool:
        return (await handle.query(IdentificationWorkflow.state)).step == Step.township_review

    await poll_until(notice_over, times, notice_seconds + 60, f"case {case_id}")
    for label, update, username, form in WORKFLOW_STEPS_AFTER_NOTICE:
        started = time.perf_counter()
        state = await handle.execute_update(update, args=[ACTORS[username], form])
        times.add(label, started)
    if state.outcome != Outcome.monitoring_target:
        raise RuntimeError(f"case {case_id} ended at {state.step} / {state.outcome}")


# -- the bare workflow: straight against Temporal --------------------------------------


async def bare_case(client: Client, workflow_id: str, notice_seconds: float, times: CallTimes) -> None:
    started = time.perf_counter()
    # As the API starts a case: start, then the `opened` update (not update-with-start).
    handle = await client.start_workflow(
        BareCaseWorkflow.run, notice_seconds, id=workflow_id, task_queue=BARE_TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL, id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        memo={"case_id": workflow_id},
    )
    await handle.execute_update(BareCaseWorkflow.opened)
    times.add("open", started)
    for step in BEFORE_NOTICE:
        started = time.perf_counter()
        await handle.execute_update(BareCaseWorkflow.act, step)
        times.add(step, started)

    async def notice_over() -> bool:
        return await handle.query(BareCaseWorkflow.step) == AFTER_NOTICE[0]

    await poll_until(notice_over, times, notice_seconds + 60, workflow_id)
    for step in AFTER_NOTICE:
        started = time.perf_counter()
        answer = await handle.execute_update(BareCaseWorkflow.act, step)
        times.add(step, started)
    if answer != CLOSED:
        raise RuntimeError(f"{workflow_id} ended at {answer}")


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
    """One way of running cases, measured over one or more rounds."""

    def __init__(self, name: str, make_cases: Callable[[int, CallTimes], list[Callable[[], Awaitable[None]]]]) -> None:
        self.name = name
        self.make_cases = make_cases
        self.rounds: list[dict[str, Any]] = []
        self.latencies: list[float] = []
        self.times = CallTimes()
        self.cpu: dict[str, float] = defaultdict(float)

    async def run_round(self, stack: Stack, count: int, concurrency: int) -> dict[str, Any]:
        stack.check_alive()
        cases = self.make_cases(count, self.times)
        before = cpu_snapshot(stack)
        seconds, latencies = await run_cases(cases, concurrency)
        cpu = cpu_used(before, cpu_snapshot(stack), seconds)
        self.latencies += latencies
        for k, v in cpu.items():
            if not k.startswith("_"):
                self.cpu[k] += v
        self.rounds.append({
            "cases": count, "seconds": round(seconds, 3), "cases_per_second": round(count / seconds, 3),
            "machine_cores_busy": round(cpu.get("_machine_cores_busy", float("nan")), 2),
            "outside_cores_busy": round(cpu.get("_outside_cores_busy", float("nan")), 2),
        })
        return self.rounds[-1]

    def quiet_rate(self) -> tuple[float, int] | None:
        """(cases/s, rounds) over the rounds nothing outside the bench disturbed."""
        quiet = [r for r in self.rounds if r["outside_cores_busy"] <= OUTSIDE_CORES_WARNING]
        if not quiet:
            return None
        return sum(r["cases"] for r in quiet) / sum(r["seconds"] for r in quiet), len(quiet)

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
            "cpu_ms_per_case": {k: round(v / self.cases * 1000) for k, v in self.cpu.items()},
        }


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(environment="test", temporal_address=stack.temporal_address,
                        temporal_task_queue=SERVICE_TASK_QUEUE)
    client = await connect(settings)  # the service's data converter (pydantic + AES-GCM)
    run_tag = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=args.concurrency * 2 + 10, max_keepalive_connections=args.concurrency * 2 + 10)
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=120, limits=limits) as http:
        driver = TimedCaseDriver(http, idempotency_keys=not args.no_idempotency_keys)
        for username in (VILLAGE_CADRE, COUNTY_OFFICER, TOWNSHIP_APPROVER, ADMIN):
            await driver.headers(username)  # sign in now: argon2 is slow by design, and not what is measured
        published = await driver.publish_notice_seconds(args.notice_seconds)
        policy = Policy.model_validate(published)
        print(f"published policy version {policy.version}: notice {args.notice_seconds:g} s", flush=True)
        # Households for the service's and the real workflow's cases, registered before anything is timed.
        per_phase = args.warmup + args.cases
        households = await register_households(driver, per_phase * (1 if args.no_breakdown else 2), args.concurrency)
        print(f"registered {len(households)} households", flush=True)
        service_households = iter(households[:per_phase])
        workflow_households = iter(households[per_phase:])
        bare_numbers = iter(range(10**9))

        def service_cases(count: int, times: CallTimes) -> list[Callable[[], Awaitable[None]]]:
            driver.times = times
            return [lambda code=next(service_households): service_case(driver, code, args.notice_seconds)
                    for _ in range(count)]

        def workflow_cases(count: int, times: CallTimes) -> list[Callable[[], Awaitable[None]]]:
            return [lambda code=next(workflow_households): workflow_case(client, code, policy, args.notice_seconds, times)
                    for _ in range(count)]

        def bare_cases(count: int, times: CallTimes) -> list[Callable[[], Awaitable[None]]]:
            return [lambda n=next(bare_numbers): bare_case(client, f"bench-bare-{run_tag}-{n}", args.notice_seconds,
                                                           times)
                    for _ in range(count)]

        phases = {"bare": Phase("bare", bare_cases)}
        if not args.no_breakdown:
            phases["workflow"] = Phase("workflow", workflow_cases)
        phases["service"] = Phase("service", service_cases)

        if args.bare_worker_process:
            stack.spawn("bare worker", [sys.executable, "-m", "bench.bare_case_workflow", stack.temporal_address])
            await stack.wait_for_log("bare worker", "bare worker started")
            bare_worker: Any = None
        else:
            bare_worker = Worker(client, task_queue=BARE_TASK_QUEUE, workflows=[BareCaseWorkflow],
                                 activities=[bare_record])
        order: list[str] = []
        async with bare_worker or contextlib.nullcontext():
            if args.warmup:  # untimed: loads the sandboxed workflows, fills connection pools and caches
                throwaway = CallTimes()
                await run_cases([case for p in phases.values() for case in p.make_cases(args.warmup, throwaway)],
                                args.concurrency)
                print(f"warm-up: {args.warmup} cases per phase, untimed", flush=True)
            for round_no, count in enumerate(split(args.cases, args.rounds)):
                # Alternating order (ABBA for two rounds): drift such as a growing Temporal
                # database or a warming cache weighs on every phase alike.
                names = list(phases) if round_no % 2 == 0 else list(reversed(phases))
                for name in names:
                    result = await phases[name].run_round(stack, count, args.concurrency)
                    order.append(name)
                    print(f"round {round_no + 1} {name:8s}: {count} cases in {result['seconds']:.2f} s "
                          f"= {result['cases_per_second']:.2f} cases/s (cores busy: {result['machine_cores_busy']}, "
                          f"outside the bench: {result['outside_cores_busy']})", flush=True)
    ratio = phases["service"].rate / phases["bare"].rate
    outside = max(r["outside_cores_busy"] for p in phases.values() for r in p.rounds)
    quiet_service, quiet_bare = phases["service"].quiet_rate(), phases["bare"].quiet_rate()
    return {
        "bench": "identification_throughput",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "config": {"cases_per_phase": args.cases, "concurrency": args.concurrency,
                   "notice_seconds": args.notice_seconds, "rounds": args.rounds, "warmup_cases": args.warmup,
                   "idempotency_keys": not args.no_idempotency_keys,
                   "bare_worker": "own process" if args.bare_worker_process else "bench process",
                   "order": order, "per_case": {"starts": 1, "updates": 8, "activities": 9, "timers": 1}},
        "phases": {name: phase.as_dict() for name, phase in phases.items()},
        "service_cases_per_second": round(phases["service"].rate, 3),
        "bare_cases_per_second": round(phases["bare"].rate, 3),
        "ratio_service_to_bare": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "passed": ratio >= TARGET_RATIO,
        "max_outside_cores_busy": outside,
        "disturbed": outside > OUTSIDE_CORES_WARNING,
        # The same ratio over the rounds that nothing outside the bench disturbed (None: no such round).
        "quiet_rounds_ratio": round(quiet_service[0] / quiet_bare[0], 3) if quiet_service and quiet_bare else None,
        "quiet_rounds": {"service": quiet_service[1] if quiet_service else 0, "bare": quiet_bare[1] if quiet_bare else 0},
    }


# -- report ---------------------------------------------------------------------------


def print_report(result: dict[str, Any]) -> None:
    phases, config = result["phases"], result["config"]
    names = [n for n in PHASE_TITLES if n in phases]
    print()
    print(f"Identification throughput: {config['cases_per_phase']} cases per phase, concurrency "
          f"{config['concurrency']}, notice {config['notice_seconds']:g} s, "
          f"order {' → '.join(config['order'])}")
    print(f"{'':26s}{'cases':>7s}{'seconds':>10s}{'cases/s':>10s}   case latency mean / p95")
    for name in names:
        phase = phases[name]
        lat = phase["case_latency"]
        print(f"{PHASE_TITLES[name]:26s}{phase['cases']:7d}{phase['seconds']:10.2f}{phase['cases_per_second']:10.2f}"
              f"   {lat['mean_ms'] / 1000:.2f} s / {lat['p95_ms'] / 1000:.2f} s")
    verdict = "PASS" if result["passed"] else "FAIL"
    print(f"ratio service / bare: {result['ratio_service_to_bare']:.3f}   target ≥ {result['target_ratio']}   {verdict}")
    if result["disturbed"]:
        print(f"WARNING: up to {result['max_outside_cores_busy']} cores were busy outside the bench during a "
              "round; the figures are disturbed, run again on a quiet machine")
        if result["quiet_rounds_ratio"] is not None:
            print(f"ratio over the undisturbed rounds only: {result['quiet_rounds_ratio']:.3f} "
                  f"(service {result['quiet_rounds']['service']}, bare {result['quiet_rounds']['bare']} of "
                  f"{config['rounds']} rounds)")

    print()
    print(f"{'mean ms per call':22s}" + "".join(f"{n:>10s}" for n in names))
    for label in CALLS:
        cells = [phases[n]["calls"].get(label, {}).get("mean_ms", float("nan")) for n in names]
        print(f"{label:22s}" + "".join(f"{c:10.1f}" for c in cells))
    parts = sorted({k for n in names for k in phases[n]["cpu_ms_per_case"]})
    if parts:
        print()
        print(f"{'CPU ms per case':22s}" + "".join(f"{n:>10s}" for n in names))
        for part in parts:
            print(f"{part:22s}" + "".join(f"{phases[n]['cpu_ms_per_case'].get(part, 0):10d}" for n in names))
        print(f"{'total':22s}" + "".join(f"{sum(phases[n]['cpu_ms_per_case'].values()):10d}" for n in names))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=40, help="cases per phase (default 40)")
    parser.add_argument("--concurrency", type=int, default=10, help="cases in flight at most (default 10)")
    parser.add_argument("--notice-seconds", type=float, default=1.0, help="the shortened notice period (default 1)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="split each phase's cases over this many rounds, alternating the order of the "
                             "phases (default 2: bare, workflow, service, then service, workflow, bare)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed cases per phase before measuring (default 2)")
    parser.add_argument("--no-breakdown", action="store_true",
                        help="skip the real workflow driven without the API (the breakdown phase)")
    parser.add_argument("--no-idempotency-keys", action="store_true",
                        help="send the API's POSTs without an Idempotency-Key header")
    parser.add_argument("--bare-worker-process", action="store_true",
                        help="run the bare workflow's worker in a process of its own, like the service's worker")
    parser.add_argument("--fail-under-target", action="store_true", help="exit 1 when the ratio is under the target")
    args = parser.parse_args()
    if args.cases < args.rounds or args.rounds < 1 or args.concurrency < 1 or args.notice_seconds <= 0:
        parser.error("need --cases ≥ --rounds ≥ 1, --concurrency ≥ 1 and --notice-seconds > 0")

    logs = RESULTS / "logs"
    with tempfile.TemporaryDirectory(prefix="bench-identification-") as workdir:
        stack = Stack(Path(workdir), logs)
        try:
            print("starting PostgreSQL, Temporal, the worker and the API…", flush=True)
            started = time.perf_counter()
            stack.start()
            print(f"stack ready in {time.perf_counter() - started:.1f} s (logs in {logs.relative_to(ROOT)})",
                  flush=True)
            result = asyncio.run(measure(stack, args))
        except BaseException:
            print(f"bench failed; the stack's logs are in {logs}", file=sys.stderr)
            raise
        finally:
            stack.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "identification_throughput.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print_report(result)
    print(f"\nfigures written to {out.relative_to(ROOT)}")
    return 1 if args.fail_under_target and not result["passed"] else 0


if __name__ == "__main__":
    sys.exit(main())
