"""Who may see and do what, by role and area. One place, so every router agrees.

Reading: a person sees what lies inside their own area (outside it: 404, so existence does
not leak); lists cover their area or a part of it (asking for another area: 403). Acting:
the role must be the one DOMAIN.md gives the step (403), inside the area (404). Personal
data is shown whole only to the roles that act on the household, inside their area."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, inspect
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.errors import forbidden, not_found
from services.db.tables import Account
from services.domain.areas import AreaLevel, area_contains, area_level, is_area_code
from services.domain.vocabulary import FOUR_TEAMS, ROLE_LABELS, Role

Row = TypeVar("Row", bound=SQLModel)

# Roles that act on cases in their area and so need the household's personal data.
CASEWORK_ROLES = frozenset({Role.village_cadre, Role.township_approver, Role.county_officer})
# Roles with a task inbox: the casework roles and the rest of the 四支队伍 (visits, support work).
TASK_ROLES = CASEWORK_ROLES | frozenset(FOUR_TEAMS)
# The level of area each role of an account works at (an account's area must be of its role's level).
ROLE_AREA_LEVELS = {
    **{role: AreaLevel.village for role in FOUR_TEAMS},
    Role.township_approver: AreaLevel.township,
    Role.county_officer: AreaLevel.county,
    Role.admin: AreaLevel.county,
}


def area_scope(model: Any, area_code: str) -> ColumnElement[bool]:
    """SQL condition: rows of `model` (with county/township/village codes) inside `area_code`."""
    column = {
        AreaLevel.county: model.county_code,
        AreaLevel.township: model.township_code,
        AreaLevel.village: model.village_code,
    }[area_level(area_code)]
    return column == area_code


def list_scope(account: Account, area: str | None) -> str:
    """The area a list covers: the caller's own, or a part of it they asked for (another: 403)."""
    scope = area or account.area_code
    if not is_area_code(scope) or not area_contains(account.area_code, scope):
        raise forbidden("超出您的管辖区域")
    return scope


def can_see(account: Account, village_code: str) -> bool:
    return area_contains(account.area_code, village_code)


def require_visible(account: Account, area_code: str, message: str = "没有找到该记录，或不在您的管辖区域内") -> None:
    """404 outside the caller's area: existence must not leak."""
    if not area_contains(account.area_code, area_code):
        raise not_found(message)


async def visible(
    session: AsyncSession,
    reader: Account,
    model: type[Row],
    key: str,
    message: str,
    area_field: str = "village_code",
    for_update: bool = False,
) -> Row:
    """The row of `model` with this primary key if it lies inside the reader's area; 404 with
    `message` otherwise, whether it is missing or only out of sight (existence must not leak)."""
    row = await session.get(model, key, with_for_update=for_update) if may_name(model, key) else None
    if row is None or not area_contains(reader.area_code, getattr(row, area_field)):
        raise not_found(message)
    return row


def may_name(model: type[SQLModel], key: str) -> bool:
    """False for a key longer than the primary key's column: it cannot name a row, and is not looked up."""
    longest = getattr(inspect(model).primary_key[0].type, "length", None) or len(key)
    return len(key) <= longest


def sees_personal_data(account: Account, village_code: str) -> bool:
    return account.role in CASEWORK_ROLES and can_see(account, village_code)


def require_role(account: Account, *roles: Role) -> None:
    if account.role not in roles:
        names = "、".join(ROLE_LABELS[r] for r in roles)
        raise forbidden(f"只有{names}可以办理此事项")
