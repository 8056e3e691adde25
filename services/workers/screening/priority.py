"""Bulk work (an import's chunks, a run's flagging) at a lower CPU priority than the requests of
cadres, so that on a busy machine the cores go to the API first; an idle core still serves the bulk
work at full speed. Linux niceness, which is per thread: the worker's reader thread, and the
PostgreSQL backend serving the bulk statements when it runs on this machine."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

BULK_NICENESS = 10


def yield_cores_in_this_thread() -> None:
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BULK_NICENESS)


async def yield_cores_in_backend(conn: AsyncConnection) -> None:
    """Lowers the priority of `conn`'s PostgreSQL backend if that process is on this machine: its
    pid is a PostgreSQL process here (a database elsewhere, or in a container, leaves it alone), and
    this worker may renice it (same user, or root). Kept for the connection's life: the bulk engine's
    connections serve only bulk work."""
    _renice_postgres(int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()))


def _renice_postgres(pid: int) -> None:
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"postgres"):
            os.setpriority(os.PRIO_PROCESS, pid, BULK_NICENESS)
