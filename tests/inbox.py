"""Reading inboxes in tests: the tasks of one case in someone's inbox, across every page."""

from __future__ import annotations

from typing import Any

from services.demo_case import CaseDriver


async def inbox_tasks(driver: CaseDriver, username: str, case_id: str | None = None, **filters: Any) -> list[dict]:
    """Every task in `username`'s inbox (of `case_id`, if given), following the cursor to the end."""
    found, cursor = [], None
    while True:
        params = {"limit": 200, **filters, **({"cursor": cursor} if cursor else {})}
        answer = await driver.get(username, "/api/v1/tasks", **params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        found += [t for t in page["items"] if case_id is None or t["case_id"] == case_id]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


async def the_task(driver: CaseDriver, username: str, case_id: str, step: str) -> dict[str, Any]:
    tasks = await inbox_tasks(driver, username, case_id, step=step)
    assert len(tasks) == 1, tasks
    return tasks[0]
