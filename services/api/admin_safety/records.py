"""The audit entry every way to the admin role writes (a grant, a new admin account, a role
changed to admin), so that one filter, `action=grant_admin`, finds them all."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.db.admin_safety import AdminGrant
from services.db.audit import append_audit
from services.db.tables import Account


async def record_admin_grant(session: AsyncSession, admin: Account, username: str, data: dict[str, Any]) -> None:
    await append_audit(session, admin, "grant_admin", "account", username, data)


def grant_facts(grant: AdminGrant | None, new_account: bool) -> dict[str, Any]:
    """What the entry says of how the role came: a new account, or a change, and the request behind it."""
    facts: dict[str, Any] = {"new_account": new_account}
    if grant is not None:
        facts |= {"grant_id": grant.id, "requested_by": grant.requested_by, "approved_by": grant.decided_by}
    return facts
