"""The README's first command, end to end: the embedded stack starts, the walk-throughs
take a demo household from lead to announcement and another from announcement to
"risk eliminated", a part that dies is started again, and a stop stops everything,
the embedded PostgreSQL included."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
import psutil

from services.devstack.servers import free_port, port_in_use, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


class _Output:
    """The stack's output, read as it comes: a pipe nobody reads fills up, and the parts that log
    (every request, every activity) then stall on writing to it."""

    def __init__(self, stack: subprocess.Popen[str]) -> None:
        self.stack = stack
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(stack.stdout or []), daemon=True)
        self._reader.start()

    def after_exit(self, timeout: float) -> str:
        self.stack.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return "".join(self.lines)


@contextmanager
def _stack(data: Path) -> Iterator[tuple[_Output, dict[str, str], int]]:
    """The dev stack on ports of its own; the caller stops it (signal) and reads its output."""
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")} | {
        "DEVSTACK_DATA": str(data),
        "API_PORT": str(api_port),
        "TEMPORAL_PORT": str(free_port()),
        "TEMPORAL_UI_PORT": str(free_port()),
        "SIMULATOR_PORT": str(free_port()),
        "WORKER_METRICS_PORT": str(free_port()),
    }
    stack = subprocess.Popen(
        [sys.executable, "-m", "services.devstack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = _Output(stack)
    try:
        wait_for_port(api_port, timeout=120, process=stack)
        yield output, env, api_port
    finally:
        if stack.poll() is None:  # the test failed early: stop it as a person would, never leave its servers
            stack.send_signal(signal.SIGTERM)
            try:
                output.after_exit(timeout=90)
            except subprocess.TimeoutExpired:
                stack.kill()


def test_dev_stack_runs_the_walk_through(tmp_path: Path) -> None:
    with _stack(tmp_path / "devdata") as (running, env, api_port):
        stack = running.stack
        walk = _walk_through("services.demo_case", api_port, env)
        assert '"real_estate": "answered"' in walk, "the simulator answered the cross-check"
        assert "announced: 已认定为监测对象; household status: 风险未消除" in walk
        walk = _walk_through("services.demo_monitoring", api_port, env)
        assert "exit: 已标注风险消除; household status: 风险已消除" in walk
        api_metrics = httpx.get(f"http://127.0.0.1:{api_port}/metrics", timeout=10).text
        worker_metrics = httpx.get(f"http://127.0.0.1:{env['WORKER_METRICS_PORT']}/metrics", timeout=10).text
        stack.send_signal(signal.SIGINT)
        output = running.after_exit(timeout=60)
    assert "API docs:" in output and "Temporal UI:" in output, output
    assert stack.returncode == 0, output
    # The API and the worker write JSON lines; the request ids of the walk-through's requests reach
    # the worker's activity lines.
    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"time"')]
    api_ids = {line.get("request_id") for line in lines if line["logger"] == "uvicorn.access"} - {None}
    activity_ids = {line.get("request_id") for line in lines if line["logger"] == "temporalio.activity"} - {None}
    assert api_ids and activity_ids & api_ids, lines[-20:]
    assert 'api_request_duration_seconds_count{method="POST",route="/api/v1/cases"}' in api_metrics
    assert "cases_open" in api_metrics and "temporal_activity_execution_latency" in worker_metrics


def test_a_part_that_dies_is_started_again_and_a_stop_leaves_nothing_running(tmp_path: Path) -> None:
    data = tmp_path / "devdata"
    with _stack(data) as (running, _, api_port):
        stack = running.stack
        worker = _child(stack, "services.workers.main")
        worker.kill()
        again = _eventually(lambda: _child(stack, "services.workers.main", other_than=worker.pid), seconds=20)
        assert again.pid != worker.pid

        api = _child(stack, "services.api.app:app")
        api.kill()
        _eventually(lambda: _child(stack, "services.api.app:app", other_than=api.pid), seconds=20)
        _eventually(lambda: port_in_use(api_port) or None, seconds=60)
        assert stack.poll() is None, "the stack kept running"

        postgres = [p for p in psutil.process_iter(["cmdline"]) if str(data) in " ".join(p.info["cmdline"] or [])]
        assert postgres, "the embedded PostgreSQL runs on the stack's data"
        stack.send_signal(signal.SIGTERM)
        output = running.after_exit(timeout=90)
    assert stack.returncode == 0, output
    assert "worker exited" in output and "API exited" in output, output
    assert not [p for p in postgres if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], "PostgreSQL left running"


def _child(stack: subprocess.Popen[str], marker: str, other_than: int | None = None) -> psutil.Process:
    for child in psutil.Process(stack.pid).children():
        with contextlib.suppress(psutil.Error):  # one that died and is not reaped yet has no command line
            if marker in " ".join(child.cmdline()) and child.pid != other_than:
                return child
    raise LookupError(marker)


def _eventually(find: Callable[[], T | None], seconds: float) -> T:
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = find()
        except LookupError:
            found = None
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("did not happen in time")
        time.sleep(0.2)


def _walk_through(module: str, api_port: int, env: dict[str, str]) -> str:
    walk = subprocess.run(
        [sys.executable, "-m", module, "--base-url", f"http://127.0.0.1:{api_port}", "--notice-seconds", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert walk.returncode == 0, walk.stdout + walk.stderr
    return walk.stdout
