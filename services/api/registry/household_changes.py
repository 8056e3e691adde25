"""Recording a change of a household's members (户籍变动) so the register stays true: a member
is never deleted, only ended with the date and the change that ended them; every change is a
row of `household_changes` (and, for a split or merge, one on each household) and an audit entry.

The household is locked for the change (a merge locks both, in code order), so two cadres
recording at once act one after the other on what the first left."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import visible
from services.api.errors import conflict, invalid
from services.api.registry.household_change_forms import MemberChangeIn, Placed, kind_problem
from services.api.registry.households import HEAD, UNIQUE_VIOLATION, household_code, id_number_taken
from services.db.audit import Acting, append_audit
from services.db.failures import sqlstate
from services.db.tables import Account, CaseRecord, Household, HouseholdChange, Member
from services.domain.household_register import JOINING, LEAVING, ChangeKind
from services.domain.months import local_date
from services.domain.personal_data import birth_date_of
from services.domain.vocabulary import HouseholdStatus

_NO_HOUSEHOLD = "没有找到该农户，或该农户不在您的管辖区域内"


async def record_member_change(session: AsyncSession, code: str, body: MemberChangeIn, actor: Account) -> Household:
    """Applies the change to household `code` (inside the actor's area) and audits it; the caller commits."""
    problem = kind_problem(body)
    if problem is not None:
        raise invalid(*problem)
    other = body.from_household
    if other is not None and other < code:  # lock in code order: two merges never wait on each other
        await visible(session, actor, Household, other, _NO_HOUSEHOLD, for_update=True)
    household = await visible(session, actor, Household, code, _NO_HOUSEHOLD, for_update=True)
    _refuse_if_merged(household)
    if body.occurred_on > local_date(datetime.now(UTC)):
        raise invalid("occurred_on", "变动日期不能晚于今天")
    members = await _current_members(session, code)
    before = _register_state(household, members)
    # A change row is never updated (append-only): the household it names is known before it is written.
    splitting = body.kind == ChangeKind.split_household
    new_code = await _next_household_code(session, household.village_code) if splitting else None
    change = await _change_row(session, household.code, body, actor, other=new_code or other)
    if body.kind in JOINING:
        await _join(session, household, body, change)
    elif body.kind in LEAVING:
        _leave(household, members, body, change)
    elif new_code is not None:
        await _split(session, household, members, body, change, actor, new_code)
    else:
        await _merge(session, household, body, change, actor)
    try:
        await session.flush()
    except IntegrityError as error:
        if sqlstate(error) == UNIQUE_VIOLATION:  # the same person joined elsewhere at the same moment
            raise id_number_taken("member.id_number") from None
        raise
    after = _register_state(household, await _current_members(session, code))
    await append_audit(
        session,
        actor,
        "record_member_change",
        "household",
        household.code,
        body.model_dump(mode="json"),
        before=before,
        after=after,
    )
    return household


def _refuse_if_merged(household: Household) -> None:
    if household.merged_into:
        raise conflict(
            "household_merged",
            f"该户已并入农户{household.merged_into}，不能再登记变动",
            merged_into=household.merged_into,
        )


async def _current_members(session: AsyncSession, code: str) -> list[Member]:
    query = select(Member).where(col(Member.household_code) == code, col(Member.ended_on).is_(None))
    return list((await session.scalars(query.order_by(col(Member.id)))).all())


def _register_state(household: Household, members: list[Member]) -> dict[str, Any]:
    """What the audit entry compares: the head and who belongs to the household now."""
    return {
        "head_name": household.head_name,
        "merged_into": household.merged_into,
        "members": {str(m.id): f"{m.name}（{m.relation}）" for m in members},
    }


async def _change_row(
    session: AsyncSession, code: str, body: MemberChangeIn, actor: Acting, other: str | None = None
) -> HouseholdChange:
    change = HouseholdChange(
        household_code=code,
        kind=body.kind,
        occurred_on=body.occurred_on,
        reason=body.reason,
        other_household=other,
        recorded_by=actor.username,
    )
    session.add(change)
    await session.flush()
    return change


async def _join(session: AsyncSession, household: Household, body: MemberChangeIn, change: HouseholdChange) -> None:
    person = body.member
    assert person is not None  # kind_problem: a joining change carries its member
    if body.kind == ChangeKind.birth and birth_date_of(person.id_number) != body.occurred_on:
        raise invalid("member.id_number", "出生登记的身份证号中的出生日期应与变动日期一致")
    current = await session.scalar(
        select(func.count()).where(col(Member.id_number) == person.id_number, col(Member.ended_on).is_(None))
    )
    if current:
        raise id_number_taken("member.id_number")
    session.add(
        Member(
            household_code=household.code,
            birth_date=birth_date_of(person.id_number),
            joined_on=body.occurred_on,
            joined_change=change.id,
            **person.model_dump(),
        )
    )


def _leave(household: Household, members: list[Member], body: MemberChangeIn, change: HouseholdChange) -> None:
    assert body.member_id is not None  # kind_problem: a leaving change names its member
    leaving = _member(members, body.member_id, "member_id")
    staying = [m for m in members if m.id != leaving.id]
    if not staying:
        raise invalid("member_id", "这是户内最后一位在册成员；整户并入他户请登记合户")
    _hand_over_headship(household, [leaving], staying, body.new_head_member_id)
    _end(leaving, body.occurred_on, change)


async def _split(
    session: AsyncSession,
    household: Household,
    members: list[Member],
    body: MemberChangeIn,
    change: HouseholdChange,
    actor: Account,
    new_code: str,
) -> None:
    assert body.members is not None and body.address is not None  # kind_problem: a split carries both
    leaving = [_member(members, p.member_id, f"members[{i}].member_id") for i, p in enumerate(body.members)]
    leaving_ids = {m.id for m in leaving}
    staying = [m for m in members if m.id not in leaving_ids]
    if not staying:
        raise invalid("members", "原户至少要留下一位成员")
    _hand_over_headship(household, leaving, staying, body.new_head_member_id)
    new_head = next(m for m, p in zip(leaving, body.members, strict=True) if p.relation == HEAD)
    new_household = Household(
        code=new_code,
        county_code=household.county_code,
        township_code=household.township_code,
        village_code=household.village_code,
        head_name=new_head.name,
        address=body.address,
        phone=body.phone,
        created_by=actor.username,
        # The people were lifted out of poverty wherever they live now; 低保 and 特困 are assessed per household.
        formerly_poor=household.formerly_poor,
        poverty_exit_year=household.poverty_exit_year,
    )
    session.add(new_household)
    await session.flush()
    arrival = await _change_row(session, new_household.code, body, actor, other=household.code)
    await _move(session, leaving, body.members, new_household.code, body.occurred_on, change, arrival)


async def _merge(
    session: AsyncSession, household: Household, body: MemberChangeIn, change: HouseholdChange, actor: Account
) -> None:
    assert body.from_household is not None and body.members is not None  # kind_problem: a merge carries both
    if body.from_household == household.code:
        raise invalid("from_household", "不能与本户合户")
    other = await visible(session, actor, Household, body.from_household, _NO_HOUSEHOLD, for_update=True)
    _refuse_if_merged(other)
    if other.status == HouseholdStatus.risk_not_eliminated or await _has_open_case(session, other.code):
        raise conflict(
            "household_in_procedure", "并入的农户正在识别或监测帮扶中，须待其办结后再合户", field="from_household"
        )
    arriving = await _current_members(session, other.code)
    placed = {p.member_id for p in body.members}
    if placed != {m.id for m in arriving}:
        raise invalid("members", "须逐一列出并入农户的每位在册成员及其与本户户主关系")
    by_id = {m.id: m for m in arriving}
    departure = await _change_row(session, other.code, body, actor, other=household.code)
    ordered = [by_id[p.member_id] for p in body.members]
    await _move(session, ordered, body.members, household.code, body.occurred_on, departure, change)
    other.merged_into = household.code


async def _move(
    session: AsyncSession,
    people: list[Member],
    placed: list[Placed],
    to_code: str,
    on: date,
    departure: HouseholdChange,
    arrival: HouseholdChange,
) -> None:
    """Ends each person's row where they were and gives them a new row, with their new relation, in `to_code`."""
    for person in people:
        _end(person, on, departure)
    await session.flush()  # ended first: an ID number is current in one household at a time
    relation = {p.member_id: p.relation for p in placed}
    session.add_all(
        Member(
            household_code=to_code,
            name=p.name,
            id_number=p.id_number,
            relation=relation[p.id or 0],
            sex=p.sex,
            birth_date=p.birth_date,
            labour_capacity=p.labour_capacity,
            health=p.health,
            disability=p.disability,
            schooling=p.schooling,
            joined_on=on,
            joined_change=arrival.id,
        )
        for p in people
    )


async def _next_household_code(session: AsyncSession, village_code: str) -> str:
    number: int = (await session.execute(select(func.nextval("household_number_seq")))).scalar_one()
    return household_code(village_code, number)


def _member(members: list[Member], member_id: int, field: str) -> Member:
    found = next((m for m in members if m.id == member_id), None)
    if found is None:
        raise invalid(field, "该户没有这位在册成员")
    return found


def _hand_over_headship(
    household: Household, leaving: list[Member], staying: list[Member], new_head_id: int | None
) -> None:
    """When the head leaves, a staying member named by `new_head_member_id` becomes head."""
    if not any(m.relation == HEAD for m in leaving):
        if new_head_id is not None:
            raise invalid("new_head_member_id", "户主没有离开，不需要指定新户主")
        return
    if new_head_id is None:
        raise invalid("new_head_member_id", "户主离开时须指定户内接任户主的成员")
    successor = _member(staying, new_head_id, "new_head_member_id")
    successor.relation = HEAD
    household.head_name = successor.name


def _end(member: Member, on: date, change: HouseholdChange) -> None:
    if member.joined_on is not None and on < member.joined_on:
        raise invalid("occurred_on", f"变动日期不能早于{member.name}加入本户的日期")
    member.ended_on = on
    member.ended_change = change.id


async def _has_open_case(session: AsyncSession, code: str) -> bool:
    query = select(func.count()).where(col(CaseRecord.household_code) == code, col(CaseRecord.closed_at).is_(None))
    return bool(await session.scalar(query))
