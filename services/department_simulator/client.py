"""Starting the simulator as its own process and steering it over HTTP (tests, bench)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from services.demo_data import DEMO_DEPARTMENT_SECRETS
from services.devstack.servers import stop_processes, wait_for_port

ROOT = Path(__file__).resolve().parent.parent.parent


def start_simulator(port: int, log_file: Path | None = None, timeout: float = 30) -> subprocess.Popen[bytes]:
    """`python -m services.department_simulator --demo` on 127.0.0.1:port, ready to answer within
    `timeout` seconds (else stopped: no process is left behind)."""
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115 (lives as long as the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "services.department_simulator", "--demo", "--port", str(port)],
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, timeout=timeout, process=process)
    except BaseException:
        stop_processes([process])
        raise
    return process


class SimulatorClient:
    def __init__(self, base_url: str, http: httpx.AsyncClient) -> None:
        self.base_url, self._http = base_url.rstrip("/"), http

    async def behave(self, department: str, **behaviour: Any) -> None:
        """Sets how `department` behaves (fields of `Behaviour`; its demo secret unless given)."""
        body = {"secret": DEMO_DEPARTMENT_SECRETS[department]} | behaviour
        answer = await self._http.put(f"{self.base_url}/_admin/departments/{department}", json=body)
        answer.raise_for_status()

    async def reset(self) -> None:
        for department in DEMO_DEPARTMENT_SECRETS:
            await self.behave(department)

    async def send_early_warnings(self, department: str, service_url: str, warnings: list[Any]) -> httpx.Response:
        """Has `department` push these warnings to the service; answers the service's answer."""
        return await self._http.post(
            f"{self.base_url}/_admin/departments/{department}/early-warnings",
            json={"service_url": service_url, "warnings": warnings},
        )

    async def inspect(self, department: str) -> dict[str, Any]:
        answer = await self._http.get(f"{self.base_url}/_admin/departments/{department}")
        answer.raise_for_status()
        return answer.json()
