"""The roster check (杜绝"体外循环"): the platform's roster of monitoring targets against ours.
A household the platform monitors and we do not (unknown here, or not monitored), one we
monitor and the platform does not list, and one both hold with another status are each kept
as a difference for the county to resolve. A roster received again adds nothing that is
still open; a difference marked resolved comes back if a later roster still shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import conflict, invalid, not_found
from services.api.province.schemas import DiscrepancyView, Resolution, RosterCheckAnswer
from services.db.audit import append_audit
from services.db.province import ProvinceDiscrepancy
from services.db.tables import Account, Household
from services.domain.province.exchange_format import Roster
from services.domain.vocabulary import HouseholdStatus

KIND_LABELS = {
    "platform_only": "平台有、本系统未纳入监测",
    "service_only": "本系统监测、平台无记录",
    "status_differs": "监测状态不一致",
}


def discrepancy_view(row: ProvinceDiscrepancy) -> DiscrepancyView:
    assert row.id is not None
    return DiscrepancyView(
        discrepancy_id=row.id,
        household_code=row.household_code,
        village_code=row.village_code,
        kind=row.kind,
        kind_label=KIND_LABELS[row.kind],
        roster_id=row.roster_id,
        roster_as_of=row.roster_as_of,
        platform_head_name=row.platform_head_name,
        platform_status=row.platform_status,
        our_status=row.our_status,
        found_at=row.found_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        resolution=row.resolution,
    )


async def check_roster(session: AsyncSession, account: Account, roster: Roster) -> RosterCheckAnswer:
    county = account.area_code
    if roster.county_code != county:
        raise invalid("county_code", "名单所属县与您的辖区不一致")
    theirs = {entry.household_code: entry for entry in roster.households}
    known = {
        code: (status, village)
        for code, status, village in await session.execute(
            select(col(Household.code), col(Household.status), col(Household.village_code)).where(
                col(Household.county_code) == county,
                (col(Household.status) != HouseholdStatus.not_monitored)
                # One array parameter: a roster may list more households than a statement takes parameters.
                | (col(Household.code) == any_(bindparam("codes", list(theirs), type_=ARRAY(String)))),
            )
        )
    }
    ours = {code for code, (status, _) in known.items() if status != HouseholdStatus.not_monitored}
    rows: list[dict[str, Any]] = []

    def differs(code: str, kind: str) -> None:
        status, village = known.get(code, (None, county))
        entry = theirs.get(code)
        rows.append(
            {
                "county_code": county,
                "household_code": code,
                "village_code": village,
                "kind": kind,
                "roster_id": roster.roster_id,
                "roster_as_of": roster.as_of,
                "platform_head_name": entry.head_name if entry else None,
                "platform_status": entry.status.value if entry else None,
                "our_status": status,
            }
        )

    for code in sorted(theirs.keys() - ours):
        differs(code, "platform_only")
    for code in sorted(ours - theirs.keys()):
        differs(code, "service_only")
    for code in sorted(ours & theirs.keys()):
        if known[code][0] != theirs[code].status:
            differs(code, "status_differs")
    found: list[ProvinceDiscrepancy] = []
    for start in range(0, len(rows), 2000):
        statement = insert(ProvinceDiscrepancy).values(rows[start : start + 2000])
        inserted = await session.scalars(
            statement.on_conflict_do_nothing(
                index_elements=["county_code", "household_code", "kind"],
                index_where=col(ProvinceDiscrepancy.resolved_at).is_(None),
            ).returning(ProvinceDiscrepancy)
        )
        found += list(inserted)
    await append_audit(
        session,
        account,
        "province_roster_check",
        "province_roster",
        roster.roster_id,
        {"platform_households": len(theirs), "our_households": len(ours), "found": len(found)},
    )
    open_total = await session.scalar(
        select(func.count()).where(
            col(ProvinceDiscrepancy.county_code) == county, col(ProvinceDiscrepancy.resolved_at).is_(None)
        )
    )
    return RosterCheckAnswer(
        roster_id=roster.roster_id,
        platform_households=len(theirs),
        our_households=len(ours),
        found=[discrepancy_view(row) for row in found],
        open_total=open_total or 0,
    )


async def county_discrepancies(
    session: AsyncSession, account: Account, resolved: bool | None
) -> list[ProvinceDiscrepancy]:
    query = select(ProvinceDiscrepancy).where(col(ProvinceDiscrepancy.county_code) == account.area_code)
    if resolved is not None:
        query = query.where(
            col(ProvinceDiscrepancy.resolved_at).is_not(None)
            if resolved
            else col(ProvinceDiscrepancy.resolved_at).is_(None)
        )
    return list((await session.scalars(query.order_by(col(ProvinceDiscrepancy.id)))).all())


async def resolve(
    session: AsyncSession, account: Account, discrepancy_id: int, form: Resolution
) -> ProvinceDiscrepancy:
    row = await session.get(ProvinceDiscrepancy, discrepancy_id, with_for_update=True)
    if row is None or row.county_code != account.area_code:
        raise not_found("没有找到该差异记录")
    if row.resolved_at is not None:
        raise conflict("already_recorded", "该差异已处理", resolved_by=row.resolved_by)
    row.resolved_at = datetime.now(UTC)
    row.resolved_by = account.username
    row.resolution = form.resolution
    session.add(row)
    await append_audit(
        session,
        account,
        "province_discrepancy_resolved",
        "province_discrepancy",
        str(row.id),
        {"resolution": form.resolution},
    )
    await session.flush()
    await session.refresh(row)
    return row
