"""The village notice (村级公示): the households of one village on notice on a given day, as
data and as a printable page. It shows only what a notice may show (DOMAIN.md, step 6): the
household head's name, the village, the household size, the proposed category and the notice
dates: never ID numbers, phone numbers, bank accounts, health details or risk types. It states
only what happened: the cross-check is named only for households whose review had every
department's result (cases reviewed before the review waited for it may not have)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.documents.printed_page import printed_page
from services.api.registry.schemas import NoticeEntry, VillageNotice
from services.db.tables import Area, CaseRecord, Household
from services.domain.vocabulary import CATEGORY_LABELS, Category, Outcome, Step

CHINA = timezone(timedelta(hours=8))
# Cases sent back to verification (an upheld objection, a township return), or ended by an objection,
# left the notice; a round sent back has no review yet.
_WITHDRAWN_STEPS = {Step.home_verification, Step.authorisation, Step.democratic_review}
_PENDING_MARK = "比对待反馈"


def _local_day(moment: str) -> date:
    return datetime.fromisoformat(moment).astimezone(CHINA).date()


async def notice_of(session: AsyncSession, village: Area, on: date) -> VillageNotice:
    rows = (
        await session.execute(
            select(col(CaseRecord.state), col(Household.head_name))
            .join(Household, col(Household.code) == col(CaseRecord.household_code))
            .where(
                col(CaseRecord.village_code) == village.code, col(CaseRecord.state)["notice"].as_string().is_not(None)
            )
        )
    ).all()
    entries = []
    for state, head_name in rows:
        notice, verification = state["notice"], state.get("verification") or {}
        starts, ends = _local_day(notice["starts_at"]), _local_day(notice["ends_at"])
        if (
            not (starts <= on <= ends)
            or state["step"] in _WITHDRAWN_STEPS
            or state.get("review") is None
            or state.get("outcome") == Outcome.objection_upheld
        ):
            continue
        category = verification.get("proposed_category")
        entries.append(
            NoticeEntry(
                head_name=head_name,
                household_size=verification.get("household_size"),
                category=category,
                category_label=CATEGORY_LABELS[Category(category)] if category else None,
                notice_starts_on=starts,
                notice_ends_on=ends,
                # Reviews recorded before the pending list existed cannot tell: not claimed.
                cross_checked=state["review"].get("cross_check_pending") == [],
            )
        )
    entries.sort(key=lambda e: (e.notice_starts_on, e.head_name))
    return VillageNotice(
        village_code=village.code,
        village_name=village.name,
        on=on,
        title=f"{village.name}防止返贫监测对象识别公示",
        households=entries,
    )


def notice_page(notice: VillageNotice, township_name: str) -> str:
    """A printable A4 page of the notice: its text names the steps every listed household went
    through, and marks the households reviewed before every department had answered."""
    rows = [
        (
            e.head_name,
            notice.village_name,
            e.household_size or "",
            e.category_label or "",
            f"{e.notice_starts_on:%Y年%m月%d日} 至 {e.notice_ends_on:%Y年%m月%d日}",
            "" if e.cross_checked else _PENDING_MARK,
        )
        for e in notice.households
    ]
    unchecked = any(not e.cross_checked for e in notice.households)
    steps = "入户核查和村民代表民主评议" if unchecked else "入户核查、部门信息比对和村民代表民主评议"
    remark = (
        f"备注为“{_PENDING_MARK}”的农户，民主评议时部门信息比对结果尚未全部反馈，待比对完成后报镇审核。"
        if unchecked
        else ""
    )
    text = f"经{steps}，以下农户拟纳入防止返贫监测对象，现予以公示。{remark}公示期间，如有异议，请向村民委员会或{township_name}人民政府反映。"
    headings = ("户主姓名", "所在村", "家庭人口", "拟认定类别", "公示时间", "备注")
    return printed_page(notice.title, text, headings, rows, f"{notice.village_name}村民委员会", notice.on)


def today_in_china() -> date:
    return datetime.now(CHINA).date()
