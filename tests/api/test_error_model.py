"""One error shape, documented where it is answered: every refusal the service gives is listed on its
operation in the OpenAPI document, with the `ErrorAnswer` schema, and its body has that shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.api.app import app
from services.api.errors import ErrorAnswer
from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver, county_decision
from tests.conftest import NewHousehold

SPEC = app.openapi()
_ERROR = {"$ref": "#/components/schemas/ErrorAnswer"}


def _documented(method: str, template: str, answer: httpx.Response) -> None:
    """The answer's status is documented on the operation, with the one error schema, and the body fits it."""
    responses = SPEC["paths"][template][method]["responses"]
    status = str(answer.status_code)
    assert status in responses, (method, template, status, sorted(responses))
    assert responses[status]["content"]["application/json"]["schema"] == _ERROR
    ErrorAnswer.model_validate(answer.json())


def test_every_refusal_documented_uses_the_one_shape() -> None:
    other = {
        (method, path, status)
        for path, operations in SPEC["paths"].items()
        for method, operation in operations.items()
        for status, answer in operation["responses"].items()
        if not status.startswith("2") and answer["content"]["application/json"]["schema"] != _ERROR
    }
    assert other == set()
    assert "HTTPValidationError" not in SPEC["components"]["schemas"]


def test_every_staff_operation_documents_sign_in_and_outage_refusals() -> None:
    missing = {
        (method, path)
        for path, operations in SPEC["paths"].items()
        for method, operation in operations.items()
        if "security" in operation and not {"401", "403", "422", "503"} <= set(operation["responses"])
    }
    assert missing == set()


async def test_real_refusals_are_the_documented_ones(driver: CaseDriver, new_household: NewHousehold) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    unknown = "C-2026-0000000000"
    checks: list[tuple[str, str, httpx.Response]] = [
        ("get", "/api/v1/cases", await driver.http.get("/api/v1/cases")),
        ("get", "/api/v1/cases/{case_id}", await driver.get(VILLAGE_CADRE, f"/api/v1/cases/{unknown}")),
        (
            "put",
            "/api/v1/departments/{kind}",
            await driver.http.put(
                "/api/v1/departments/vehicles",
                json={"base_url": "https://x.example.gov.cn"},
                headers=await driver.headers(VILLAGE_CADRE),
            ),
        ),
        (
            "post",
            "/api/v1/cases/{case_id}/county-decision",
            await driver.post(COUNTY_OFFICER, f"/api/v1/cases/{case_id}/county-decision", county_decision()),
        ),
        ("post", "/api/v1/auth/login", await driver.http.post("/api/v1/auth/login", content=b'{"username": "\xff"}')),
        (
            "post",
            "/api/v1/callbacks/cross-checks/{request_id}",
            await driver.http.post("/api/v1/callbacks/cross-checks/x", content=b"{}"),
        ),
    ]
    assert [answer.status_code for *_, answer in checks] == [401, 404, 403, 409, 422, 401]
    for method, template, answer in checks:
        _documented(method, template, answer)


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/cases", "/api/v1/early-warnings"])
async def test_a_body_that_is_not_utf8_answers_the_same_shape(driver: CaseDriver, path: str) -> None:
    answer = await driver.http.post(path, content=b'{"a": "\xc0\xaf"}', headers={"Content-Type": "application/json"})
    body: dict[str, Any] = answer.json()
    assert answer.status_code == 422 and body["detail"]["errors"][0]["message"] == "请求内容应为 UTF-8 编码的 JSON"
    ErrorAnswer.model_validate(body)
