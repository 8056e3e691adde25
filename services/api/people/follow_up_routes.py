"""脱贫户 and households whose risk is eliminated, followed month by month: the contact person
(帮扶联系人, named by the township) and the visits of the 四支队伍 (services/api/people/follow_up.py)."""

from __future__ import annotations

from fastapi import APIRouter

from services.api.deps import CurrentAccount, SessionDep
from services.api.people import follow_up as service
from services.domain.follow_up import ContactAppointment, FollowUpVisit

router = APIRouter(prefix="/api/v1/households/{code}", tags=["follow-up 脱贫户及风险已消除户常态化走访"])


@router.get("/follow-up", summary="常态化帮扶：帮扶联系人、各月走访任务和走访记录")
async def get_follow_up(code: str, account: CurrentAccount, session: SessionDep) -> service.FollowUpView:
    household = await service.followed_household(session, account, code)
    return await service.follow_up_view(session, household)


@router.put("/contact-person", summary="指定帮扶联系人（镇审核；脱贫户）")
async def put_contact_person(
    code: str, body: ContactAppointment, account: CurrentAccount, session: SessionDep
) -> service.FollowUpView:
    """Any active account of the 四支队伍 of the household's village; a new one replaces the current one."""
    household = await service.appoint_contact(session, account, code, body)
    await session.commit()
    return await service.follow_up_view(session, household)


@router.post("/follow-up-visits", status_code=201, summary="录入常态化走访（本村四支队伍）")
async def post_follow_up_visit(
    code: str, body: FollowUpVisit, account: CurrentAccount, session: SessionDep
) -> service.FollowUpView:
    """The month of `visited_on` counts as visited; its task leaves the inbox."""
    household = await service.record_visit(session, account, code, body)
    await session.commit()
    return await service.follow_up_view(session, household)
