"""The workbench's pages: server time of "my tasks", a case page and the statistics page at a thousand
cases and at a million, and what each page weighs on a first visit (HTML, style and script, nothing cached).

    uv run python bench/workbench_pages.py [--cases 1000000] [--rounds 4] [--requests 50]

Reuses bench/task_inbox.py: the same read-only stack and the same two databases (1,000 cases and
`--cases`, generated with SQL). The case the township approver of 东坑镇 finds first in the inbox
gets a full state (a home verification, the step 镇审核) so its page draws every part: household,
deadlines, eligibility, timeline and the step's form. `dongkeng.approver` signs in through the
sign-in page (session cookie, CSRF token) and asks for `/tasks`, `/cases/{id}` and `/statistics`
(统计报表 of the township, with its charts), alternating between the databases round by round. Targets: the inbox's and the case page's median at a million
within 1.5× of the median at a thousand (the statistics page is measured, not targeted); every page
under 100 KB transferred on a first visit.
Figures go to bench/results/workbench_pages.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.stack import Stack, run_on_stack  # noqa: E402
from bench.task_inbox import (  # noqa: E402
    size_arguments,
    summary,
    timed,
    timing_line,
    two_databases,
)
from services.db.engine import create_engine  # noqa: E402
from services.demo_case import TOWNSHIP_APPROVER  # noqa: E402
from services.demo_data import DEMO_PASSWORD  # noqa: E402
from services.domain.identification.forms import HomeVerification  # noqa: E402
from services.domain.identification.state import CaseState  # noqa: E402
from services.domain.vocabulary import Channel, Step  # noqa: E402

TARGET_RATIO, TARGET_KB = 1.5, 100.0
# The time target covers the inbox and the case page; the statistics page is measured beside
# them (its time is that of GET /api/v1/reports/statistics, which it calls).
TIMED_TARGETS = ("inbox", "case")
_ASSETS = re.compile(r'(?:href|src)="(/static/[^"]+)"')
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def full_state(case_id: str, household_code: str, village_code: str) -> dict[str, Any]:
    """A case at 镇审核 with its home verification: what a real case page draws."""
    now = datetime.now(UTC)
    example = HomeVerification.model_json_schema()["examples"][0]
    state = CaseState(
        case_id=case_id,
        household_code=household_code,
        county_code=village_code[:6] + "000000",
        township_code=village_code[:9] + "000",
        village_code=village_code,
        channel=Channel.cadre_screening,
        lead_note="户主因病住院，家庭收入下降",
        policy_version=1,
        step=Step.township_review,
        opened_at=now - timedelta(days=8),
        due_at=now + timedelta(days=7),
        step_started_at=now - timedelta(hours=2),
        step_due_at=now + timedelta(hours=22),
        verification=HomeVerification.model_validate(example),
    )
    return state.model_dump(mode="json")


async def give_full_state(url: str, case_id: str) -> None:
    engine = create_engine(url, pool_size=1)
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                text("SELECT household_code, village_code FROM case_records WHERE case_id = :id"), {"id": case_id}
            )
        ).one()
        state = json.dumps(full_state(case_id, row.household_code, row.village_code), ensure_ascii=False)
        await conn.execute(
            text("UPDATE case_records SET state = CAST(:state AS jsonb) WHERE case_id = :id"),
            {"state": state, "id": case_id},
        )
    await engine.dispose()


async def signed_in(base: str) -> httpx.AsyncClient:
    """A browser-like client signed in through the sign-in page (cookies kept)."""
    client = httpx.AsyncClient(base_url=base, timeout=30)
    page = await client.get("/login")
    token = _TOKEN.search(page.text)
    assert token, "no CSRF token on the sign-in page"
    form = {"csrf_token": token.group(1), "username": TOWNSHIP_APPROVER, "password": DEMO_PASSWORD, "next": "/tasks"}
    answer = await client.post("/login", data=form)
    assert answer.status_code == 303, answer.text
    return client


async def first_visit_bytes(client: httpx.AsyncClient, path: str) -> dict[str, int]:
    """The page and each file it loads, in bytes as sent (no compression is configured)."""
    page = await client.get(path)
    page.raise_for_status()
    sizes = {"html": len(page.content)}
    for asset in sorted(set(_ASSETS.findall(page.text))):
        sizes[asset] = len((await client.get(asset)).content)
    return sizes


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    sizes, databases = await two_databases(stack, args.cases)
    clients: dict[str, tuple[httpx.AsyncClient, str]] = {}
    for size, (base, url) in databases.items():
        client = await signed_in(base)
        inbox = await client.get("/tasks")
        case_id = re.search(r'class="task-title">\s*<a href="/cases/([^"]+)"', inbox.text)
        assert case_id, "no case in the approver's inbox"
        await give_full_state(url, case_id.group(1))
        clients[size] = (client, f"/cases/{case_id.group(1)}")
        for path in ("/tasks", clients[size][1], "/statistics"):
            await timed(client, path, {}, 20)  # warm-up
    pages = ("inbox", "case", "statistics")
    samples: dict[str, dict[str, list[float]]] = {page: {"small": [], "big": []} for page in pages}
    for round_no in range(args.rounds):
        for size in ("small", "big") if round_no % 2 == 0 else ("big", "small"):
            client, case_path = clients[size]
            samples["inbox"][size] += await timed(client, "/tasks", {}, args.requests)
            samples["case"][size] += await timed(client, case_path, {}, args.requests)
            samples["statistics"][size] += await timed(client, "/statistics", {}, args.requests)
    client, case_path = clients["big"]
    anonymous = httpx.AsyncClient(base_url=databases["big"][0], timeout=30)
    weights = {
        "sign-in": await first_visit_bytes(anonymous, "/login"),
        "my tasks": await first_visit_bytes(client, "/tasks"),
        "case": await first_visit_bytes(client, case_path),
        "new lead": await first_visit_bytes(client, "/cases/new"),
        "statistics": await first_visit_bytes(client, "/statistics"),
    }
    await anonymous.aclose()
    for client, _ in clients.values():
        await client.aclose()
    results = {page: {size: summary(s) for size, s in by_size.items()} for page, by_size in samples.items()}
    ratios = {page: round(r["big"]["median_ms"] / r["small"]["median_ms"], 2) for page, r in results.items()}
    kilobytes = {page: round(sum(parts.values()) / 1024, 1) for page, parts in weights.items()}
    return {
        "sizes": sizes,
        "results": results,
        "median_ratio": ratios,
        "page_kb": kilobytes,
        "page_parts_bytes": weights,
        "targets": {"median_ratio_at_most": TARGET_RATIO, "page_kb_under": TARGET_KB},
        "met": all(ratios[page] <= TARGET_RATIO for page in TIMED_TARGETS)
        and all(kb < TARGET_KB for kb in kilobytes.values()),
        "through": "uvicorn (one process per database) over real HTTP on 127.0.0.1, one request at a time",
    }


def main() -> None:
    args = size_arguments(__doc__, requests=50)
    result = run_on_stack("workbench_pages", lambda stack: asyncio.run(measure(stack, args)), read_only=True)
    for page, by_size in result["results"].items():
        target = f"target ≤ {TARGET_RATIO}" if page in TIMED_TARGETS else "no target"
        print(timing_line(page, by_size, 6) + f"  ratio {result['median_ratio'][page]} ({target})")
    print(
        "first visit:",
        ", ".join(f"{page} {kb} KB" for page, kb in result["page_kb"].items()),
        f"(target < {TARGET_KB:g} KB)",
    )
    print("met" if result["met"] else "NOT met")


if __name__ == "__main__":
    main()
