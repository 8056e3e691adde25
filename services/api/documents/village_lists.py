"""The lists a village posts besides its identification notice: the result announcement
(结果公告, in the township's name) and the exit notice (风险消除公示). Both are read from the
case and monitoring read models and carry only what a posted list may show: the head's name,
the household size, the category and dates; never ID numbers, phones, health or risk types."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.documents.schemas import AnnouncedHousehold, ExitNotice, ExitNoticeEntry, ResultAnnouncement
from services.db.tables import Area, CaseRecord, Household, MonitoringRecord
from services.domain.monitoring.vocabulary import ExitOutcome
from services.domain.months import local_date
from services.domain.vocabulary import CATEGORY_LABELS, Category


def _label(category: str | None) -> str | None:
    return CATEGORY_LABELS[Category(category)] if category else None


async def result_announcement(session: AsyncSession, village: Area, township_name: str, on: date) -> ResultAnnouncement:
    rows = (
        await session.execute(
            select(col(CaseRecord.state), col(Household.head_name))
            .join(Household, col(Household.code) == col(CaseRecord.household_code))
            .where(
                col(CaseRecord.village_code) == village.code,
                col(CaseRecord.state)["announcement"]["announced_on"].as_string() == on.isoformat(),
            )
            .order_by(col(Household.head_name))
        )
    ).all()
    households = []
    for state, head_name in rows:
        verification = state.get("verification") or {}
        category = verification.get("proposed_category")
        households.append(
            AnnouncedHousehold(
                head_name=head_name,
                household_size=verification.get("household_size"),
                category=category,
                category_label=_label(category),
            )
        )
    return ResultAnnouncement(
        village_code=village.code,
        village_name=village.name,
        township_name=township_name,
        on=on,
        title=f"{township_name}关于{village.name}防止返贫监测对象识别结果的公告",
        households=households,
    )


async def exit_notice(session: AsyncSession, village: Area, on: date) -> ExitNotice:
    rows = (
        await session.execute(
            select(col(MonitoringRecord.state), col(Household.head_name))
            .join(Household, col(Household.code) == col(MonitoringRecord.household_code))
            .where(col(MonitoringRecord.village_code) == village.code)
        )
    ).all()
    entries = []
    for state, head_name in rows:
        for exit_ in state.get("exits") or []:
            notice = exit_.get("notice")
            # Withdrawn from the notice: an upheld objection, or a township return back to verification.
            if notice is None or exit_.get("outcome") in (
                ExitOutcome.objection_upheld,
                ExitOutcome.returned_by_township,
            ):
                continue
            starts, ends = _day(notice["starts_at"]), _day(notice["ends_at"])
            if starts <= on <= ends and exit_.get("step") not in ("home_verification", "democratic_review"):
                entries.append(
                    ExitNoticeEntry(
                        head_name=head_name,
                        category=state.get("category"),
                        category_label=_label(state.get("category")),
                        monitored_since=_day(state["since"]),
                        notice_starts_on=starts,
                        notice_ends_on=ends,
                    )
                )
    entries.sort(key=lambda e: (e.notice_starts_on, e.head_name))
    return ExitNotice(
        village_code=village.code,
        village_name=village.name,
        on=on,
        title=f"{village.name}防止返贫监测对象风险消除公示",
        households=entries,
    )


def _day(moment: str) -> date:
    return local_date(datetime.fromisoformat(moment))
