"""The rules' preview: how many households per township a proposed policy would flag in a year,
beside the policy in force, by the same query a run uses (services/db/screening_rules.py)."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.screening.schemas import PreviewView, TownshipCount
from services.db.policy_versions import current_policy
from services.db.screening_rules import flagged_households
from services.db.tables import Area
from services.domain.policy import PolicyBody
from services.domain.screening.rules import ScreeningRule


async def preview(session: AsyncSession, area_code: str, year: int, proposed: PolicyBody | None) -> PreviewView:
    policy_now = await current_policy(session)
    now = await _counts(session, policy_now, year, area_code)
    then = now if proposed is None else await _counts(session, proposed, year, area_code)
    codes = sorted(set(now) | set(then))
    names = dict(
        (await session.execute(select(col(Area.code), col(Area.name)).where(col(Area.code).in_(codes)))).tuples().all()
    )
    townships = [
        TownshipCount(
            township_code=code,
            township_name=names.get(code, code),
            flagged=sum(then.get(code, _EMPTY)["households"].values()),
            flagged_now=sum(now.get(code, _EMPTY)["households"].values()),
            by_rule={rule: then.get(code, _EMPTY)["rules"][rule] for rule in ScreeningRule},
        )
        for code in codes
    ]
    return PreviewView(
        year=year,
        policy_version_now=policy_now.version,
        townships=townships,
        total=sum(t.flagged for t in townships),
        total_now=sum(t.flagged_now for t in townships),
    )


_EMPTY: dict[str, Counter[str]] = {"households": Counter(), "rules": Counter()}


async def _counts(
    session: AsyncSession, policy: PolicyBody, year: int, area: str
) -> dict[str, dict[str, Counter[str]]]:
    sql, params = flagged_households(policy, year, area)
    rows = await session.execute(
        text(
            f"SELECT township_code, count(DISTINCT household_code) AS households, rule, count(*) AS hits"
            f" FROM ({sql}) flagged, jsonb_array_elements_text(flagged.rules) AS rule"
            f" GROUP BY GROUPING SETS ((township_code), (township_code, rule))"
        ),
        params,
    )
    counts: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: {"households": Counter(), "rules": Counter()})
    for township, households, rule, hits in rows:
        if rule is None:
            counts[township]["households"]["all"] = households
        else:
            counts[township]["rules"][rule] = hits
    return counts
