"""A published policy version by its number (a screening run keeps the version it started under)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from services.db.tables import PolicyVersion
from services.domain.policy import DEFAULT_POLICY, Policy


async def policy_version(db: AsyncSession | AsyncConnection, version: int) -> Policy:
    body = await db.scalar(select(col(PolicyVersion.body)).where(col(PolicyVersion.version) == version))
    return DEFAULT_POLICY if body is None else Policy(version=version, **body)
