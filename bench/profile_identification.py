"""Where the API and the worker spend their CPU while the throughput bench drives cases.

    uv run python bench/profile_identification.py [--cases 20] [--rate 100] [--top 25]

Runs `bench/identification_throughput.py` (its own stack) and, once its warm-up is done,
samples the API and the worker processes with py-spy (`pip install py-spy`; it reads the
processes from outside, nothing in the service changes) until the bench ends. Writes each
process's folded stacks to bench/results/profile-<process>.txt (for flame graphs) and prints,
per process, the share of samples by where the time went: the frame of the deepest function in
each stack that is not in a library of the list below (the caller in our code), and the
library (leaf module) the time was spent in. Sampling slows the processes a little: this run's
rates are not the bench's figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PROCESSES = {"api": "services.api.app:app", "worker": "services.workers.main"}


def _children(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        path = Path(f"/proc/{parent}/task/{parent}/children")
        kids = [int(k) for k in path.read_text().split()] if path.exists() else []
        found += kids
        todo += kids
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _find(bench_pid: int) -> dict[str, int]:
    found = {}
    for pid in _children(bench_pid):
        command = _command(pid)
        for name, marker in PROCESSES.items():
            if marker in command:
                found[name] = pid
    return found


def _area(frame: str) -> str:
    """A folded frame `function (path:line)` (py-spy shortens paths to the package's) → where it is:
    `services/<package>/<module>` for ours, else the top package or stdlib module."""
    path = frame.rsplit(" (", 1)[-1].rsplit(":", 1)[0]
    parts = path.split("/")
    if parts[0] in ("services", "bench"):
        return "/".join(parts[:3]).removesuffix(".py")
    return parts[0].removesuffix(".py")


# Leaf frames of threads that wait rather than work (py-spy counts a thread parked in a lock or in
# epoll now and then): the event loop's wait, the thread pool's, and native frames without a name.
WAITING = ("Runner.run (", "EpollSelector.select (", "Condition.wait (", "_worker (concurrent", "")


def _waiting(leaf: str) -> bool:
    return leaf == "" or any(leaf.startswith(prefix) for prefix in WAITING if prefix)


def summarise(folded: Path, top: int) -> None:
    """Shares of the samples that were working (see WAITING)."""
    by_leaf: Counter[str] = Counter()
    by_own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = waiting = 0
    for line in folded.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames, count = stack.split(";"), int(count_text)
        if _waiting(frames[-1]):
            waiting += count
            continue
        total += count
        by_leaf[_area(frames[-1])] += count
        for area in {_area(f) for f in frames}:
            inclusive[area] += count
        own = next((f for f in reversed(frames) if f.rsplit(" (", 1)[-1].startswith("services/")), None)
        by_own[f"{own.split(' (', 1)[0]} ({_area(own)})" if own else "(no frame of ours: SDK, loop, server)"] += count
    print(f"  samples working {total} (left out, waiting: {waiting})")
    print("  by the package the sample was in (leaf frame):")
    for area, count in by_leaf.most_common(top):
        print(f"    {100 * count / max(total, 1):5.1f}%  {area}")
    print("  by package anywhere on the stack (inclusive; a sample counts for each package it passes):")
    for area, count in inclusive.most_common(top):
        print(f"    {100 * count / max(total, 1):5.1f}%  {area}")
    print("  by the deepest frame of the service's own code on the stack:")
    for own, count in by_own.most_common(top):
        print(f"    {100 * count / max(total, 1):5.1f}%  {own}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20, help="cases per phase (default 20)")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second (default 100)")
    parser.add_argument("--top", type=int, default=25, help="lines per table (default 25)")
    args = parser.parse_args()
    spy = shutil.which("py-spy")
    if spy is None:
        parser.error("py-spy is not installed (pip install py-spy)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    bench = subprocess.Popen(
        # One worker process, so that its profile holds all of the worker's work.
        [sys.executable, str(ROOT / "bench" / "identification_throughput.py"), "--cases", str(args.cases), "-w1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert bench.stdout is not None
    spies: dict[str, subprocess.Popen[bytes]] = {}
    rounds = 0
    for line in bench.stdout:
        print(line, end="", flush=True)
        if line.startswith("warm-up:") and not spies:
            for name, pid in _find(bench.pid).items():
                out = RESULTS / f"profile-{name}.txt"
                command = [spy, "record", "--format", "raw", "--rate", str(args.rate), "--nonblocking"]
                spies[name] = subprocess.Popen(
                    [*command, "--pid", str(pid), "--output", str(out)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
        rounds += line.startswith("round ")
        if rounds == 4 and spies:  # the bench's 4 measured rounds are done: stop before the stack stops
            rounds += 1
            for spy_process in spies.values():
                spy_process.send_signal(2)
    bench.wait()
    deadline = time.monotonic() + 30
    for spy_process in spies.values():
        spy_process.wait(timeout=max(1.0, deadline - time.monotonic()))
    for name in spies:
        out = RESULTS / f"profile-{name}.txt"
        print(f"\n{name} (folded stacks in {out.relative_to(ROOT)}):")
        if out.exists() and os.path.getsize(out):
            summarise(out, args.top)
        else:
            print("  no samples written (py-spy needs ptrace: run as root or with CAP_SYS_PTRACE)")
    return bench.returncode


if __name__ == "__main__":
    sys.exit(main())
