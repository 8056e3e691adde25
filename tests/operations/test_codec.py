"""The codec server for the Temporal UI: a payload the worker encrypted is decoded for a county
officer (and the decoding audited), refused to anyone else, in the one error shape; CORS answers
the configured UI origin on the codec's paths only."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.testing import WorkflowEnvironment

from services.demo_case import (
    ADMIN,
    COUNTY_OFFICER,
    TOWNSHIP_APPROVER,
    VILLAGE_CADRE,
    CaseDriver,
    authorisation,
    home_verification,
)
from services.temporal_client import ENCODING
from tests.conftest import NewHousehold

UI_ORIGIN = "http://127.0.0.1:8233"  # the setting's default: the dev stack's Temporal UI


def _json(payload: Payload) -> dict[str, Any]:
    return {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode(),
    }


async def _encrypted_by_worker(temporal: WorkflowEnvironment, workflow_id: str) -> Payload:
    """What the case's workflow (in the worker) gave its first activity, as Temporal stores it: the
    cross-check's plan (the records before it are local activities, whose input stays in the worker)."""
    handle = temporal.client.get_workflow_handle(workflow_id)
    for _ in range(100):
        for event in (await handle.fetch_history()).events:
            if event.HasField("activity_task_scheduled_event_attributes"):
                return event.activity_task_scheduled_event_attributes.input.payloads[0]
        await asyncio.sleep(0.1)
    raise AssertionError("no activity scheduled")


async def test_a_county_officer_reads_what_the_worker_encrypted(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment, other_county: dict[str, str]
) -> None:
    code = await new_household()
    case = await driver.open_case(code)
    today = await driver.today()
    await driver.act(VILLAGE_CADRE, case["case_id"], "home-verification", home_verification(today))
    await driver.act(VILLAGE_CADRE, case["case_id"], "authorisation", authorisation(on=today))  # the cross-check starts
    stored = await _encrypted_by_worker(temporal, f"identification-{code}")
    # Every department answered: no request of this case is left in flight for a later test's counts.
    await driver.wait_for(case["case_id"], lambda c: (c["cross_check"] or {}).get("completed_at") is not None)
    assert stored.metadata["encoding"] == ENCODING and code.encode() not in stored.data
    body = {"payloads": [_json(stored)]}

    answer = await driver.post(COUNTY_OFFICER, "/codec/decode", body, **{"X-Namespace": "default"})
    assert answer.status_code == 200, answer.text
    (plain,) = answer.json()["payloads"]
    assert base64.b64decode(plain["metadata"]["encoding"]) == b"json/plain"
    assert code in json.dumps(json.loads(base64.b64decode(plain["data"])))

    audit = await driver.get(COUNTY_OFFICER, "/api/v1/audit", action="decode_payloads", actor=COUNTY_OFFICER)
    assert audit.status_code == 200, audit.text
    assert audit.json()["items"][0]["data"] == {"payloads": 1}

    # What /codec/encode makes, /codec/decode reads back (the CLI encodes what it sends).
    encoded = await driver.post(COUNTY_OFFICER, "/codec/encode", {"payloads": [plain]})
    assert encoded.status_code == 200, encoded.text
    assert encoded.json()["payloads"][0]["data"] != plain["data"]
    again = await driver.post(COUNTY_OFFICER, "/codec/decode", encoded.json())
    assert again.json()["payloads"] == [plain]

    # Another county's officer: the payload belongs to a household of 靖边县.
    elsewhere = await driver.post(other_county["county_officer"], "/codec/decode", body)
    assert elsewhere.status_code == 403, elsewhere.text
    assert case["household_code"] not in elsewhere.text

    for who in (VILLAGE_CADRE, TOWNSHIP_APPROVER, ADMIN):
        refused = await driver.post(who, "/codec/decode", body)
        assert refused.status_code == 403, (who, refused.text)
        assert refused.json()["detail"]["code"] == "forbidden"
        assert "data" not in refused.text
    anonymous = await driver.http.post("/codec/decode", json=body)
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"]["code"] == "not_signed_in"


async def test_a_payload_it_cannot_decrypt_is_refused_naming_it(driver: CaseDriver) -> None:
    tampered = {
        "metadata": {"encoding": base64.b64encode(ENCODING).decode()},
        "data": base64.b64encode(b"\x00" * 40).decode(),
    }
    for body in ({"payloads": [tampered]}, {"payloads": [{"metadata": {}, "data": "不是base64"}]}):
        answer = await driver.post(COUNTY_OFFICER, "/codec/decode", body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"]["errors"][0]["field"].startswith("payloads")


async def test_cors_answers_the_ui_origin_on_the_codec_only(driver: CaseDriver) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,x-namespace"}
    allowed = await driver.http.options("/codec/decode", headers={"Origin": UI_ORIGIN, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI_ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()

    other = await driver.http.options("/codec/decode", headers={"Origin": "http://evil.example", **preflight})
    assert "access-control-allow-origin" not in other.headers
    elsewhere = await driver.http.get("/healthz", headers={"Origin": UI_ORIGIN})
    assert "access-control-allow-origin" not in elsewhere.headers
