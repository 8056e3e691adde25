"""The exchange with the province's platform, through the real endpoints: export batches
numbered, re-sent byte for byte and acknowledged, with every change in exactly one batch (none
lost while a batch waits, none doubled after); the platform's warnings opening or joining
cases with channel 平台监测分析, once each; its roster reconciled with ours, planted
differences found and resolved by the county; and every call of another county or role refused."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from services.demo_case import COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, county_today
from tests.conftest import NewHousehold

EXPORTS = "/api/v1/province/exports"


async def _file(driver: CaseDriver, batch_no: int, who: str = COUNTY_OFFICER) -> Any:
    return await driver.get(who, f"{EXPORTS}/{batch_no}/file")


def _lines(content: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in content.decode("utf-8").split("\n") if line]


async def _ack(driver: CaseDriver, batch: dict[str, Any], **changes: Any) -> Any:
    receipt = {"batch_no": batch["batch_no"], "sha256": batch["sha256"], "record_count": batch["record_count"]}
    receipt |= {"receipt_id": f"SX-{batch['batch_no']}"} | changes
    return await driver.post(COUNTY_OFFICER, f"{EXPORTS}/{batch['batch_no']}/ack", receipt)


async def _export_all_and_ack(driver: CaseDriver) -> None:
    """Brings the platform level with the county: whatever earlier tests changed is sent and acknowledged."""
    for batch in (await driver.get(COUNTY_OFFICER, EXPORTS)).json():
        if batch["acknowledged_at"] is None:
            assert (await _ack(driver, batch)).status_code == 200
    batch = (await driver.post(COUNTY_OFFICER, EXPORTS, None)).json()["batch"]
    if batch is not None:
        assert (await _ack(driver, batch)).status_code == 200


async def test_export_batches_resent_and_acknowledged_without_loss_or_doubles(
    driver: CaseDriver, new_household: NewHousehold, other_county: dict[str, str]
) -> None:
    await _export_all_and_ack(driver)
    nothing = await driver.post(COUNTY_OFFICER, EXPORTS, None)
    assert nothing.status_code == 200 and nothing.json()["batch"] is None, "acknowledged records are not sent again"

    first = await new_household()
    made = await driver.post(COUNTY_OFFICER, EXPORTS, None)
    batch = made.json()["batch"]
    assert batch["records_by_kind"] == {"household": 1, "member": 2} and batch["record_count"] == 3
    sent = await _file(driver, batch["batch_no"])
    assert sent.status_code == 200 and sent.headers["content-type"].startswith("application/x-ndjson")
    lines = _lines(sent.content)
    header, records, trailer = lines[0], lines[1:-1], lines[-1]
    assert header["format"] == "fpfp-province-exchange" and header["batch_no"] == batch["batch_no"]
    assert header["county_code"] == "610824000000" and header["record_count"] == 3
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert {(r["kind"], r["data"].get("household_code", r["key"])) for r in records} == {
        ("household", first),
        ("member", first),
    }
    body = sent.content[: sent.content.rindex(b"\n", 0, len(sent.content) - 1) + 1]
    assert trailer == {"end": True, "batch_no": batch["batch_no"], "record_count": 3, "sha256": batch["sha256"]}
    assert hashlib.sha256(body).hexdigest() == batch["sha256"] == sent.headers["x-batch-sha256"]
    household = (await driver.get(COUNTY_OFFICER, f"/api/v1/households/{first}")).json()
    members = {r["data"]["id_number"] for r in records if r["kind"] == "member"}
    assert members == {m["id_number"] for m in household["members"]}, "the platform gets ID numbers whole"

    # Until the platform acknowledges it, the batch is re-sent as it was and no other is made.
    second = await new_household()
    assert (await _file(driver, batch["batch_no"])).content == sent.content
    waiting = await driver.post(COUNTY_OFFICER, EXPORTS, None)
    assert waiting.status_code == 409 and waiting.json()["detail"]["code"] == "batch_unacknowledged"
    assert waiting.json()["detail"]["batch_no"] == batch["batch_no"]
    for wrong, field in (({"sha256": "0" * 64}, "sha256"), ({"record_count": 2}, "record_count")):
        refused = await _ack(driver, batch, **wrong)
        assert refused.status_code == 422 and refused.json()["detail"]["errors"][0]["field"] == field
    listed = (await driver.get(COUNTY_OFFICER, EXPORTS)).json()
    assert next(b for b in listed if b["batch_no"] == batch["batch_no"])["acknowledged_at"] is None

    # Other counties and roles: nothing of this county's exchange.
    stranger = other_county["county_officer"]
    assert (await _file(driver, batch["batch_no"], stranger)).status_code == 404
    assert all(b["sha256"] != batch["sha256"] for b in (await driver.get(stranger, EXPORTS)).json())
    stranger_ack = await driver.post(
        stranger,
        f"{EXPORTS}/{batch['batch_no']}/ack",
        {**{k: batch[k] for k in ("batch_no", "sha256", "record_count")}, "receipt_id": "x"},
    )
    assert stranger_ack.status_code == 404
    for who in (TOWNSHIP_APPROVER, VILLAGE_CADRE, "admin"):
        assert (await driver.post(who, EXPORTS, None)).status_code == 403
        assert (await _file(driver, batch["batch_no"], who)).status_code == 403

    acked = await _ack(driver, batch)
    assert acked.status_code == 200 and acked.json()["platform_receipt"] == f"SX-{batch['batch_no']}"
    again = await _ack(driver, batch)
    assert again.status_code == 200 and again.json()["acknowledged_at"] == acked.json()["acknowledged_at"]

    # The household registered while the batch waited is in the next one, and the first is not again.
    following = (await driver.post(COUNTY_OFFICER, EXPORTS, None)).json()["batch"]
    assert following["batch_no"] == batch["batch_no"] + 1 and following["record_count"] == 3
    households = {
        r["key"] for r in _lines((await _file(driver, following["batch_no"])).content)[1:-1] if r["kind"] == "household"
    }
    assert households == {second}
    assert (await _ack(driver, following)).status_code == 200

    # A change to an exported household sends that household's record again, and only it.
    flagged = await driver.http.patch(
        f"/api/v1/households/{first}/flags",
        json={"minimum_living_allowance": True, "reason": "纳入低保"},
        headers=await driver.headers(TOWNSHIP_APPROVER),
    )
    assert flagged.status_code == 200, flagged.text
    changed = (await driver.post(COUNTY_OFFICER, EXPORTS, None)).json()["batch"]
    records = _lines((await _file(driver, changed["batch_no"])).content)[1:-1]
    assert [(r["kind"], r["key"], r["data"]["minimum_living_allowance"]) for r in records] == [
        ("household", first, True)
    ]
    assert (await _ack(driver, changed)).status_code == 200
    assert (await driver.post(COUNTY_OFFICER, EXPORTS, None)).json()["batch"] is None


def _warning_list(list_id: str, *warnings: dict[str, Any], county: str = "610824000000") -> dict[str, Any]:
    return {"county_code": county, "list_id": list_id, "warnings": list(warnings)}


def _warning(warning_id: str, **names: str) -> dict[str, Any]:
    return {
        "warning_id": warning_id,
        "reason": "家庭年人均纯收入同比下降超过30%",
        "issued_on": county_today().isoformat(),
        **names,
    }


async def test_platform_warnings_become_leads_once(
    driver: CaseDriver, new_household: NewHousehold, other_county: dict[str, str]
) -> None:
    quiet, busy = await new_household(), await new_household()
    open_case = await driver.open_case(busy)
    busy_member = (await driver.get(COUNTY_OFFICER, f"/api/v1/households/{busy}")).json()["members"][1]["id_number"]
    tag = quiet[-8:]
    listed = _warning_list(
        f"SX-YJ-{tag}",
        _warning(f"W-{tag}-1", household_code=quiet),
        _warning(f"W-{tag}-2", id_number=busy_member),
        _warning(f"W-{tag}-3", household_code="610824100201999999"),
    )
    answer = await driver.post(COUNTY_OFFICER, "/api/v1/province/warnings", listed)
    assert answer.status_code == 200, answer.text
    outcomes = answer.json()["outcomes"]
    assert [o["outcome"] for o in outcomes] == ["opened", "joined", "unknown_household"]
    assert outcomes[1]["case_id"] == open_case["case_id"]
    opened = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{outcomes[0]['case_id']}")).json()
    assert opened["household_code"] == quiet and opened["channel"] == "platform_analysis"
    assert opened["channel_label"] == "平台监测分析" and f"W-{tag}-1" in opened["lead_note"]
    joined = (await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{open_case['case_id']}")).json()
    assert [lead["channel"] for lead in joined["further_leads"]] == ["platform_analysis"]
    assert busy_member not in json.dumps(joined["further_leads"]) + opened["lead_note"], "no ID number in a lead"

    # The list sent again: every warning a duplicate with its case, no further lead.
    resent = (await driver.post(COUNTY_OFFICER, "/api/v1/province/warnings", listed)).json()["outcomes"]
    assert [(o["outcome"], o["case_id"]) for o in resent[:2]] == [
        ("duplicate", outcomes[0]["case_id"]),
        ("duplicate", open_case["case_id"]),
    ]
    assert len((await driver.get(COUNTY_OFFICER, f"/api/v1/cases/{open_case['case_id']}")).json()["further_leads"]) == 1

    nameless = await driver.post(
        COUNTY_OFFICER, "/api/v1/province/warnings", _warning_list("L", _warning(f"W-{tag}-4"))
    )
    assert nameless.status_code == 422 and nameless.json()["detail"]["errors"][0]["field"].startswith("warnings")
    foreign = await driver.post(
        COUNTY_OFFICER,
        "/api/v1/province/warnings",
        _warning_list("L", _warning("x", household_code=quiet), county="610802000000"),
    )
    assert foreign.status_code == 422 and foreign.json()["detail"]["errors"][0]["field"] == "county_code"
    elsewhere = await driver.post(
        other_county["county_officer"],
        "/api/v1/province/warnings",
        _warning_list("L", _warning(f"W-{tag}-5", household_code=quiet), county="610802000000"),
    )
    assert elsewhere.status_code == 200 and elsewhere.json()["outcomes"][0]["outcome"] == "unknown_household"
    assert (await driver.post(TOWNSHIP_APPROVER, "/api/v1/province/warnings", listed)).status_code == 403


async def _monitored(driver: CaseDriver, code: str) -> None:
    case = await driver.through_review((await driver.open_case(code))["case_id"])
    await driver.wait_for_step(case["case_id"], "township_review")
    assert (await driver.after_notice(case["case_id"]))["outcome"] == "monitoring_target"


async def _our_targets(driver: CaseDriver) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for status in ("risk_not_eliminated", "risk_eliminated"):
        cursor = None
        while True:
            page = (
                await driver.get(
                    COUNTY_OFFICER,
                    "/api/v1/households",
                    status=status,
                    limit=200,
                    **({"cursor": cursor} if cursor else {}),
                )
            ).json()
            found |= {h["code"]: h for h in page["items"]}
            if not (cursor := page.get("next_cursor")):
                break
    return found


async def test_roster_check_finds_planted_differences(
    driver: CaseDriver, new_household: NewHousehold, other_county: dict[str, str]
) -> None:
    await driver.publish_notice_seconds(2)
    left_out, differing, not_ours = await new_household(), await new_household(), await new_household()
    await asyncio.gather(_monitored(driver, left_out), _monitored(driver, differing))
    ours = await _our_targets(driver)
    assert {left_out, differing} <= ours.keys()
    roster = [
        {
            "household_code": code,
            "head_name": h["head_name"],
            "status": "risk_eliminated" if code == differing else h["status"],
        }
        for code, h in ours.items()
        if code != left_out
    ]
    roster += [
        {"household_code": not_ours, "head_name": "平台户一", "status": "risk_not_eliminated"},
        {"household_code": "610824100201999998", "head_name": "平台户二", "status": "risk_not_eliminated"},
    ]
    body = {
        "county_code": "610824000000",
        "roster_id": f"SX-MD-{not_ours[-6:]}",
        "as_of": county_today().isoformat(),
        "households": roster,
    }
    answer = await driver.post(COUNTY_OFFICER, "/api/v1/province/rosters", body)
    assert answer.status_code == 200, answer.text
    found = {(d["household_code"], d["kind"]) for d in answer.json()["found"]}
    assert found == {
        (left_out, "service_only"),
        (differing, "status_differs"),
        (not_ours, "platform_only"),
        ("610824100201999998", "platform_only"),
    }
    by_code = {d["household_code"]: d for d in answer.json()["found"]}
    assert by_code[not_ours]["our_status"] == "not_monitored" and by_code[not_ours]["village_code"] == "610824100201"
    assert (
        by_code[differing]["platform_status"] == "risk_eliminated"
        and by_code[differing]["our_status"] == "risk_not_eliminated"
    )
    assert by_code[left_out]["platform_status"] is None and by_code[left_out]["kind_label"] == "本系统监测、平台无记录"
    assert (
        by_code["610824100201999998"]["our_status"] is None
        and by_code["610824100201999998"]["village_code"] == "610824000000"
    )

    again = (await driver.post(COUNTY_OFFICER, "/api/v1/province/rosters", body)).json()
    assert again["found"] == [] and again["open_total"] == answer.json()["open_total"], "received again: nothing new"

    pending = (await driver.get(COUNTY_OFFICER, "/api/v1/province/discrepancies", resolved="false")).json()["items"]
    target = next(d for d in pending if d["household_code"] == left_out)
    path = f"/api/v1/province/discrepancies/{target['discrepancy_id']}/resolution"
    resolution = {"resolution": "已在省平台补录该户"}
    assert (await driver.post(other_county["county_officer"], path, resolution)).status_code == 404
    assert (await driver.post(TOWNSHIP_APPROVER, path, resolution)).status_code == 403
    assert (await driver.post(COUNTY_OFFICER, path, {"resolution": ""})).status_code == 422
    done = await driver.post(COUNTY_OFFICER, path, resolution)
    assert done.status_code == 200 and done.json()["resolved_by"] == COUNTY_OFFICER
    twice = await driver.post(COUNTY_OFFICER, path, resolution)
    assert twice.status_code == 409 and twice.json()["detail"]["code"] == "already_recorded"
    resolved = (await driver.get(COUNTY_OFFICER, "/api/v1/province/discrepancies", resolved="true")).json()["items"]
    assert target["discrepancy_id"] in {d["discrepancy_id"] for d in resolved}
    theirs = (await driver.get(other_county["county_officer"], "/api/v1/province/discrepancies")).json()["items"]
    assert all(d["household_code"] not in (left_out, differing, not_ours) for d in theirs)
    assert (await driver.get(TOWNSHIP_APPROVER, "/api/v1/province/discrepancies")).status_code == 403


async def test_a_roster_longer_than_one_statement_takes_is_checked(
    driver: CaseDriver, other_county: dict[str, str]
) -> None:
    """More households than PostgreSQL takes parameters in one statement (32,767): the codes go as one array."""
    size = 33_000
    body = {
        "county_code": "610802000000",
        "roster_id": "SX-MD-LONG",
        "as_of": county_today().isoformat(),
        "households": [
            {"household_code": f"610802100201{n:06d}", "head_name": "平台户", "status": "risk_not_eliminated"}
            for n in range(size)
        ],
    }
    answer = await driver.post(other_county["county_officer"], "/api/v1/province/rosters", body)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.json()["platform_households"] == size and answer.json()["open_total"] >= size
