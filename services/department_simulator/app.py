"""The simulator's HTTP app.

    POST /{department}/cross-checks          a department's cross-check endpoint (INTERFACES.md §1)
    PUT  /_admin/departments/{department}    set how that department behaves (Behaviour)
    GET  /_admin/departments/{department}    its behaviour (without the secret), requests received, callbacks sent,
                                             answers lost
    POST /_admin/departments/{department}/early-warnings
                                             the department sends a batch of early warnings (INTERFACES.md §3),
                                             signed with its secret, to the service; answers the service's answer

A department verifies the service's signature (401 otherwise), answers 202, and calls
back after its delay with its findings; a repeated request_id is the same request (one
callback). Failures on purpose: `fail_next` answers 5xx, `hang_seconds` holds the
answer past the client's timeout, `callback_signature`/`sign_as` sign callbacks wrongly,
`callback_copies` sends duplicates, `silent` never calls back, `lose_answers` accepts and
never calls back until the same request_id comes again (an answer lost in an outage).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from services.department_simulator.behaviour import Behaviour, CallbackSent, Received, WarningsToSend
from services.departments.contract import CrossCheckRequestBody
from services.departments.signing import MAX_CLOCK_SKEW_SECONDS, signed_headers, verify

log = logging.getLogger("department_simulator")


class Department:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.received: list[Received] = []
        self.callbacks: list[CallbackSent] = []
        self.answered: set[str] = set()
        # Requests whose answers were lost (`lose_answers`): answered only when they come again.
        self.lost: list[str] = []


class Simulator:
    def __init__(self, secrets: dict[str, str]) -> None:
        self.departments = {name: Department(Behaviour(secret=secret)) for name, secret in secrets.items()}
        self.http = httpx.AsyncClient(timeout=10)
        self.tasks: set[asyncio.Task[None]] = set()

    def department(self, name: str) -> Department:
        if name not in self.departments:
            raise HTTPException(404, f"department {name} is not simulated here")
        return self.departments[name]

    async def cross_check(self, name: str, request: Request) -> JSONResponse:
        department = self.department(name)
        behaviour = department.behaviour
        body = await request.body()
        if not verify(behaviour.secret, request.headers, body):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        payload = CrossCheckRequestBody.model_validate_json(body)
        seen = next((r for r in department.received if r.request_id == payload.request_id), None)
        if seen is None:
            seen = Received(request_id=payload.request_id, answered=0, subjects=len(payload.subjects))
            department.received.append(seen)
        seen.answered += 1
        if behaviour.hang_seconds:
            await asyncio.sleep(behaviour.hang_seconds)
        if behaviour.fail_next > 0:
            behaviour.fail_next -= 1
            return JSONResponse({"error": "failing on purpose"}, status_code=behaviour.fail_status)
        if payload.request_id not in department.answered and not behaviour.silent:
            if behaviour.lose_answers > 0 and payload.request_id not in department.lost:
                behaviour.lose_answers -= 1
                department.lost.append(payload.request_id)  # accepted, but its answer never leaves
            else:
                department.answered.add(payload.request_id)  # a repeated request_id is the same request
                task = asyncio.create_task(self._call_back(name, department, payload))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        return JSONResponse({"request_id": payload.request_id, "accepted": True}, status_code=202)

    async def send_early_warnings(self, name: str, batch: WarningsToSend) -> JSONResponse:
        """Plays a department pushing warnings: the batch as INTERFACES.md §3 has it, signed as it would sign it."""
        department = self.department(name)
        body = json.dumps({"department": name, "warnings": batch.warnings}, ensure_ascii=False).encode()
        url = f"{batch.service_url.rstrip('/')}/api/v1/early-warnings"
        try:
            answer = await self.http.post(url, content=body, headers=signed_headers(department.behaviour.secret, body))
        except httpx.HTTPError as failure:
            return JSONResponse({"error": type(failure).__name__}, status_code=502)
        return JSONResponse(answer.json(), status_code=answer.status_code)

    async def _call_back(self, name: str, department: Department, payload: CrossCheckRequestBody) -> None:
        behaviour = department.behaviour
        await asyncio.sleep(behaviour.delay_seconds)
        result = {
            "request_id": payload.request_id,
            "department": payload.department,
            "status": behaviour.result_status,
            "findings": [
                {
                    "id_number": s.id_number,
                    "matches": [m.model_dump() for m in behaviour.findings.get(s.id_number, behaviour.default_matches)],
                }
                for s in payload.subjects
            ]
            if behaviour.result_status == "completed"
            else [],
            "completed_at": datetime.now(UTC).isoformat(),
        }
        body = json.dumps(result, ensure_ascii=False).encode()
        for _ in range(behaviour.callback_copies):
            department.callbacks.append(await self._post(payload, body, self._callback_headers(behaviour, body)))

    def _callback_headers(self, behaviour: Behaviour, body: bytes) -> dict[str, str]:
        secret = behaviour.secret
        if behaviour.sign_as:
            secret = self.department(behaviour.sign_as).behaviour.secret
        if behaviour.callback_signature == "wrong_secret":
            secret = secret + "-wrong"
        now = time.time() - (MAX_CLOCK_SKEW_SECONDS + 60 if behaviour.callback_signature == "stale_timestamp" else 0)
        return signed_headers(secret, body, now=now)

    async def _post(self, payload: CrossCheckRequestBody, body: bytes, headers: dict[str, str]) -> CallbackSent:
        """Calls back, retrying a few times on a network error or a 5xx, as a department would."""
        error = None
        for attempt in range(5):
            try:
                answer = await self.http.post(payload.callback_url, content=body, headers=headers)
                if answer.status_code < 500:
                    return CallbackSent(request_id=payload.request_id, status_code=answer.status_code)
                error = f"HTTP {answer.status_code}"
            except httpx.HTTPError as failure:
                error = type(failure).__name__
            await asyncio.sleep(0.5 * 2**attempt)
        log.warning("callback for %s failed: %s", payload.request_id, error)
        return CallbackSent(request_id=payload.request_id, status_code=None, error=error)


def create_simulator_app(secrets: dict[str, str]) -> FastAPI:
    simulator = Simulator(secrets)
    app = FastAPI(title="Department simulator", description=__doc__)
    app.state.simulator = simulator

    @app.post("/{department}/cross-checks", status_code=202)
    async def cross_check(department: str, request: Request) -> JSONResponse:
        return await simulator.cross_check(department, request)

    @app.put("/_admin/departments/{department}")
    async def configure(department: str, behaviour: Behaviour) -> dict[str, Any]:
        simulator.departments[department] = Department(behaviour)
        return {"department": department, "configured": True}

    @app.get("/_admin/departments/{department}")
    async def inspect(department: str) -> dict[str, Any]:
        simulated = simulator.department(department)
        return {
            "behaviour": simulated.behaviour.model_dump(exclude={"secret"}),
            "received": [r.model_dump() for r in simulated.received],
            "callbacks": [c.model_dump() for c in simulated.callbacks],
            "lost": simulated.lost,
        }

    @app.post("/_admin/departments/{department}/early-warnings")
    async def send_early_warnings(department: str, batch: WarningsToSend) -> JSONResponse:
        return await simulator.send_early_warnings(department, batch)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
