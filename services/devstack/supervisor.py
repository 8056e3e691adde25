"""Keeps the dev stack's processes running: a part that exits is started again after a short
delay (doubling, up to half a minute, while it keeps dying at once), so a crashed worker costs a
few seconds of delay, not the whole stack. A stop signal ends every part, last started first."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from services.devstack.servers import stop_processes

FIRST_DELAY = 2.0  # seconds before a part that died is started again
LONGEST_DELAY = 30.0
STEADY_SECONDS = 30.0  # a part that ran this long before it died is not "dying at once"


@dataclass
class Part:
    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float = FIRST_DELAY
    restart_at: float | None = None
    restarts: int = 0

    def run(self) -> None:
        self.process, self.started_at, self.restart_at = self.start(), time.monotonic(), None

    def watch(self, now: float) -> None:
        """Notices that the part died (and when to start it again), or starts it when it is time."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restarts += 1
                print(f"{self.name}: starting again (restart {self.restarts})", file=sys.stderr, flush=True)
                self.run()
            return
        if self.process is None or self.process.poll() is None:
            return
        died_at_once = self.restarts > 0 and now - self.started_at < STEADY_SECONDS
        self.delay = min(self.delay * 2, LONGEST_DELAY) if died_at_once else FIRST_DELAY
        self.restart_at = now + self.delay
        print(
            f"{self.name} exited with status {self.process.returncode}; starting it again in {self.delay:.0f}s",
            file=sys.stderr,
            flush=True,
        )


class Stopped(Exception):
    """A stop signal arrived (SIGINT, SIGTERM, SIGHUP): raised wherever the stack is, even while it
    starts, so that what has been started is always stopped."""


def stop_on_signals() -> None:
    def stopped(signum: int, _: object) -> None:
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        raise Stopped(signal.Signals(signum).name)

    for sig in _SIGNALS:
        signal.signal(sig, stopped)


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def supervise(parts: list[Part]) -> None:
    """Keeps the parts running until a stop signal (`Stopped`)."""
    while True:
        now = time.monotonic()
        for part in parts:
            part.watch(now)
        time.sleep(0.2)


def stop_parts(parts: list[Part]) -> None:
    """Terminates every part, last started first; kills any that does not stop within 15 s."""
    stop_processes([part.process for part in parts if part.process is not None])
