"""Request ids: the API answers the caller's `X-Request-ID` (or one it made) and writes it in every
JSON log line of the request, and the case's workflow carries it to the activities of the steps
that request caused, whose log lines in the worker name it too. A caller's id that could carry
personal data (an ID or phone number) or break a log line is replaced."""

from __future__ import annotations

import json
import logging
import random
import re
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from services.demo_case import VILLAGE_CADRE, CaseDriver, home_verification
from services.demo_data import demo_id_number
from services.observability.logs import JsonFormatter
from services.observability.request_ids import HEADER
from services.settings import Settings
from tests.conftest import NewHousehold, api_for


class _JsonLines(logging.Handler):
    """Each record as the service's formatter writes it, formatted where it was logged (the
    request id is the context's at that moment)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


def _caller_id() -> str:
    """A random id no run of which reads as a phone or ID number (which the API would replace):
    a bare uuid's hex sometimes holds 11 digits in a row."""
    hex_ = uuid.uuid4().hex
    return "-".join(hex_[i : i + 8] for i in range(0, 32, 8))


@pytest.fixture
def json_lines() -> Iterator[_JsonLines]:
    handler, root = _JsonLines(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


async def test_a_request_id_follows_each_step_into_the_workers_log(
    driver: CaseDriver, new_household: NewHousehold, json_lines: _JsonLines
) -> None:
    code = await new_household()
    opening, verifying = f"open-{_caller_id()}", f"verify-{_caller_id()}"
    opened = await driver.post(
        VILLAGE_CADRE,
        "/api/v1/cases",
        {"household_code": code, "channel": "cadre_screening", "lead_note": "走访发现"},
        **{HEADER: opening},
    )
    assert opened.status_code == 201, opened.text
    assert opened.headers[HEADER] == opening
    case_id = opened.json()["case_id"]
    verified = await driver.post(
        VILLAGE_CADRE, f"/api/v1/cases/{case_id}/home-verification", home_verification(), **{HEADER: verifying}
    )
    assert verified.status_code == 200, verified.text
    assert verified.headers[HEADER] == verifying

    steps = [
        (line["activity_type"], line.get("request_id"))
        for line in json_lines.lines
        if line.get("workflow_id") == f"identification-{code}" and line["logger"] == "temporalio.activity"
    ]
    # Each request's step was recorded by an activity, and its log line names that request.
    assert ("record_case_event", opening) in steps
    assert ("record_case_event", verifying) in steps
    assert {request for _, request in steps} == {opening, verifying}


async def test_the_api_makes_an_id_when_it_gets_none_or_one_it_cannot_keep(
    settings: Settings, temporal: WorkflowEnvironment, json_lines: _JsonLines
) -> None:
    phone = f"139{random.randrange(10**8):08d}"
    id_number = demo_id_number("610824", date(1970, 5, 1), random.randrange(1000), True)
    async with api_for(settings, temporal.client, client_address=f"127.0.9.{random.randrange(2, 250)}") as api:
        answers = {
            offered: await api.http.post(
                "/api/v1/self-service/sign-in/code",
                json={"phone": phone},
                headers={HEADER: offered} if offered is not None else {},
            )
            for offered in (None, id_number, phone, "two\nlines", "x" * 65)
        }
    made = {offered: answer.headers[HEADER] for offered, answer in answers.items()}
    assert all(re.fullmatch(r"[0-9a-f]{32}", request) for request in made.values()), made
    assert len(set(made.values())) == len(made), "each request its own id"
    # The API's own log line of each request (the development SMS adapter's) names its id.
    sms_lines = [line for line in json_lines.lines if line["logger"] == "services.sms"]
    assert sms_lines and {line["request_id"] for line in sms_lines} <= set(made.values())
    assert not [line for line in json_lines.lines if id_number in json.dumps(line, ensure_ascii=False)]
