"""The task inbox: each step that waits on a person is a task in the right inbox only, leaves
every inbox the moment it is done, and is claimed, released and assigned with a version check."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from services.demo_case import (
    COUNTY_OFFICER,
    SECOND_CADRE,
    TOWNSHIP_APPROVER,
    VILLAGE_CADRE,
    CaseDriver,
    authorisation,
    home_verification,
    township_review,
)
from tests.conftest import NewHousehold, case_snapshot
from tests.inbox import inbox_tasks, the_task

SECOND_APPROVER = "dongkeng.approver2"


async def _case_at_township_review(driver: CaseDriver, new_household: NewHousehold) -> str:
    await driver.publish_notice_seconds(0.5)
    case = await driver.open_case(await new_household())
    await driver.through_review(case["case_id"])
    case = await driver.wait_for_step(case["case_id"], "township_review")
    assert case["step"] == "township_review"
    return case["case_id"]


async def test_a_step_is_a_task_for_its_role_and_area_only(driver: CaseDriver, new_household: NewHousehold) -> None:
    case = await driver.open_case(await new_household())
    case_id = case["case_id"]
    task = await the_task(driver, VILLAGE_CADRE, case_id, "home_verification")
    assert task["role"] == "village_cadre" and task["area_code"] == "610824100201"
    assert task["village_code"] == "610824100201" and task["village_name"] == "东坑村"
    assert task["step_label"] == "入户核查" and task["action"] == "verify_home" and task["can_act"] is True
    assert task["head_name"] and task["household_code"] == case["household_code"]
    due = datetime.fromisoformat(task["due_at"]) - datetime.fromisoformat(case["opened_at"])
    assert due == timedelta(days=2), "the policy's home-verification days"
    assert task["due_at"].endswith("+00:00") and task["opened_at"].endswith("+00:00"), "moments keep their form"
    assert task["overdue"] is False and task["escalated_at"] is None
    assert "id_number" not in str(task) and "phone" not in str(task)
    assert await inbox_tasks(driver, SECOND_CADRE, case_id) == [task | {"can_act": True}]
    for elsewhere in ("huochangwan.cadre", TOWNSHIP_APPROVER, COUNTY_OFFICER, "qingyangcha.approver"):
        assert await inbox_tasks(driver, elsewhere, case_id) == [], elsewhere

    # Done: it leaves every inbox at once (the answer comes after the write), the next step arrives.
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification())
    assert await inbox_tasks(driver, VILLAGE_CADRE, case_id, step="home_verification") == []
    assert await inbox_tasks(driver, SECOND_CADRE, case_id, step="home_verification") == []
    assert [t["step"] for t in await inbox_tasks(driver, SECOND_CADRE, case_id)] == ["authorisation"]
    closed = (await driver.get(VILLAGE_CADRE, f"/api/v1/tasks/{task['task_id']}")).json()
    assert closed["closed_at"] is not None and closed["can_act"] is False


async def test_inbox_filters_counts_and_stable_pages(driver: CaseDriver, new_household: NewHousehold) -> None:
    opened = [(await driver.open_case(await new_household()))["case_id"] for _ in range(3)]
    await driver.act(VILLAGE_CADRE, opened[0], "home-verification", home_verification())
    page = (await driver.get(VILLAGE_CADRE, "/api/v1/tasks", limit=1)).json()
    assert page["counts"]["home_verification"] >= 2 and page["counts"]["authorisation"] >= 1
    assert page["total"] == sum(page["counts"].values())

    everything = await inbox_tasks(driver, VILLAGE_CADRE)
    assert len(everything) == page["total"], "counts agree with the tasks listed"
    # Tasks without a deadline of their own (a monitoring period's plan, say) come last.
    keys = [(t["due_at"] is None, t["due_at"] or "", t["task_id"]) for t in everything]
    assert keys == sorted(keys) and len(set(keys)) == len(keys), "sorted by due date, no repeats"
    one_by_one, cursor = [], None
    while True:
        answer = (
            await driver.get(VILLAGE_CADRE, "/api/v1/tasks", limit=2, **({"cursor": cursor} if cursor else {}))
        ).json()
        one_by_one += answer["items"]
        if (cursor := answer["next_cursor"]) is None:
            break
    assert [t["task_id"] for t in one_by_one] == [t["task_id"] for t in everything]

    at_authorisation = await inbox_tasks(driver, VILLAGE_CADRE, step="authorisation")
    assert opened[0] in {t["case_id"] for t in at_authorisation} and {t["step"] for t in at_authorisation} == {
        "authorisation"
    }
    village = await inbox_tasks(driver, TOWNSHIP_APPROVER, village="610824100202")
    assert all(t["village_code"] == "610824100202" for t in village)
    outside = await driver.get(VILLAGE_CADRE, "/api/v1/tasks", village="610824100202")
    assert outside.status_code == 403
    assert await inbox_tasks(driver, VILLAGE_CADRE, opened[1], overdue=True) == []
    assert len(await inbox_tasks(driver, VILLAGE_CADRE, opened[1], overdue=False)) == 1
    bad = await driver.get(VILLAGE_CADRE, "/api/v1/tasks", cursor="garbage")
    assert bad.status_code == 422 and bad.json()["detail"]["errors"][0]["field"] == "cursor"
    assert (await driver.get("admin", "/api/v1/tasks")).status_code == 403


async def test_two_approvers_claim_one_task_one_wins(
    driver: CaseDriver, new_household: NewHousehold, temporal: WorkflowEnvironment
) -> None:
    case_id = await _case_at_township_review(driver, new_household)
    task = await the_task(driver, TOWNSHIP_APPROVER, case_id, "township_review")
    claims = await asyncio.gather(
        *(
            driver.post(who, f"/api/v1/tasks/{task['task_id']}/claim", {"version": task["version"]})
            for who in (TOWNSHIP_APPROVER, SECOND_APPROVER)
        )
    )
    assert sorted(c.status_code for c in claims) == [200, 409], [c.text for c in claims]
    winner = next(c.json() for c in claims if c.status_code == 200)
    loser = next(c.json()["detail"] for c in claims if c.status_code == 409)
    assert winner["version"] == task["version"] + 1 and winner["claimed_by"] in (TOWNSHIP_APPROVER, SECOND_APPROVER)
    assert loser["code"] in ("task_claimed", "version_conflict") and loser["claimed_by"] == winner["claimed_by"]
    other = SECOND_APPROVER if winner["claimed_by"] == TOWNSHIP_APPROVER else TOWNSHIP_APPROVER

    # The other approver cannot act on the claimed step: 409 naming the holder, nothing changes.
    before = await case_snapshot(driver, temporal.client, case_id)
    refused = await driver.post(other, f"/api/v1/cases/{case_id}/township-review", township_review())
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert detail["code"] == "task_claimed" and detail["claimed_by"] == winner["claimed_by"]
    assert winner["claimed_by_name"] in detail["message"]
    assert await case_snapshot(driver, temporal.client, case_id) == before
    seen_by_other = await the_task(driver, other, case_id, "township_review")
    assert seen_by_other["can_act"] is False and seen_by_other["claimed_by"] == winner["claimed_by"]
    stale = await driver.post(other, f"/api/v1/tasks/{task['task_id']}/release", {"version": winner["version"]})
    assert stale.status_code == 409 and stale.json()["detail"]["code"] == "task_claimed"

    # The holder acts: the task leaves both inboxes at once.
    await driver.act(winner["claimed_by"], case_id, "township-review", township_review())
    for who in (TOWNSHIP_APPROVER, SECOND_APPROVER):
        assert await inbox_tasks(driver, who, case_id, step="township_review") == []
    late = await driver.post(other, f"/api/v1/tasks/{task['task_id']}/claim", {"version": winner["version"]})
    assert late.status_code == 409 and late.json()["detail"]["code"] == "task_closed"


async def test_release_and_assign(driver: CaseDriver, new_household: NewHousehold) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    await driver.act(VILLAGE_CADRE, case_id, "home-verification", home_verification())
    task = await the_task(driver, VILLAGE_CADRE, case_id, "authorisation")
    path = f"/api/v1/tasks/{task['task_id']}"

    claimed = (await driver.post(VILLAGE_CADRE, f"{path}/claim", {"version": task["version"]})).json()
    again = await driver.post(VILLAGE_CADRE, f"{path}/claim", {"version": task["version"]})
    assert again.status_code == 200 and again.json()["version"] == claimed["version"], "a repeated claim is a no-op"
    stale = await driver.post(SECOND_CADRE, f"{path}/claim", {"version": task["version"]})
    assert stale.status_code == 409 and stale.json()["detail"]["claimed_by"] == VILLAGE_CADRE
    released = await driver.post(VILLAGE_CADRE, f"{path}/release", {"version": claimed["version"]})
    assert released.status_code == 200 and released.json()["claimed_by"] is None
    version = released.json()["version"]

    # The township hands it to the second cadre; the county could too. Cadres cannot assign.
    assert (
        await driver.post(VILLAGE_CADRE, f"{path}/assign", {"version": version, "username": SECOND_CADRE})
    ).status_code == 403
    wrong_role = await driver.post(
        TOWNSHIP_APPROVER, f"{path}/assign", {"version": version, "username": SECOND_APPROVER}
    )
    assert wrong_role.status_code == 422 and wrong_role.json()["detail"]["errors"][0]["field"] == "username"
    wrong_village = await driver.post(
        TOWNSHIP_APPROVER, f"{path}/assign", {"version": version, "username": "huochangwan.cadre"}
    )
    assert wrong_village.status_code == 422
    other_township = await driver.post(
        "qingyangcha.approver", f"{path}/assign", {"version": version, "username": SECOND_CADRE}
    )
    assert other_township.status_code == 404
    assigned = await driver.post(TOWNSHIP_APPROVER, f"{path}/assign", {"version": version, "username": SECOND_CADRE})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["claimed_by"] == SECOND_CADRE and assigned.json()["assigned_by"] == TOWNSHIP_APPROVER
    refused = await driver.post(VILLAGE_CADRE, f"/api/v1/cases/{case_id}/authorisation", authorisation())
    assert refused.status_code == 409 and refused.json()["detail"]["claimed_by"] == SECOND_CADRE
    mine = await inbox_tasks(driver, SECOND_CADRE, case_id, claimed="mine")
    assert [t["task_id"] for t in mine] == [task["task_id"]]
    assert await inbox_tasks(driver, VILLAGE_CADRE, case_id, claimed="free") == []
    await driver.act(SECOND_CADRE, case_id, "authorisation", authorisation())

    audit = (
        await driver.get(COUNTY_OFFICER, "/api/v1/audit", subject_type="task", subject_id=str(task["task_id"]))
    ).json()["items"]
    assert [e["action"] for e in reversed(audit)] == ["claim_task", "release_task", "assign_task"]
    assert audit[0]["before"]["claimed_by"] is None and audit[0]["after"]["claimed_by"] == SECOND_CADRE
    assert audit[0]["case_id"] == case_id


async def test_task_outside_ones_area_or_role(driver: CaseDriver, new_household: NewHousehold) -> None:
    case_id = (await driver.open_case(await new_household()))["case_id"]
    task = await the_task(driver, VILLAGE_CADRE, case_id, "home_verification")
    path = f"/api/v1/tasks/{task['task_id']}"
    for outsider in ("huochangwan.cadre", "qingyangcha.approver"):
        assert (await driver.get(outsider, path)).status_code == 404
        assert (await driver.post(outsider, f"{path}/claim", {"version": 1})).status_code == 404
    for other_role in (TOWNSHIP_APPROVER, COUNTY_OFFICER):
        assert (await driver.get(other_role, path)).status_code == 200, "the levels above may look"
        assert (await driver.post(other_role, f"{path}/claim", {"version": 1})).status_code == 403
    assert (await driver.get(VILLAGE_CADRE, path)).json()["version"] == task["version"]
    assert (await driver.get(VILLAGE_CADRE, "/api/v1/tasks/999999999")).status_code == 404
