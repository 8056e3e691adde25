"""Creating a screening run's row: under the policy version in force as it starts."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from services.db.policy_versions import current_policy
from services.db.screening import ScreeningRun


async def insert_run(
    db: AsyncSession | AsyncConnection, county_code: str, year: int, started_by: str, import_job: int | None = None
) -> int:
    policy = await current_policy(db)
    run_id = await db.scalar(
        insert(ScreeningRun)
        .values(
            county_code=county_code,
            year=year,
            policy_version=policy.version,
            import_job=import_job,
            status="flagging",
            flagged=0,
            opened=0,
            joined=0,
            skipped=0,
            started_by=started_by,
        )
        .returning(col(ScreeningRun.id))
    )
    assert run_id is not None
    return int(run_id)
