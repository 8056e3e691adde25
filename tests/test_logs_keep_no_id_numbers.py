"""Logs never hold an ID number: every log record of the service, the API server, Temporal's SDK
and the HTTP clients is captured while a case runs from lead to announcement through the API,
with a department finding that names a member, and none contains any member's ID number."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from services.demo_case import VILLAGE_CADRE, CaseDriver
from services.department_simulator.client import SimulatorClient
from tests.conftest import NewHousehold

# Root at INFO as the service runs (services/workers/main.py), uvicorn at its default INFO; the
# others keep their own level (SQLAlchemy's WARN: the service never echoes SQL).
_AT_INFO = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
_LOGGERS = (*_AT_INFO, "services", "temporalio", "httpx", "sqlalchemy", "asyncio")


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name} {record.levelname} {text} {record.__dict__!r}")


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


async def test_a_full_case_logs_no_id_number(driver: CaseDriver, new_household: NewHousehold,
                                             departments: SimulatorClient, captured: _Everything) -> None:
    await driver.publish_notice_seconds(0.5)
    code = await new_household()
    members = (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{code}")).json()["members"]
    id_numbers = [m["id_number"] for m in members]
    await departments.behave("vehicles", findings={id_numbers[1]: [
        {"kind": "vehicle", "description": "小型轿车 1 辆", "value": 1}]})
    await departments.behave("real_estate", fail_next=1, fail_status=503)
    case = await driver.open_case(code)
    await driver.through_review(case["case_id"])
    await driver.wait_for_step(case["case_id"], "township_review")
    case = await driver.after_notice(case["case_id"])
    assert case["outcome"] == "monitoring_target"
    found = [f["id_number"] for f in case["cross_checks"]["vehicles"]["findings"] if f["matches"]]
    assert found == [id_numbers[1]], "an ID number went through the department's callback"

    assert captured.lines, "the capture works: the service did log"
    leaks = [line for line in captured.lines if any(n in line for n in id_numbers)]
    assert leaks == []
