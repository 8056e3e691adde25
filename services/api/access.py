"""Who may see and do what, by role and area. One place, so every router agrees."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from services.api.errors import forbidden
from services.db.tables import Account
from services.domain.areas import AreaLevel, area_contains, area_level, is_area_code
from services.domain.vocabulary import ROLE_LABELS, Role

# Roles that act on cases in their area and so need the household's personal data.
_CASEWORK_ROLES = frozenset({Role.village_cadre, Role.township_approver, Role.county_officer})


def area_scope(model: Any, area_code: str) -> ColumnElement[bool]:
    """SQL condition: rows of `model` (with county/township/village codes) inside `area_code`."""
    column = {
        AreaLevel.county: model.county_code,
        AreaLevel.township: model.township_code,
        AreaLevel.village: model.village_code,
    }[area_level(area_code)]
    return column == area_code


def can_see(account: Account, village_code: str) -> bool:
    return area_contains(account.area_code, village_code)


def sees_personal_data(account: Account, village_code: str) -> bool:
    return account.role in _CASEWORK_ROLES and can_see(account, village_code)


def require_role(account: Account, *roles: Role) -> None:
    if account.role not in roles:
        names = "、".join(ROLE_LABELS[r] for r in roles)
        raise forbidden(f"只有{names}可以办理此事项")


def requested_area(account: Account, area: str | None) -> str:
    """The area a list asks for (default: the reader's own), refused outside the reader's area."""
    scope = area or account.area_code
    if not is_area_code(scope) or not area_contains(account.area_code, scope):
        raise forbidden("超出您的管辖区域")
    return scope
