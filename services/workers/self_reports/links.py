"""Which self-reports wait on a case: read by the identification workflow when the case closes,
so that it tells each of them itself (services/workflows/identification.py).

The acceptance links an application to its case in PostgreSQL before it opens or joins the case
(services/workers/self_reports/activities.py), so a case closing finds every application that
accepted into it, even one whose acceptance is not recorded yet.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio import activity

from services.db.engine import standalone
from services.db.tables import SelfReport


class LinkedCase(BaseModel):
    case_id: str


class SelfReportLinks:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = standalone(engine)  # one lookup

    @activity.defn(name="find_linked_self_reports")
    async def find_linked_self_reports(self, case: LinkedCase) -> list[str]:
        """The ids of the applications linked to the case, oldest first."""
        async with self._engine.connect() as conn:
            found = await conn.scalars(
                select(col(SelfReport.application_id))
                .where(col(SelfReport.case_id) == case.case_id)
                .order_by(col(SelfReport.submitted_at), col(SelfReport.application_id))
            )
            return list(found.all())
