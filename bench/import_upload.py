"""An import file uploaded through the real endpoint (`POST /api/v1/screening/imports/upload`,
multipart over real HTTP to uvicorn), its API process's memory at two file sizes, and its time
beside storing the same file's 1 MB parts straight into PostgreSQL.

    uv run python bench/import_upload.py [--small-mb 1] [--big-mb 256]

Starts a read-only stack (bench/stack.py: embedded PostgreSQL, the Temporal dev server, no worker:
the jobs stay queued, only the upload is measured) and two more API processes, one per size, so
each process's peak RSS (`VmHWM`) is its own upload's. The files are CSV text whose heading names no
column an import needs (a worker would refuse them at once); each run's files differ (a nonce), so
each upload is a new job, not a repeat.

1. Memory: peak RSS of the API after the big upload ≤ 1.5 × after the small one (flat with size).
2. Time: the big upload (send, spool, hash, store) against the baseline, the same file's 1 MB parts
   inserted into `import_file_parts` by asyncpg in one transaction (no HTTP, no multipart, no hash),
   in the same run. Reported as a ratio; target ≤ 3 ×.
Figures go to bench/results/import_upload.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.stack import Stack, run_on_stack  # noqa: E402
from services.demo_case import COUNTY_OFFICER  # noqa: E402
from services.demo_data import DEMO_PASSWORD  # noqa: E402

MEGABYTE = 1 << 20
TARGET_RSS_RATIO, TARGET_TIME_RATIO = 1.5, 3.0
_LINE = b"%d,\xe5\xa4\x87\xe6\xb3\xa8" + b"x" * 100 + b"\n"


def write_file(path: Path, megabytes: int) -> None:
    """CSV of about `megabytes` MB: a heading no kind reads, then numbered lines of text."""
    with path.open("wb") as file:
        file.write(b"remark,nonce %d\n" % time.time_ns())
        line, written = 0, 0
        while written < megabytes * MEGABYTE:
            block = b"".join(_LINE % n for n in range(line, line + 10_000))
            file.write(block)
            line, written = line + 10_000, written + len(block)


def peak_rss_mb(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


async def upload(api_url: str, path: Path, kind: str = "households") -> tuple[float, dict[str, Any]]:
    """The file sent as a county officer sends it (row by row); the seconds it took and the job."""
    async with httpx.AsyncClient(base_url=api_url, timeout=3600) as http:
        login = await http.post("/api/v1/auth/login", json={"username": COUNTY_OFFICER, "password": DEMO_PASSWORD})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        started = time.perf_counter()
        with path.open("rb") as file:
            answer = await http.post(
                "/api/v1/screening/imports/upload",
                data={"kind": kind, "mode": "row_by_row"},
                files={"file": (path.name, file, "text/csv")},
                headers=headers,
            )
        seconds = time.perf_counter() - started
    if answer.status_code != 201:
        raise RuntimeError(f"upload answered {answer.status_code}: {answer.text}")
    return seconds, answer.json()


async def straight_insert(database_url: str, path: Path) -> float:
    """The baseline: the file's 1 MB parts into import_file_parts, one transaction, then removed."""
    connection = await asyncpg.connect(
        make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        started = time.perf_counter()
        async with connection.transaction():
            with path.open("rb") as file:
                part = 0
                while content := file.read(MEGABYTE):
                    await connection.execute(
                        "INSERT INTO import_file_parts (job_id, part, content) VALUES ($1, $2, $3)", -1, part, content
                    )
                    part += 1
        seconds = time.perf_counter() - started
        await connection.execute("DELETE FROM import_file_parts WHERE job_id = -1")
    finally:
        await connection.close()
    return seconds


def measure(stack: Stack, small_mb: int, big_mb: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as folder:
        small, big = Path(folder) / "small.csv", Path(folder) / "big.csv"
        write_file(small, small_mb)
        write_file(big, big_mb)
        figures: dict[str, Any] = {"small_mb": round(small.stat().st_size / MEGABYTE, 1)}
        figures["big_mb"] = round(big.stat().st_size / MEGABYTE, 1)
        for name, path in (("small", small), ("big", big)):
            api, api_url = stack.start_api(f"api-{name}", stack.env)
            rss_before = peak_rss_mb(api.pid)
            seconds, job = asyncio.run(upload(api_url, path))
            figures[f"{name}_upload_s"] = round(seconds, 2)
            figures[f"{name}_rss_before_mb"] = round(rss_before, 1)
            figures[f"{name}_peak_rss_mb"] = round(peak_rss_mb(api.pid), 1)
            figures[f"{name}_job"] = job["job_id"]
            size = figures[f"{name}_mb"]
            print(f"{name}: {size} MB in {seconds:.2f} s, peak RSS {figures[f'{name}_peak_rss_mb']} MB", flush=True)
        baseline = asyncio.run(straight_insert(stack.database_url, big))
    figures["baseline_insert_s"] = round(baseline, 2)
    figures["time_ratio"] = round(figures["big_upload_s"] / baseline, 2)
    figures["rss_ratio"] = round(figures["big_peak_rss_mb"] / figures["small_peak_rss_mb"], 2)
    figures["big_upload_mb_per_s"] = round(figures["big_mb"] / figures["big_upload_s"], 1)
    figures["targets"] = {"rss_ratio": TARGET_RSS_RATIO, "time_ratio": TARGET_TIME_RATIO}
    figures["cores"] = os.cpu_count()
    print(
        f"memory: peak RSS {figures['big_peak_rss_mb']} MB at {figures['big_mb']} MB vs "
        f"{figures['small_peak_rss_mb']} MB at {figures['small_mb']} MB ({figures['rss_ratio']} ×, "
        f"target ≤ {TARGET_RSS_RATIO}); time: upload {figures['big_upload_s']} s vs straight insert "
        f"{figures['baseline_insert_s']} s ({figures['time_ratio']} ×, target ≤ {TARGET_TIME_RATIO})",
        flush=True,
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small-mb", type=int, default=1)
    parser.add_argument("--big-mb", type=int, default=256)
    args = parser.parse_args()
    run_on_stack("import_upload", lambda stack: measure(stack, args.small_mb, args.big_mb), read_only=True)


if __name__ == "__main__":
    main()
