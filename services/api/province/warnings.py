"""The platform's warning list (平台监测分析): each warning becomes a lead with channel
`platform_analysis`, opening the household's identification case or joining its open one,
as a department's early warning does. A warning is taken once per county: received again
(the list re-sent) it answers `duplicate` with its case and changes nothing. Its start key
makes the case start itself repeatable, so a list cut off half-way can simply be sent again."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from services.api.errors import ApiError, invalid, workflow_unavailable
from services.api.province.schemas import WarningAnswer, WarningListAnswer
from services.api.registry.policies import current_policy
from services.api.workflow_updates import actor_of
from services.db.province import ProvinceWarning
from services.db.tables import Account, Household, Member
from services.domain.identification.forms import Lead
from services.domain.identification.state import CaseStart
from services.domain.province.exchange_format import PlatformWarning, WarningList
from services.domain.vocabulary import Channel
from services.identification_starts import CaseUnrecordable, open_or_join
from services.workflows.refusals import UNRECORDABLE_MESSAGE


def lead_note(warning: PlatformWarning) -> str:
    """The lead's text on the case: what and when, never an ID number."""
    return f"省防返贫监测预警平台监测分析预警：{warning.reason}，预警日期{warning.issued_on.isoformat()}，预警编号{warning.warning_id}"


async def receive_warnings(
    session: AsyncSession, client: Client, task_queue: str, account: Account, listed: WarningList
) -> WarningListAnswer:
    county = account.area_code
    if listed.county_code != county:
        raise invalid("county_code", "名单所属县与您的辖区不一致")
    received = {
        w.warning_id: w
        for w in await session.scalars(
            select(ProvinceWarning).where(
                col(ProvinceWarning.county_code) == county,
                col(ProvinceWarning.warning_id).in_([w.warning_id for w in listed.warnings]),
            )
        )
    }
    policy = await current_policy(session)
    actor = actor_of(account)
    answers = []
    for index, warning in enumerate(listed.warnings):
        if (earlier := received.get(warning.warning_id)) is not None:
            answers.append(
                WarningAnswer(index=index, warning_id=warning.warning_id, outcome="duplicate", case_id=earlier.case_id)
            )
            continue
        household = await _household_of(session, county, warning)
        if household is None:
            answers.append(WarningAnswer(index=index, warning_id=warning.warning_id, outcome="unknown_household"))
            continue
        note = lead_note(warning)
        start = CaseStart(
            case_id=uuid.uuid4().hex,
            household_code=household.code,
            village_code=household.village_code,
            channel=Channel.platform_analysis,
            lead_note=note,
            policy=policy,
            opened_by=actor,
            formerly_poor=household.formerly_poor,
        )
        try:
            case_id, joined = await open_or_join(
                client,
                task_queue,
                start,
                Lead(channel=Channel.platform_analysis, note=note),
                actor,
                start_key=f"province-warning:{county}:{warning.warning_id}",
            )
        except CaseUnrecordable:
            raise ApiError(422, "unrecordable", f"预警{warning.warning_id}：{UNRECORDABLE_MESSAGE}") from None
        except RPCError as error:
            raise workflow_unavailable() from error
        outcome = "joined" if joined else "opened"
        kept = ProvinceWarning(
            county_code=county,
            warning_id=warning.warning_id,
            list_id=listed.list_id,
            household_code=household.code,
            outcome=outcome,
            case_id=case_id,
            received_by=account.username,
        )
        session.add(kept)
        received[warning.warning_id] = kept  # the same warning twice in one list: the second is a duplicate
        answers.append(WarningAnswer(index=index, warning_id=warning.warning_id, outcome=outcome, case_id=case_id))
    return WarningListAnswer(list_id=listed.list_id, received=len(answers), outcomes=answers)


async def _household_of(session: AsyncSession, county: str, warning: PlatformWarning) -> Household | None:
    """The county's household the warning names: by its code, else by a current member's ID number."""
    if warning.household_code:
        household = await session.get(Household, warning.household_code)
        if household is not None and household.county_code == county and household.merged_into is None:
            return household
        return None
    if warning.id_number:
        return await session.scalar(
            select(Household)
            .join(Member, col(Member.household_code) == col(Household.code))
            .where(
                col(Member.id_number) == warning.id_number,
                col(Member.ended_on).is_(None),
                col(Household.county_code) == county,
                col(Household.merged_into).is_(None),
            )
        )
    return None
