"""A published policy fits its own 15 days and keeps the rules' floors (notice 5 days, 2 verifiers,
a visit a month), except in the development mode the demo and the tests switch on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from temporalio.testing import WorkflowEnvironment

from services.demo_case import ADMIN, CaseDriver
from services.domain.identification.procedure import IDENTIFICATION
from services.domain.policy import DEFAULT_POLICY, PolicyBody, days_to_identify, publish_refusal
from services.domain.vocabulary import Step
from services.settings import Settings
from tests.conftest import api_for

PRODUCTION_SECRETS = {
    "jwt_secret": "x" * 40,
    "payload_encryption_key": "cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZyEhISE=",
    "department_secret_key": "cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZyEhISE=",
    "sms_provider": "http",
    "sms_gateway_url": "http://gw/sms",
    "sms_gateway_secret": "s",
    "wechat_provider": "wechat",
    "wechat_app_id": "wx",
    "wechat_app_secret": "w",
}


def _refused(answer: httpx.Response, field: str, words: str) -> None:
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail["code"] == "invalid" and [e["field"] for e in detail["errors"]] == [field], detail
    assert words in detail["message"], detail


def test_the_default_deadlines_fill_the_15_days_and_keep_the_floors() -> None:
    assert days_to_identify(DEFAULT_POLICY) == DEFAULT_POLICY.identification_days == 15
    assert publish_refusal(DEFAULT_POLICY) is None
    assert DEFAULT_POLICY.step_days == IDENTIFICATION.step_days


@pytest.mark.parametrize(
    ("change", "field", "floors_only"),
    [
        ({"step_days": {**DEFAULT_POLICY.step_days, Step.cross_check: 3.5}}, "step_days", False),
        ({"identification_days": 14}, "step_days", False),
        ({"notice_days": 4.9, "identification_days": 20}, "notice_days", True),
        ({"min_verifiers": 1}, "min_verifiers", True),
        ({"visit_every_months": 2}, "visit_every_months", True),
    ],
)
def test_a_version_that_does_not_fit_or_goes_below_a_floor_is_refused(
    change: dict[str, Any], field: str, floors_only: bool
) -> None:
    body = PolicyBody.model_validate(DEFAULT_POLICY.model_dump(exclude={"version"}) | change)
    refusal = publish_refusal(body)
    assert refusal is not None and refusal.field == field
    assert (publish_refusal(body, floors=False) is None) is floors_only, "the development mode lifts the floors only"


def test_production_refuses_the_development_mode() -> None:
    assert Settings(environment="production", **PRODUCTION_SECRETS).development_policies is False
    with pytest.raises(ValidationError, match="DEVELOPMENT_POLICIES"):
        Settings(environment="production", development_policies=True, **PRODUCTION_SECRETS)


async def test_the_api_refuses_what_does_not_fit_even_in_development_mode(driver: CaseDriver) -> None:
    before = (await driver.get(ADMIN, "/api/v1/policies/current")).json()
    too_long = await driver.post(
        ADMIN, "/api/v1/policies", {"step_days": {**DEFAULT_POLICY.step_days, "county_decision": 3}}
    )
    _refused(too_long, "step_days", "超过认定时限")
    assert (await driver.get(ADMIN, "/api/v1/policies/current")).json() == before
    seconds = await driver.post(ADMIN, "/api/v1/policies", {"notice_days": 5 / 86400})
    assert seconds.status_code == 201, "the tests run in development mode: a notice of seconds is allowed"
    await driver.post(ADMIN, "/api/v1/policies", {})


async def test_without_development_mode_the_floors_hold(
    settings: Settings, temporal: WorkflowEnvironment, driver: CaseDriver
) -> None:
    production_like = settings.model_copy(update={"development_policies": False})
    async with api_for(production_like, temporal.client) as strict:
        before = (await strict.get(ADMIN, "/api/v1/policies/current")).json()
        _refused(await strict.post(ADMIN, "/api/v1/policies", {"notice_days": 1}), "notice_days", "不得少于5天")
        _refused(await strict.post(ADMIN, "/api/v1/policies", {"min_verifiers": 1}), "min_verifiers", "不得少于2人")
        _refused(await strict.post(ADMIN, "/api/v1/policies", {"visit_every_months": 3}), "visit_every_months", "每月")
        assert (await strict.get(ADMIN, "/api/v1/policies/current")).json() == before
        assert (await strict.post(ADMIN, "/api/v1/policies", {"notice_days": 5})).status_code == 201
