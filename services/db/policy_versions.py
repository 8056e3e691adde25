"""The policy version in force, for the API (new cases) and the worker (new monitoring periods)."""

from __future__ import annotations

import logging

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from services.db.tables import PolicyVersion
from services.domain.policy import DEFAULT_POLICY, Policy

log = logging.getLogger("services.policy")


async def current_policy(db: AsyncSession | AsyncConnection) -> Policy:
    """The newest published version that today's rules accept; the built-in default (version 1)
    before any is published. A version published before a bound existed (an income line of 1e30)
    is passed over, loudly, rather than stopping every case start until someone notices."""
    rows = await db.execute(
        select(col(PolicyVersion.version), col(PolicyVersion.body))
        .order_by(col(PolicyVersion.version).desc())
        .limit(50)
    )
    for row in rows:
        try:
            return Policy(version=row.version, **row.body)
        except ValidationError as error:
            log.error(
                "policy version %s is out of bounds and not in force: %s",
                row.version,
                "; ".join(".".join(map(str, e["loc"])) for e in error.errors()),
            )
    return DEFAULT_POLICY
