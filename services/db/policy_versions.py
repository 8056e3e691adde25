"""The policy version in force, for the API (new cases) and the worker (new monitoring periods)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.db.tables import PolicyVersion
from services.domain.policy import DEFAULT_POLICY, Policy


async def current_policy(db: AsyncSession | AsyncConnection) -> Policy:
    """The newest published version; the built-in default (version 1) before any is published."""
    row = (await db.execute(select(PolicyVersion.version, PolicyVersion.body)
                            .order_by(PolicyVersion.version.desc()).limit(1))).first()
    return DEFAULT_POLICY if row is None else Policy(version=row.version, **row.body)
