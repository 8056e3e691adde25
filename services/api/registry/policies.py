"""Reading and publishing procedure policy versions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db.audit import Acting, append_audit
from services.db.policy_versions import current_policy
from services.db.tables import PolicyVersion
from services.domain.policy import DEFAULT_POLICY, Policy, PolicyBody


async def publish_policy(session: AsyncSession, body: PolicyBody, actor: Acting) -> Policy:
    """Adds the next version (the caller commits). Cases already started keep the version they started with."""
    await session.execute(select(func.pg_advisory_xact_lock(0x706F6C)))  # serialise version numbers
    latest = await session.scalar(select(func.max(col(PolicyVersion.version))))
    policy = Policy(version=max(latest or 0, DEFAULT_POLICY.version) + 1, **body.model_dump())
    previous = await current_policy(session)
    session.add(PolicyVersion(version=policy.version, body=body.model_dump(mode="json"), created_by=actor.username))
    await append_audit(
        session,
        actor,
        "publish_policy",
        "policy",
        str(policy.version),
        body.model_dump(mode="json"),
        before=previous.model_dump(mode="json"),
        after=policy.model_dump(mode="json"),
    )
    return policy
