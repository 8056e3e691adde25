"""Reading and publishing procedure policy versions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db.tables import PolicyVersion
from services.domain.policy import DEFAULT_POLICY, Policy, PolicyBody


async def current_policy(session: AsyncSession | AsyncConnection) -> Policy:
    """The newest published version; the built-in default (version 1) before any is published."""
    row = (await session.execute(
        select(PolicyVersion.version, PolicyVersion.body).order_by(PolicyVersion.version.desc()).limit(1)
    )).first()
    return DEFAULT_POLICY if row is None else Policy(version=row.version, **row.body)


async def publish_policy(session: AsyncSession, body: PolicyBody, username: str) -> Policy:
    """Adds the next version. Cases already started keep the version they started with."""
    await session.execute(select(func.pg_advisory_xact_lock(0x706F6C)))  # serialise version numbers
    latest = await session.scalar(select(func.max(PolicyVersion.version)))
    policy = Policy(version=max(latest or 0, DEFAULT_POLICY.version) + 1, **body.model_dump())
    session.add(PolicyVersion(version=policy.version, body=body.model_dump(mode="json"), created_by=username))
    await session.commit()
    return policy
