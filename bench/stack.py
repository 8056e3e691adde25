"""The service's stack for benchmarks, as the dev stack runs it: embedded PostgreSQL, the
Temporal dev server, the department simulator (every demo department registered at it),
the worker and the API (uvicorn), each its own process, logs in one folder."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg

from services.department_simulator.client import start_simulator
from services.devstack.servers import (
    free_port,
    start_embedded_postgres,
    start_temporal_dev_server,
    stop_processes,
    wait_for_port,
)

ROOT = Path(__file__).resolve().parent.parent


class Stack:
    """PostgreSQL, Temporal, the department simulator, the worker and the API."""

    TASK_QUEUE = "identification"

    def __init__(
        self, workdir: Path, logs: Path, external_database: str | None = None, worker_processes: int = 1
    ) -> None:
        """`external_database`: a PostgreSQL server's URL (`postgresql://user@host:port/db`) to run on
        instead of the embedded one; a fresh database is created on it, and dropped at the end.
        `worker_processes`: how many worker processes serve the task queue (docker-compose.yml runs two)."""
        self.workdir, self.logs = workdir, logs
        self.external_database = external_database
        self.worker_processes = worker_processes
        self.fresh_database: str | None = None
        self.postgres: Any = None
        self.temporal: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.api: subprocess.Popen[bytes] | None = None
        self.simulator: subprocess.Popen[bytes] | None = None
        self.extra: list[subprocess.Popen[bytes]] = []
        self.temporal_address = ""
        self.database_url = ""
        self.api_url = ""
        self.simulator_url = ""
        self.env: dict[str, str] = {}

    def start(self, read_only: bool = False) -> None:
        """`read_only`: no department simulator and no worker, for benches that read what they seed."""
        self.logs.mkdir(parents=True, exist_ok=True)
        for old in self.logs.glob("*.log"):
            old.unlink()
        if self.external_database:
            database_url = self._create_fresh_database(self.external_database)
        else:
            self.postgres, database_url = start_embedded_postgres(self.workdir / "postgres")
        self.database_url = database_url
        simulator_port, api_port = free_port(), free_port()
        if not read_only:
            # As long to start as the API: a loaded machine imports slowly.
            self.simulator = start_simulator(simulator_port, log_file=self.logs / "simulator.log", timeout=240)
        self.simulator_url = f"http://127.0.0.1:{simulator_port}"
        temporal_port = free_port()
        self.temporal = start_temporal_dev_server(
            self.workdir / "temporal.sqlite", temporal_port, None, log_file=self.logs / "temporal.log"
        )
        self.temporal_address = f"127.0.0.1:{temporal_port}"
        env = dict(os.environ) | {
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_TASK_QUEUE": self.TASK_QUEUE,
            "ENVIRONMENT": "test",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
            "DEPARTMENT_SIMULATOR_URL": self.simulator_url,
            # The benches publish a notice of seconds, below the rules' floor of days.
            "DEVELOPMENT_POLICIES": "true",
        }
        self.env = env
        self.prepare_database(env)
        if not read_only:
            self.workers = [
                self._spawn(f"worker{n + 1 if n else ''}", [sys.executable, "-m", "services.workers.main"], env)
                for n in range(self.worker_processes)
            ]
        self.api, self.api_url = self.start_api("api", env, api_port)

    def _create_fresh_database(self, server_url: str) -> str:
        """Creates a new database on the external server; its asyncpg URL."""
        self.fresh_database = f"bench_{uuid4().hex[:12]}"
        _run_on_server(server_url, f'CREATE DATABASE "{self.fresh_database}"')
        parts = urlsplit(server_url)
        return urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{self.fresh_database}"))

    def prepare_database(self, env: dict[str, str]) -> None:
        """Migrations and demo data on the database of `env`."""
        for name, args in (
            ("migrate", ["-m", "alembic", "upgrade", "head"]),
            ("demo_data", ["-m", "services.demo_data"]),
        ):
            with open(self.logs / f"{name}.log", "ab") as log:
                subprocess.run(
                    [sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True
                )

    def start_api(self, name: str, env: dict[str, str], port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
        """An API process under uvicorn (on `port`, or a free one) with the settings of `env`; a second
        one (another database) is stopped with the stack."""
        port = port or free_port()
        args = [sys.executable, "-m", "uvicorn", "services.api.app:app", "--host", "127.0.0.1", "--port", str(port)]
        # Keep idle connections open longer than the benches' clients do (httpx: 5 s, uvicorn's default
        # too): else a request sent on a connection the server is closing fails with a read error.
        args += ["--timeout-keep-alive", "30"]
        api = self._spawn(name, args, env) if name == "api" else self.spawn(name, args, env)
        try:
            wait_for_port(port, timeout=240, process=api)  # slow to import on a loaded machine
        except BaseException:
            stop_processes([api])  # not yet the stack's to stop
            raise
        return api, f"http://127.0.0.1:{port}"

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Another process of the stack (stopped with it), its output in the logs folder."""
        process = self._spawn(name, args, env)
        self.extra.append(process)
        return process

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (lives as long as the process)
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    @property
    def worker(self) -> subprocess.Popen[bytes] | None:
        """The first worker process (the only one unless `worker_processes` > 1)."""
        return self.workers[0] if self.workers else None

    def check_alive(self) -> None:
        for name, process in (
            ("temporal", self.temporal),
            *(("worker", worker) for worker in self.workers),
            ("api", self.api),
            ("simulator", self.simulator),
        ):
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"the {name} process exited with status {process.returncode}; see {self.logs}")

    def stop(self) -> None:
        stop_processes(
            [p for p in (self.temporal, self.simulator, *self.workers, self.api, *self.extra) if p is not None]
        )
        if self.postgres is not None:
            self.postgres.cleanup()
        if self.fresh_database and self.external_database:
            _run_on_server(self.external_database, f'DROP DATABASE IF EXISTS "{self.fresh_database}" WITH (FORCE)')

    def pids(self) -> dict[str, list[int]]:
        """Each part's processes (the workers are one part)."""
        return {
            "temporal server": [self.temporal.pid] if self.temporal else [],
            "postgres": [self.postgres.get_pid()] if self.postgres else [],
            "api": [self.api.pid] if self.api else [],
            "worker": [worker.pid for worker in self.workers],
            # Not the service: the departments it sends to, shown apart.
            "department simulator": [self.simulator.pid] if self.simulator else [],
        }


