"""Logs never hold an ID number: every log record of the service, the API server, Temporal's SDK
and the HTTP clients is captured while a case runs from lead to announcement through the API,
with a department finding that names a member, and none contains any member's ID number.
Nor when a database error happens on data holding ID numbers and phones, in a request and in an
activity: neither the logs nor the workflow's history in Temporal (its failures above all, which
Temporal keeps beside the encrypted payloads) hold them. Each record is checked as it is written
too (the JSON line, with its request id), and a caller who sends an ID number as its request id
does not get it into the logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf.json_format import MessageToJson
from google.protobuf.message import Message
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import FailureError
from temporalio.testing import WorkflowEnvironment

from services.demo_case import VILLAGE_CADRE, CaseDriver
from services.demo_data import DEMO_PASSWORD
from services.department_simulator.client import SimulatorClient
from services.observability.logs import JsonFormatter
from services.observability.request_ids import HEADER
from services.settings import Settings
from tests.applicants import Household, SmsLog, application_form, mini, unregistered_head  # noqa: F401 (fixture)
from tests.conftest import NewHousehold, new_household_body
from tests.database_refusals import new_marker, refusing

# Root at INFO as the service runs (services/workers/main.py), uvicorn at its default INFO; the
# others keep their own level (SQLAlchemy's WARN: the service never echoes SQL).
_AT_INFO = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
_LOGGERS = (*_AT_INFO, "services", "temporalio", "httpx", "sqlalchemy", "asyncio")


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.json = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name} {record.levelname} {text} {record.__dict__!r}")
        self.lines.append(self.json.format(record))  # as the service writes it, request id included


@pytest.fixture
def captured() -> Iterator[_Everything]:
    """Every record the loggers emit at the service's levels, whether they propagate or not."""
    handler = _Everything()
    saved = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.addHandler(handler)
        if name in _AT_INFO:
            logger.setLevel(logging.INFO)
    yield handler
    for logger, level in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_a_full_case_logs_no_id_number(
    driver: CaseDriver, new_household: NewHousehold, departments: SimulatorClient, captured: _Everything
) -> None:
    await driver.publish_notice_seconds(0.5)
    code = await new_household()
    members = (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{code}")).json()["members"]
    id_numbers = [m["id_number"] for m in members]
    await departments.behave(
        "vehicles", findings={id_numbers[1]: [{"kind": "vehicle", "description": "小型轿车 1 辆", "value": 1}]}
    )
    await departments.behave("real_estate", fail_next=1, fail_status=503)
    # An ID number offered as the request id is not taken: it would be in every line of the case's steps.
    opened = await driver.post(
        VILLAGE_CADRE,
        "/api/v1/cases",
        {"household_code": code, "channel": "cadre_screening", "lead_note": "走访发现"},
        **{HEADER: id_numbers[0]},
    )
    assert opened.status_code == 201, opened.text
    assert opened.headers[HEADER] != id_numbers[0]
    case = opened.json()
    await driver.through_review(case["case_id"])
    await driver.wait_for_step(case["case_id"], "township_review")
    case = await driver.after_notice(case["case_id"])
    assert case["outcome"] == "monitoring_target"
    found = [f["id_number"] for f in case["cross_checks"]["vehicles"]["findings"] if f["matches"]]
    assert found == [id_numbers[1]], "an ID number went through the department's callback"

    assert captured.lines, "the capture works: the service did log"
    assert any(opened.headers[HEADER] in line for line in captured.lines), "the case's steps logged its request id"
    leaks = [line for line in captured.lines if any(n in line for n in id_numbers)]
    assert leaks == []


def _failures(message: Message) -> Iterator[Failure]:
    """Every failure an event of a workflow's history carries (a failure's causes are inside it)."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        for item in value if field.is_repeated else [value]:
            if isinstance(item, Failure):
                yield item
            elif isinstance(item, Message):
                yield from _failures(item)


async def _history_texts(temporal: WorkflowEnvironment, since: datetime) -> tuple[list[str], list[str]]:
    """The self-report workflows started since `since`: their histories as Temporal stores them, and
    each failure in them as the service reads it (decrypted, message and stack trace restored)."""
    stored, failures = [], []
    query = f"WorkflowType = 'SelfReportWorkflow' AND StartTime >= '{since.isoformat()}'"
    async for run in temporal.client.list_workflows(query):
        history = await temporal.client.get_workflow_handle(run.id, run_id=run.run_id).fetch_history()
        stored.append(history.to_json())
        for event in history.events:
            for failure in _failures(event):
                copy = Failure()
                copy.CopyFrom(failure)
                error: BaseException | None = await temporal.client.data_converter.decode_failure(copy)
                while isinstance(error, FailureError) and error.failure is not None:
                    failures.append(MessageToJson(error.failure))
                    error = error.__cause__
    return stored, failures


async def test_database_errors_keep_personal_data_out_of_logs_and_temporal(
    live_api: FastAPI,
    settings: Settings,
    temporal: WorkflowEnvironment,
    driver: CaseDriver,
    mini: tuple[CaseDriver, SmsLog],
    captured: _Everything,
) -> None:
    since = datetime.now(UTC)
    marker = new_marker()
    # In a request, on the API server over HTTP: a member's row refused.
    household = new_household_body()
    household["members"][1]["health"] = marker
    id_numbers = [m["id_number"] for m in household["members"]]
    phones = [household["phone"]]
    async with (
        refusing(settings.require_database_url(), "members", "health", marker),
        httpx.AsyncClient(base_url=settings.public_base_url, timeout=60) as http,
    ):
        login = await http.post("/api/v1/auth/login", json={"username": VILLAGE_CADRE, "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        in_request = await http.post("/api/v1/households", json=household, headers=headers)
    # In an activity: a household's application (the head's ID number, the phone) refused.
    api, sms = mini
    applicant = await Household(api.http, sms).sign_in()
    name, id_number = unregistered_head()
    id_numbers.append(id_number)
    phones.append(applicant.phone)
    form = application_form(name, id_number, applicant.phone, description=f"老伴今年住院两次 {marker}")
    async with refusing(settings.require_database_url(), "self_reports", "state", marker):
        in_activity = await applicant.post("/applications", form)

    personal = id_numbers + phones
    assert [line for line in captured.lines if any(p in line for p in personal)] == []
    assert any("23514" in line for line in captured.lines), "the errors were logged, by their kind"
    stored, failures = await _history_texts(temporal, since)
    assert [h for h in stored if any(p in h for p in personal)] == []
    assert [f for f in failures if any(p in f for p in personal)] == []
    assert stored and any("23514" in f for f in failures), "the failures were found, naming the error's kind"
    for answer in (in_request, in_activity):
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"]["code"] == "unrecordable"
    applied = await applicant.post("/applications", form | {"description": "老伴今年住院两次"})
    assert applied.status_code == 201, applied.text  # nothing of the refused application remains
