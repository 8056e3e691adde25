"""The household file (一户一档): the household with its whole history in one answer —
identification cases, monitoring periods with their support people, plans, measures,
visit tasks, visits and exits — masked for readers who do not need personal data."""

from __future__ import annotations

from fastapi import APIRouter

from services.api.deps import CurrentAccount, SessionDep
from services.api.registry import service
from services.api.registry.schemas import HouseholdFile
from services.api.registry.service import visible_household

router = APIRouter(prefix="/api/v1/households", tags=["households 农户"])


@router.get("/{code}/file", summary="一户一档（识别案件、帮扶计划与措施、走访、风险消除）")
async def household_file(code: str, account: CurrentAccount, session: SessionDep) -> HouseholdFile:
    return await service.household_file(session, await visible_household(session, account, code), account)
