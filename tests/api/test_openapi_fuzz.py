"""Schemathesis over every operation of the OpenAPI document, signed in as a village cadre and
as a county officer, with valid and invalid requests: no answer may be a 500, and every answer
must be one the document lists for that operation (status code, content type, headers, body).

It runs against a service of its own: the real app and worker, on a database of their own (same
PostgreSQL server, migrated, demo data loaded) and a Temporal namespace of their own (same dev
server), so the requests the fuzzer gets right (it uses the document's examples, which name demo
households) change nothing another test sees. Requests go in-process to the app from an address
of their own, so failed sign-ins lock nothing the other tests use.

Deterministic in CI; `FUZZ_SEED=<n>` draws other examples, `FUZZ_EXAMPLES=<n>` changes how many
per operation, role and mode (README, "Tests and benchmark").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation
from temporalio.testing import WorkflowEnvironment

from services.api.app import app as documented_app
from services.demo_case import COUNTY_OFFICER, DEMO_VILLAGE, VILLAGE_CADRE, CaseDriver
from services.domain.vocabulary import Department
from services.settings import Settings
from services.workers.main import running_worker
from tests.conftest import api_for
from tests.inbox import inbox_tasks
from tests.isolated_service import own_database, own_namespace

SCHEMA = schemathesis.openapi.from_dict(documented_app.openapi())
ROLES = (VILLAGE_CADRE, COUNTY_OFFICER)
CHECKS = [
    not_a_server_error,
    negative_data_rejection,  # an invalid request is refused (4xx), not acted on
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ_SEED = os.environ.get("FUZZ_SEED")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
# An operation's first failure is reported as found (no shrinking, the rest of its examples skipped): bounded time.
EXAMPLE_SETTINGS = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=FUZZ_SEED is None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
FUZZ_ADDRESS = "198.51.100.15"  # TEST-NET-2: an address no other test signs in from

Send = Callable[[Case, dict[str, str]], httpx.Response]


@asynccontextmanager
async def fuzz_service(settings: Settings, temporal: WorkflowEnvironment) -> AsyncIterator[CaseDriver]:
    client = await own_namespace(temporal, settings)
    own = settings.model_copy(update={"database_url": await own_database(settings)})
    async with running_worker(client, own), api_for(own, client, client_address=FUZZ_ADDRESS) as driver:
        yield driver


async def _records(driver: CaseDriver) -> dict[str, str]:
    """Path parameters that name records of the fuzzed service, so that valid requests get past
    the lookup to the checks and the workflow: an open case of a demo household and its task."""
    households = await driver.get(VILLAGE_CADRE, "/api/v1/households", area=DEMO_VILLAGE, limit=1)
    household = households.json()["items"][0]["code"]
    case = await driver.open_case(household)
    tasks = await inbox_tasks(driver, VILLAGE_CADRE, case["case_id"])
    return {
        "case_id": case["case_id"],
        "code": household,
        "village_code": DEMO_VILLAGE,
        "task_id": str(tasks[0]["task_id"]),
        "username": VILLAGE_CADRE,
        "kind": Department.real_estate.value,
    }


def _problems_of(
    operation: APIOperation, mode: GenerationMode, headers: dict[str, str], send: Send, records: dict[str, str]
) -> str | None:
    """The first answer of `operation` that breaks a check, described with its request; None if none.
    Valid requests name existing records where the path names one this test made."""
    found: list[str] = []
    names = {parameter.name for parameter in operation.path_parameters}
    known = (
        {name: records[name] for name in names} if mode == GenerationMode.POSITIVE and names <= set(records) else None
    )

    @EXAMPLE_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=known))
    def run(case: Case) -> None:
        if found:
            return
        response = send(case, headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as failure:  # every check that failed, with the answer and a curl command
            found.append(str(failure))

    if FUZZ_SEED is not None:
        run = seed(int(FUZZ_SEED))(run)
    with contextlib.suppress(Unsatisfiable):  # negative mode, an operation without any input to make invalid
        run()
    return found[0] if found else None


def _as_part(value: Any) -> Any:
    """A generated multipart value as httpx sends it: bytes or text (a number or flag as its text)."""
    if isinstance(value, tuple):
        return (*value[:1], _as_part(value[1]), *value[2:]) if len(value) > 1 else value
    return value if isinstance(value, str | bytes) else json.dumps(value)


def _multipart_parts(files: Any) -> Any:
    if isinstance(files, dict):
        return {name: _as_part(value) for name, value in files.items()}
    return [(name, _as_part(value)) for name, value in files]


def _sender(http: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> Send:
    """Sends a generated case from the fuzzing thread through the app, on the servers' event loop."""

    def send(case: Case, headers: dict[str, str]) -> httpx.Response:
        kwargs = case.as_transport_kwargs(base_url=str(http.base_url).rstrip("/"), headers=headers)
        data = kwargs.pop("data", None)
        if isinstance(data, str | bytes):
            kwargs["content"] = data
        elif data is not None:
            kwargs["data"] = data
        if not kwargs.get("cookies"):
            kwargs.pop("cookies", None)  # httpx takes cookies per client; the cases carry none
        if "files" in kwargs:
            kwargs["files"] = _multipart_parts(kwargs["files"])
        request = http.build_request(**kwargs)
        request.read()  # a multipart body is a stream: read now, so the checks can see what was sent
        return asyncio.run_coroutine_threadsafe(http.send(request), loop).result(timeout=60)

    return send


async def test_every_answer_to_generated_requests_is_documented(
    settings: Settings, temporal: WorkflowEnvironment
) -> None:
    async with fuzz_service(settings, temporal) as driver:
        roles = {role: await driver.headers(role) for role in ROLES}
        records = await _records(driver)
        send = _sender(driver.http, asyncio.get_running_loop())
        operations = [result.ok() for result in SCHEMA.get_all_operations()]

        def fuzz_all() -> list[str]:
            problems = []
            for operation in operations:
                for role, headers in roles.items():
                    for mode in GenerationMode:
                        problem = _problems_of(operation, mode, headers, send, records)
                        if problem:
                            problems.append(f"{operation.label} as {role}, {mode.value}:\n{problem}")
            return problems

        problems = await asyncio.to_thread(fuzz_all)
        # Had a generated request signed a role out, its later requests would all have met a 401.
        for role in ROLES:
            assert (await driver.get(role, "/api/v1/auth/me")).status_code == 200, f"{role} was signed out"
    assert not problems, f"{len(problems)} operations answered outside the document:\n\n" + "\n\n".join(problems)
