"""A county's own settings, changed by its admin and audited; and the rule they set on who may
make an account admin. Nothing here commits: the route does."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import require_role
from services.api.admin_safety.schemas import CountySettingsIn, CountySettingsView
from services.api.errors import conflict
from services.db.admin_safety import CountySetting
from services.db.audit import append_audit
from services.db.tables import Account
from services.domain.areas import county_of
from services.domain.vocabulary import Role


def settings_view(county_code: str, row: CountySetting | None) -> CountySettingsView:
    return CountySettingsView(
        county_code=county_code,
        second_admin_for_admin_grants=row.second_admin_for_admin_grants if row else False,
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


async def county_settings(session: AsyncSession, admin: Account) -> CountySettingsView:
    require_role(admin, Role.admin)
    county = county_of(admin.area_code)
    return settings_view(county, await session.get(CountySetting, county))


async def change_county_settings(session: AsyncSession, admin: Account, body: CountySettingsIn) -> CountySettingsView:
    require_role(admin, Role.admin)
    county = county_of(admin.area_code)
    row = await session.get(CountySetting, county, with_for_update=True)
    before = settings_view(county, row).model_dump(include={"second_admin_for_admin_grants"})
    if row is None:
        row = CountySetting(county_code=county, updated_by=admin.username, updated_at=datetime.now(UTC))
    row.second_admin_for_admin_grants = body.second_admin_for_admin_grants
    row.updated_by, row.updated_at = admin.username, datetime.now(UTC)
    session.add(row)
    await session.flush()
    await append_audit(
        session,
        admin,
        "change_county_settings",
        "county",
        county,
        {"reason": body.reason},
        before=before,
        after=body.model_dump(exclude={"reason"}),
    )
    return settings_view(county, row)


async def second_admin_required(session: AsyncSession, county_code: str) -> bool:
    row = await session.get(CountySetting, county_code)
    return row is not None and row.second_admin_for_admin_grants


async def allow_direct_admin_grant(session: AsyncSession, admin: Account) -> None:
    """Creating an admin account, or changing an account's role to admin, in one step: refused
    where the county requires a second admin (the grant request is the way there)."""
    if await second_admin_required(session, county_of(admin.area_code)):
        raise conflict(
            "second_admin_required",
            "本县规定：授予系统管理员权限须经另一名管理员批准，请通过「管理员授权申请」提出（POST /api/v1/admin-grants）",
        )