def _run_on_server(server_url: str, statement: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE) on the server of `server_url`."""

    async def run() -> None:
        conn = await asyncpg.connect(urlunsplit(urlsplit(server_url)._replace(scheme="postgresql")))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


RESULTS = ROOT / "bench" / "results"


def run_on_stack(
    name: str,
    measure: Callable[[Stack], dict[str, Any]],
    read_only: bool = False,
    external_database: str | None = None,
    worker_processes: int = 1,
) -> dict[str, Any]:
    """Starts a stack in a temporary folder (on a fresh database of `external_database`'s server if
    given, with `worker_processes` workers, see `Stack`), measures on it, stops it, and writes the
    figures to bench/results/<name>.json (logs in bench/results/logs/)."""
    logs = RESULTS / "logs"
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as workdir:
        stack = Stack(Path(workdir), logs, external_database, worker_processes)
        try:
            parts = "the API" if read_only else "the simulator, the worker and the API"
            where = "an external PostgreSQL" if external_database else "PostgreSQL"
            print(f"starting {where}, Temporal, {parts}…", flush=True)
            started = time.perf_counter()
            stack.start(read_only)
            print(f"stack ready in {time.perf_counter() - started:.1f} s (logs in {logs})", flush=True)
            result = measure(stack)
        except BaseException:
            print(f"bench failed; the stack's logs are in {logs}", file=sys.stderr)
            raise
        finally:
            stack.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result
