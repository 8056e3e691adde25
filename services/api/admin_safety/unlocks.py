"""An admin ends a sign-in lock before its time (services/api/people/sign_in.py): of an account
in their area (the person proved who they are, e.g. by phone), or of a client address (a
township office behind one address, locked by someone's typos). Audited either way.

The count goes with the lock, so the next failure starts afresh. An address belongs to no area:
any admin may release one; the audit says who did."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import require_role
from services.api.admin_safety.schemas import SignInUnlockIn, SignInUnlockView
from services.api.people.service import managed_account
from services.api.people.sign_in import account_key, address_key
from services.db.audit import append_audit
from services.db.tables import Account, SignInLimit
from services.domain.vocabulary import Role


async def release_sign_in_lock(session: AsyncSession, admin: Account, body: SignInUnlockIn) -> SignInUnlockView:
    require_role(admin, Role.admin)
    if body.username is not None:
        target = await managed_account(session, admin, body.username)  # 404 outside the admin's area
        key, subject_type, subject_id = account_key(target.username), "account", target.username
    else:
        assert body.address is not None
        key, subject_type, subject_id = address_key(body.address), "sign_in", body.address
    row = await session.get(SignInLimit, key, with_for_update=True)
    locked_until = row.locked_until if row is not None else None
    was_locked = locked_until is not None and locked_until > datetime.now(UTC)
    if row is not None:
        await session.delete(row)
    await append_audit(
        session,
        admin,
        "release_sign_in_lock",
        subject_type,
        subject_id,
        {"was_locked": was_locked, "failures": row.failures if row else 0},
    )
    return SignInUnlockView(
        username=body.username,
        address=body.address,
        was_locked=was_locked,
        locked_until=locked_until if was_locked else None,
    )
