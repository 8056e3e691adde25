"""Reads of the household register that other concepts need when they open a case."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db.tables import Household


async def formerly_poor(db: AsyncSession | AsyncConnection, household_code: str) -> bool | None:
    """The register's 脱贫户 flag; None for a household the register does not hold."""
    return await db.scalar(select(col(Household.formerly_poor)).where(col(Household.code) == household_code))
