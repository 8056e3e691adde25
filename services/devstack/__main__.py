"""Runs the whole service on one machine: `./scripts/run` calls this.

With DATABASE_URL unset it starts an embedded PostgreSQL in .devdata/postgres;
with TEMPORAL_ADDRESS unset it starts the Temporal dev server (with its web UI)
persisting to .devdata/temporal.sqlite. Then it applies migrations, loads the
demo data (departments registered at the simulator), and runs the department
simulator, the worker and the API until Ctrl-C (or SIGTERM), starting again any of
them that exits (services/devstack/supervisor.py). Every stop stops all of it,
the embedded PostgreSQL included.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from services.devstack.servers import (
    port_in_use,
    start_embedded_postgres,
    start_temporal_dev_server,
    stop_embedded_postgres,
    wait_for_port,
)
from services.devstack.supervisor import Part, Stopped, stop_on_signals, stop_parts, supervise

# Overridable so a second stack (the tests' smoke run) can sit beside a running one.
DATA = Path(os.environ.get("DEVSTACK_DATA", ".devdata"))
API_HOST, API_PORT = "127.0.0.1", int(os.environ.get("API_PORT", "8000"))
TEMPORAL_PORT = int(os.environ.get("TEMPORAL_PORT", "7233"))
TEMPORAL_UI_PORT = int(os.environ.get("TEMPORAL_UI_PORT", "8233"))
SIMULATOR_PORT = int(os.environ.get("SIMULATOR_PORT", "8300"))
WORKER_METRICS_PORT = int(os.environ.get("WORKER_METRICS_PORT", "9464"))
# The API's log lines as the worker's: JSON, with request ids.
UVICORN_LOG_CONFIG = "services/observability/uvicorn_logging.json"


def _refuse_busy_ports(env: dict[str, str]) -> None:
    """A server left over from an earlier run would answer in place of the new one: say so."""
    wanted = {API_PORT: "API_PORT", SIMULATOR_PORT: "SIMULATOR_PORT", WORKER_METRICS_PORT: "WORKER_METRICS_PORT"}
    if not env.get("TEMPORAL_ADDRESS"):
        wanted |= {TEMPORAL_PORT: "TEMPORAL_PORT", TEMPORAL_UI_PORT: "TEMPORAL_UI_PORT"}
    busy = [f"{port} ({name})" for port, name in wanted.items() if port_in_use(port)]
    if busy:
        raise SystemExit(
            f"already in use on 127.0.0.1: {', '.join(busy)}. Stop what runs there "
            "(an earlier ./scripts/run?) or choose other ports with those variables."
        )


def main() -> int:
    DATA.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    _refuse_busy_ports(env)
    stop_on_signals()
    parts: list[Part] = []
    postgres = None
    try:
        if not env.get("DATABASE_URL"):
            postgres, env["DATABASE_URL"] = start_embedded_postgres((DATA / "postgres").resolve())
            print(f"PostgreSQL (embedded) on {env['DATABASE_URL']}")
        if not env.get("TEMPORAL_ADDRESS"):
            _started(
                parts,
                "Temporal dev server",
                lambda: start_temporal_dev_server(
                    DATA / "temporal.sqlite", TEMPORAL_PORT, TEMPORAL_UI_PORT, log_file=DATA / "temporal.log"
                ),
            )
            env["TEMPORAL_ADDRESS"] = f"127.0.0.1:{TEMPORAL_PORT}"
            print(f"Temporal dev server on {env['TEMPORAL_ADDRESS']}")
        # Departments call back here; the demo departments are played by the simulator.
        env.setdefault("PUBLIC_BASE_URL", f"http://{API_HOST}:{API_PORT}")
        # The walk-throughs publish notices of seconds, below the rules' floors: a demo's policies.
        env.setdefault("DEVELOPMENT_POLICIES", "true")
        env["DEPARTMENT_SIMULATOR_URL"] = f"http://127.0.0.1:{SIMULATOR_PORT}"
        env.setdefault("WORKER_METRICS_ADDRESS", f"127.0.0.1:{WORKER_METRICS_PORT}")
        python = sys.executable
        subprocess.run([python, "-m", "alembic", "upgrade", "head"], env=env, check=True)
        subprocess.run([python, "-m", "services.demo_data"], env=env, check=True)

        def spawn(*args: str) -> Callable[[], subprocess.Popen[bytes]]:
            return lambda: subprocess.Popen([python, "-m", *args], env=env)

        simulator = _started(
            parts,
            "department simulator",
            spawn("services.department_simulator", "--demo", "--port", str(SIMULATOR_PORT)),
        )
        wait_for_port(SIMULATOR_PORT, timeout=30, process=simulator)
        _started(parts, "worker", spawn("services.workers.main"))
        api = _started(
            parts,
            "API",
            spawn(
                "uvicorn",
                "services.api.app:app",
                *("--host", API_HOST, "--port", str(API_PORT), "--log-config", UVICORN_LOG_CONFIG),
            ),
        )
        wait_for_port(API_PORT, timeout=60, process=api)
        print(
            "\nReady.\n"
            f"  API docs:     http://{API_HOST}:{API_PORT}/docs\n"
            f"  Metrics:      http://{API_HOST}:{API_PORT}/metrics (API), http://{env['WORKER_METRICS_ADDRESS']}/metrics (worker)\n"
            + (
                f"  Temporal UI:  http://127.0.0.1:{TEMPORAL_UI_PORT}\n"
                if not os.environ.get("TEMPORAL_ADDRESS")
                else ""
            )
            + f"  Department simulator: http://127.0.0.1:{SIMULATOR_PORT}/docs\n"
            + "  Demo sign-in: see README.md (password Demo@2026)\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        supervise(parts)
    except Stopped:
        return 0
    finally:
        stop_parts(parts)
        if postgres is not None:
            stop_embedded_postgres(postgres)
    return 0


def _started(parts: list[Part], name: str, start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """Starts a part the supervisor will keep running."""
    part = Part(name, start)
    parts.append(part)
    part.run()
    assert part.process is not None
    return part.process


if __name__ == "__main__":
    sys.exit(main())
