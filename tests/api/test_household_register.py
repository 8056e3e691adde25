"""The household register stays true: member changes with dates and reasons (a member is ended,
never deleted), splits and merges, the flags the rules depend on — audited, refused outside
one's area or role, and a refusal changes nothing."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from services.db.engine import create_engine
from services.demo_case import ADMIN, COUNTY_OFFICER, TOWNSHIP_APPROVER, VILLAGE_CADRE, CaseDriver, county_today
from services.demo_data import demo_id_number
from services.settings import Settings
from tests.conftest import NewHousehold

_rng = random.Random()


def person(relation: str, born: date | None = None, male: bool = True) -> dict[str, Any]:
    born = born or date(1990, 1, 1) + timedelta(days=_rng.randrange(8000))
    return {
        "name": f"新成员{_rng.randrange(10_000)}",
        "id_number": demo_id_number("610881", born, _rng.randrange(10_000), male),  # 神木市: no other test uses it
        "relation": relation,
        "sex": "male" if male else "female",
        "labour_capacity": "full",
    }


async def change(driver: CaseDriver, code: str, body: dict[str, Any], who: str = VILLAGE_CADRE) -> httpx.Response:
    return await driver.post(who, f"/api/v1/households/{code}/member-changes", body)


async def household(driver: CaseDriver, code: str, who: str = VILLAGE_CADRE) -> dict[str, Any]:
    answer = await driver.get(who, f"/api/v1/households/{code}")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def patch_flags(driver: CaseDriver, code: str, body: dict[str, Any], who: str) -> httpx.Response:
    return await driver.http.patch(f"/api/v1/households/{code}/flags", json=body, headers=await driver.headers(who))


async def test_birth_death_and_moves_keep_the_history(driver: CaseDriver, new_household: NewHousehold) -> None:
    code = await new_household()
    before = await household(driver, code)
    head, spouse = before["members"]
    assert before["former_members"] == [] and before["changes"] == []

    baby_born = county_today() - timedelta(days=20)
    baby = person("子女", baby_born, male=False)
    born = await change(
        driver, code, {"kind": "birth", "occurred_on": baby_born.isoformat(), "reason": "出生登记", "member": baby}
    )
    assert born.status_code == 201, born.text
    assert [m["name"] for m in born.json()["members"]] == [head["name"], spouse["name"], baby["name"]]
    assert born.json()["members"][2]["joined_by"] == "出生"

    died = await change(
        driver,
        code,
        {
            "kind": "death",
            "occurred_on": (county_today() - timedelta(days=3)).isoformat(),
            "reason": "病故，见死亡证明",
            "member_id": head["member_id"],
            "new_head_member_id": spouse["member_id"],
        },
    )
    assert died.status_code == 201, died.text
    now = died.json()
    assert now["head_name"] == spouse["name"]
    assert [(m["name"], m["relation"]) for m in now["members"]] == [(spouse["name"], "户主"), (baby["name"], "子女")]
    assert [(m["name"], m["ended_by"]) for m in now["former_members"]] == [(head["name"], "死亡")]
    assert [c["kind_label"] for c in now["changes"]] == ["出生", "死亡"]
    assert now["changes"][1]["reason"] == "病故，见死亡证明" and now["changes"][1]["recorded_by"] == VILLAGE_CADRE

    # A member who moved out may move in elsewhere (their ended row stays where they were).
    mover = person("配偶", male=False)
    moved_in = await change(
        driver, code, {"kind": "marriage_in", "occurred_on": "2025-05-01", "reason": "婚入", "member": mover}
    )
    assert moved_in.status_code == 201, moved_in.text
    mover_id = moved_in.json()["members"][-1]["member_id"]
    left = await change(
        driver, code, {"kind": "move_out", "occurred_on": "2025-09-01", "reason": "迁往榆林市", "member_id": mover_id}
    )
    assert left.status_code == 201, left.text
    other = await new_household()
    again = await change(
        driver, other, {"kind": "move_in", "occurred_on": "2025-10-01", "reason": "迁入", "member": mover}
    )
    assert again.status_code == 201, again.text

    audit = await driver.get(COUNTY_OFFICER, "/api/v1/audit", subject_type="household", subject_id=code)
    actions = [e["action"] for e in audit.json()["items"]]
    assert actions.count("record_member_change") == 4


async def test_refusals_name_the_field_and_change_nothing(
    driver: CaseDriver, new_household: NewHousehold, settings: Settings
) -> None:
    code = await new_household()
    members = (await household(driver, code))["members"]
    head = members[0]
    tomorrow = (county_today() + timedelta(days=2)).isoformat()
    taken = (await household(driver, await new_household()))["members"][1]
    taken_person = {k: taken[k] for k in ("name", "id_number", "sex", "labour_capacity")} | {"relation": "子女"}
    cases: list[tuple[dict[str, Any], int, str]] = [
        (
            {"kind": "death", "occurred_on": "2025-01-01", "reason": "病故", "member_id": head["member_id"]},
            422,
            "new_head_member_id",
        ),
        (
            {"kind": "death", "occurred_on": tomorrow, "reason": "病故", "member_id": members[1]["member_id"]},
            422,
            "occurred_on",
        ),
        ({"kind": "move_out", "occurred_on": "2025-01-01", "reason": "迁出", "member_id": 999_999}, 422, "member_id"),
        (
            {"kind": "move_in", "occurred_on": "2025-01-01", "reason": "迁入", "member": person("户主")},
            422,
            "member.relation",
        ),
        (
            {
                "kind": "birth",
                "occurred_on": "2025-01-01",
                "reason": "出生",
                "member": person("子女", date(2024, 3, 1)),
            },
            422,
            "member.id_number",
        ),
        (
            {"kind": "move_in", "occurred_on": "2025-01-01", "reason": "迁入", "member": taken_person},
            409,
            "member.id_number",
        ),
        (
            {
                "kind": "split",
                "occurred_on": "2025-01-01",
                "reason": "分户",
                "address": "新址",
                "members": [
                    {"member_id": head["member_id"], "relation": "户主"},
                    {"member_id": members[1]["member_id"], "relation": "配偶"},
                ],
            },
            422,
            "members",
        ),
        (
            {
                "kind": "merge",
                "occurred_on": "2025-01-01",
                "reason": "合户",
                "from_household": code,
                "members": [{"member_id": 1, "relation": "子女"}],
            },
            422,
            "from_household",
        ),
        ({"kind": "adoption", "occurred_on": "2025-01-01", "reason": "收养"}, 422, "kind"),
        ({"kind": "death", "occurred_on": "2025-01-01", "reason": "病故"}, 422, "member_id"),
        (
            {
                "kind": "death",
                "occurred_on": "2025-01-01",
                "reason": "病故",
                "member_id": members[1]["member_id"],
                "address": "x",
            },
            422,
            "address",
        ),
    ]
    engine = create_engine(settings.require_database_url(), pool_size=1)
    count = text("SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM household_changes)")
    try:
        for body, status, field in cases:
            async with engine.connect() as conn:
                before = (await conn.execute(count)).one()
            answer = await change(driver, code, body)
            assert answer.status_code == status, (body, answer.text)
            detail = answer.json()["detail"]
            fields = [e["field"] for e in detail.get("errors", [])] or [detail.get("field")]
            assert any(f == field or (f or "").startswith(field) for f in fields), (body, detail)
            async with engine.connect() as conn:
                assert (await conn.execute(count)).one() == before, body
    finally:
        await engine.dispose()
    assert (await household(driver, code))["members"] == members


async def test_split_and_merge(driver: CaseDriver, new_household: NewHousehold) -> None:
    code = await new_household()
    head, spouse = (await household(driver, code))["members"]
    son = person("子女")
    joined = await change(
        driver, code, {"kind": "move_in", "occurred_on": "2025-01-01", "reason": "迁入", "member": son}
    )
    son_id = joined.json()["members"][-1]["member_id"]
    split = await change(
        driver,
        code,
        {
            "kind": "split",
            "occurred_on": "2025-06-01",
            "reason": "子女成家分户",
            "address": "东坑村二组8号",
            "members": [{"member_id": son_id, "relation": "户主"}],
        },
    )
    assert split.status_code == 201, split.text
    new_code = split.json()["changes"][-1]["other_household"]
    assert split.json()["changes"][-1]["kind"] == "split" and new_code and new_code != code
    assert [m["name"] for m in split.json()["members"]] == [head["name"], spouse["name"]]
    new = await household(driver, new_code)
    assert new["head_name"] == son["name"] and [m["relation"] for m in new["members"]] == ["户主"]
    assert new["changes"][0]["other_household"] == code and new["members"][0]["joined_by"] == "分户"

    # The son's household merges back: his household ends, he lives on in the first one.
    son_new_id = new["members"][0]["member_id"]
    merged = await change(
        driver,
        code,
        {
            "kind": "merge",
            "occurred_on": "2025-12-01",
            "reason": "合户",
            "from_household": new_code,
            "members": [{"member_id": son_new_id, "relation": "子女"}],
        },
    )
    assert merged.status_code == 201, merged.text
    assert [m["name"] for m in merged.json()["members"]] == [head["name"], spouse["name"], son["name"]]
    ended = await household(driver, new_code)
    assert ended["merged_into"] == code and ended["members"] == [] and ended["former_members"][0]["ended_by"] == "合户"
    late = await change(
        driver, new_code, {"kind": "move_in", "occurred_on": "2025-12-02", "reason": "迁入", "member": person("子女")}
    )
    assert late.status_code == 409 and late.json()["detail"]["code"] == "household_merged"


async def test_member_changes_by_role_and_area(driver: CaseDriver, new_household: NewHousehold) -> None:
    code = await new_household()
    body = {"kind": "move_in", "occurred_on": "2025-01-01", "reason": "迁入", "member": person("子女")}
    assert (await change(driver, code, body, "huochangwan.cadre")).status_code == 404
    assert (await change(driver, code, body, "qingyangcha.approver")).status_code == 404
    assert (await change(driver, code, body, COUNTY_OFFICER)).status_code == 403
    assert (await change(driver, code, body, ADMIN)).status_code == 403
    assert (await change(driver, code, body, TOWNSHIP_APPROVER)).status_code == 201


async def test_flags_set_by_township_and_county(driver: CaseDriver, new_household: NewHousehold) -> None:
    code = await new_household()
    assert (await household(driver, code))["flags"] == {
        "formerly_poor": False,
        "poverty_exit_year": None,
        "minimum_living_allowance": False,
        "extreme_poverty_support": False,
        "disabled_member": False,
    }
    refused = await patch_flags(driver, code, {"formerly_poor": True, "reason": "脱贫户名册"}, TOWNSHIP_APPROVER)
    assert refused.status_code == 422 and refused.json()["detail"]["errors"][0]["field"] == "poverty_exit_year"
    refused = await patch_flags(driver, code, {"poverty_exit_year": 2019, "reason": "年度"}, TOWNSHIP_APPROVER)
    assert refused.status_code == 422 and refused.json()["detail"]["errors"][0]["field"] == "poverty_exit_year"
    too_late = await patch_flags(
        driver, code, {"formerly_poor": True, "poverty_exit_year": 2023, "reason": "x"}, COUNTY_OFFICER
    )
    assert too_late.status_code == 422
    assert (
        await patch_flags(driver, code, {"minimum_living_allowance": True, "reason": "x"}, VILLAGE_CADRE)
    ).status_code == 403
    assert (
        await patch_flags(driver, code, {"minimum_living_allowance": True, "reason": "x"}, ADMIN)
    ).status_code == 403
    assert (
        await patch_flags(driver, code, {"minimum_living_allowance": True, "reason": "x"}, "qingyangcha.approver")
    ).status_code == 404
    assert (await household(driver, code))["flags"]["minimum_living_allowance"] is False

    set_ = await patch_flags(
        driver, code, {"formerly_poor": True, "poverty_exit_year": 2019, "reason": "2019年脱贫"}, TOWNSHIP_APPROVER
    )
    assert set_.status_code == 200, set_.text
    more = await patch_flags(driver, code, {"minimum_living_allowance": True, "reason": "民政低保名册"}, COUNTY_OFFICER)
    flags = more.json()["flags"]
    assert flags["formerly_poor"] and flags["poverty_exit_year"] == 2019 and flags["minimum_living_allowance"]
    file = await driver.get(COUNTY_OFFICER, f"/api/v1/households/{code}/file")
    assert file.json()["household"]["flags"] == flags

    audit = await driver.get(
        COUNTY_OFFICER, "/api/v1/audit", subject_type="household", subject_id=code, action="set_household_flags"
    )
    entries = audit.json()["items"]
    assert len(entries) == 2 and entries[0]["after"] == {"minimum_living_allowance": True}
    assert entries[0]["before"] == {"minimum_living_allowance": False}
