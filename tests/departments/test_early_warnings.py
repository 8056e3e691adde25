"""Early-warning batches (INTERFACES.md §3): every warning kept with its outcome; leads open or join cases."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
from typing import Any

from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver
from services.demo_data import demo_id_number
from services.settings import Settings
from tests.conftest import NewHousehold
from tests.departments.signed import post_signed, query


def _warning(
    warning_id: str, id_number: str, amount: float | None = 1000.0, kind: str = "medical_expense", **extra: Any
) -> dict[str, Any]:
    return {
        "warning_id": warning_id,
        "id_number": id_number,
        "kind": kind,
        "amount": amount,
        "occurred_on": "2026-11-20",
        "detail": "住院自付费用",
    } | extra


def _stranger(n: int) -> str:
    """A valid ID number that no household of the county holds."""
    return demo_id_number("110101", date(1950, 1, 1) + timedelta(days=n), n, n % 2 == 0)


async def _id_numbers(driver: CaseDriver, household: str) -> list[str]:
    members = (await driver.get(VILLAGE_CADRE, f"/api/v1/households/{household}")).json()["members"]
    return [m["id_number"] for m in members]


async def test_a_batch_of_1000_with_bad_duplicate_and_unknown_entries(
    driver: CaseDriver, new_household: NewHousehold, settings: Settings
) -> None:
    other, low_income, busy = await new_household(), await new_household(), await new_household()
    await query(settings, "UPDATE households SET status = 'risk_not_eliminated' WHERE code = :c", c=low_income)
    open_case = await driver.open_case(busy)
    a, b, c = [await _id_numbers(driver, h) for h in (other, low_income, busy)]
    tag = other  # warning ids unique to this test run
    leads = [
        _warning(f"{tag}-1", a[0], 28000.0),  # above 26,000 (not low-income): opens a case
        _warning(f"{tag}-2", a[1], 27000.0),  # the same household, same batch: joins that case
        _warning(f"{tag}-3", a[0], 20000.0),  # under 26,000: recorded only
        _warning(f"{tag}-4", b[0], 12000.0),  # low-income: above 10,000 opens a case
        _warning(f"{tag}-5", b[1], 9000.0),  # low-income, under 10,000
        _warning(f"{tag}-6", c[0], None, kind="disability", detail="新增二级肢体残疾"),  # no threshold: joins
    ]
    malformed: list[Any] = [
        _warning(f"{tag}-bad-id", "610824199001011235"),
        {k: v for k, v in _warning(f"{tag}-no-date", a[0]).items() if k != "occurred_on"},
        _warning(f"{tag}-negative", a[0], -5.0),
        _warning(f"{tag}-no-amount", a[0], None),
        _warning(f"{tag}-kind", a[0], kind="lottery_win"),
        "not an object",
        _warning(f"{tag}-extra", a[0], hobby="fishing"),
    ]
    duplicates = [_warning(f"{tag}-1", a[0], 28000.0), _warning(f"{tag}-3", a[0], 20000.0)]
    strangers = [_warning(f"{tag}-s{n}", _stranger(n), 50000.0) for n in range(1000 - 15)]
    warnings = leads + malformed + duplicates + strangers
    assert len(warnings) == 1000
    url = f"{settings.public_base_url}/api/v1/early-warnings"

    answer = await post_signed(url, {"department": "medical_insurance", "warnings": warnings}, "medical_insurance")
    assert answer.status_code == 200, answer.text
    outcomes = answer.json()["outcomes"]
    assert [o["index"] for o in outcomes] == list(range(1000))
    assert [o["outcome"] for o in outcomes[:6]] == [
        "opened",
        "joined",
        "below_threshold",
        "opened",
        "below_threshold",
        "joined",
    ]
    assert [o["outcome"] for o in outcomes[6:13]] == ["invalid"] * 7
    assert "校验位" in outcomes[6]["reason"] and "occurred_on" in outcomes[7]["reason"]
    assert "amount" in outcomes[9]["reason"] and outcomes[11]["warning_id"] is None
    assert [o["outcome"] for o in outcomes[13:15]] == ["duplicate", "duplicate"]
    assert Counter(o["outcome"] for o in outcomes[15:]) == {"unknown_person": 985}

    kept = await query(
        settings,
        "SELECT outcome, count(*) AS n FROM early_warnings WHERE warning_id LIKE :t "
        "OR (outcome = 'invalid' AND warning_id IS NULL AND received_at > now() - interval '1 minute') "
        "GROUP BY 1",
        t=f"{tag}-%",
    )
    assert {r.outcome: r.n for r in kept} == {
        "opened": 2,
        "joined": 2,
        "below_threshold": 2,
        "invalid": 7,
        "unknown_person": 985,
    }

    # The leads reach the cases: opened with channel "department warning", or joined to the open case.
    first = await _case_of(driver, other, leads=1)
    assert "28,000.00元" in first["lead_note"] and "27,000.00元" in first["further_leads"][0]["note"]
    assert [lead["channel"] for lead in first["further_leads"]] == ["department_warning"]
    second = await _case_of(driver, low_income, leads=0)
    for case in (first, second):
        assert case["channel"] == "department_warning" and "医疗保障部门预警" in case["lead_note"]
        assert a[0] not in str(case["further_leads"]) + case["lead_note"], "no ID number in a lead"
    busy_case = await driver.wait_for(open_case["case_id"], lambda c: len(c["further_leads"]) == 1)
    assert "新增二级肢体残疾" in busy_case["further_leads"][0]["note"]
    delivered = await query(
        settings, "SELECT delivered_as, case_id FROM early_warnings WHERE warning_id = :w", w=f"{tag}-6"
    )
    assert delivered[0].delivered_as == "joined" and delivered[0].case_id == open_case["case_id"]

    # The same batch again changes nothing: every valid warning is a duplicate.
    again = await post_signed(url, {"department": "medical_insurance", "warnings": warnings}, "medical_insurance")
    assert Counter(o["outcome"] for o in again.json()["outcomes"]) == {"duplicate": 993, "invalid": 7}
    assert (
        len(
            await query(
                settings, "SELECT 1 FROM early_warnings WHERE warning_id LIKE :t AND outcome <> 'invalid'", t=f"{tag}-%"
            )
        )
        == 991
    )
    assert len((await _case_of(driver, other, leads=1))["further_leads"]) == 1


async def _case_of(driver: CaseDriver, household: str, leads: int) -> dict[str, Any]:
    """The household's case once the forwarder has opened it and added `leads` further leads."""
    for _ in range(150):
        listed = (await driver.get(COUNTY_OFFICER, "/api/v1/cases", household_code=household)).json()["items"]
        if listed:
            return await driver.wait_for(listed[0]["case_id"], lambda c: len(c["further_leads"]) == leads)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no case opened for {household}")


async def test_bad_signatures_and_bad_batches_keep_nothing(driver: CaseDriver, settings: Settings) -> None:
    url = f"{settings.public_base_url}/api/v1/early-warnings"
    body = {"department": "medical_insurance", "warnings": [_warning("sig-1", _stranger(1))]}
    wrong = await post_signed(url, body, secret="not-the-medical-insurance-secret-012345")
    as_other = await post_signed(url, body, "civil_affairs")
    unknown_kind = await post_signed(url, body | {"department": "lottery"}, "medical_insurance")
    assert [wrong.status_code, as_other.status_code, unknown_kind.status_code] == [401, 401, 401]
    too_many = await post_signed(
        url,
        {"department": "medical_insurance", "warnings": [_warning(f"big-{n}", _stranger(n)) for n in range(1001)]},
        "medical_insurance",
    )
    assert too_many.status_code == 422 and too_many.json()["detail"]["errors"][0]["field"] == "warnings"
    not_json = await post_signed(url, b"{oops", "medical_insurance")
    assert not_json.status_code == 422
    assert await query(settings, "SELECT 1 FROM early_warnings WHERE warning_id IN ('sig-1', 'big-0')") == []
