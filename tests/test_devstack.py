"""The README's first command, end to end: the embedded stack starts, the walk-throughs
take a demo household from lead to announcement and another from announcement to
"risk eliminated", and Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from services.devstack.servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent


def test_dev_stack_runs_the_walk_through(tmp_path: Path) -> None:
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")} | {
        "DEVSTACK_DATA": str(tmp_path / "devdata"),
        "API_PORT": str(api_port),
        "TEMPORAL_PORT": str(free_port()),
        "TEMPORAL_UI_PORT": str(free_port()),
        "SIMULATOR_PORT": str(free_port()),
    }
    stack = subprocess.Popen(
        [sys.executable, "-m", "services.devstack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(api_port, timeout=120, process=stack)
        walk = _walk_through("services.demo_case", api_port, env)
        assert '"real_estate": "answered"' in walk, "the simulator answered the cross-check"
        assert "announced: 已认定为监测对象; household status: 风险未消除" in walk
        walk = _walk_through("services.demo_monitoring", api_port, env)
        assert "exit: 已标注风险消除; household status: 风险已消除" in walk
    finally:
        stack.send_signal(signal.SIGINT)
        output, _ = stack.communicate(timeout=60)
    assert "API docs:" in output and "Temporal UI:" in output, output
    assert stack.returncode == 0, output


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
