"""Following 脱贫户 and households whose risk is eliminated (services/domain/follow_up.py): the
township names a contact person, the 四支队伍 record the monthly visits. Each change closes its
inbox task and is audited in the same transaction (committed by the route)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import require_role, visible
from services.api.errors import conflict, invalid
from services.db.audit import append_audit
from services.db.tables import Account, ContactPerson, FollowUpVisitRecord, FollowUpVisitTask, Household, Task
from services.domain import follow_up
from services.domain.areas import area_contains
from services.domain.monitoring.vocabulary import VISIT_TASK_STATUS_LABELS, VisitTaskStatus
from services.domain.months import local_date, period_end, period_of
from services.domain.vocabulary import FOUR_TEAMS, HouseholdStatus, Role

_NOT_FOUND = "没有找到该农户，或不在您的管辖区域内"


class ContactView(BaseModel):
    username: str
    display_name: str
    role: str
    note: str
    appointed_by: str
    appointed_at: datetime


class VisitTaskView(BaseModel):
    period: str
    population: follow_up.Population
    population_label: str
    due_at: datetime
    status: VisitTaskStatus
    status_label: str
    visit_count: int
    first_visited_on: date | None


class VisitView(BaseModel):
    period: str
    visited_on: date
    visitors: list[str]
    findings: str
    living_conditions: dict[str, Any]
    recorded_by: str
    recorded_at: datetime


class FollowUpView(BaseModel):
    household_code: str
    formerly_poor: bool = Field(description="脱贫户")
    poverty_exit_year: int | None = Field(description="脱贫年份")
    followed: bool = Field(description="是否按月常态化走访（脱贫户、风险已消除户；监测期内的由监测帮扶走访）")
    contact: ContactView | None = Field(description="帮扶联系人（脱贫户）")
    visit_tasks: list[VisitTaskView] = Field(description="各月走访任务，最近的在前（最多24个月）")
    visits: list[VisitView] = Field(description="走访记录，最近的在前（最多50次）")


def is_followed(household: Household) -> bool:
    return (household.formerly_poor or household.status == HouseholdStatus.risk_eliminated) and (
        household.status != HouseholdStatus.risk_not_eliminated
    )


async def follow_up_view(session: AsyncSession, household: Household) -> FollowUpView:
    contact = (
        await session.execute(
            select(ContactPerson, Account)
            .join(Account, col(Account.username) == col(ContactPerson.username))
            .where(col(ContactPerson.household_code) == household.code, col(ContactPerson.ended_at).is_(None))
        )
    ).first()
    tasks = (
        await session.execute(
            select(FollowUpVisitTask)
            .where(col(FollowUpVisitTask.household_code) == household.code)
            .order_by(col(FollowUpVisitTask.period).desc())
            .limit(24)
        )
    ).scalars()
    visits = (
        await session.execute(
            select(FollowUpVisitRecord)
            .where(col(FollowUpVisitRecord.household_code) == household.code)
            .order_by(col(FollowUpVisitRecord.visited_on).desc(), col(FollowUpVisitRecord.id).desc())
            .limit(50)
        )
    ).scalars()
    return FollowUpView(
        household_code=household.code,
        formerly_poor=household.formerly_poor,
        poverty_exit_year=household.poverty_exit_year,
        followed=is_followed(household),
        contact=None
        if contact is None
        else ContactView(
            username=contact[1].username,
            display_name=contact[1].display_name,
            role=contact[1].role,
            note=contact[0].note,
            appointed_by=contact[0].appointed_by,
            appointed_at=contact[0].appointed_at,
        ),
        visit_tasks=[
            VisitTaskView(
                period=t.period,
                population=follow_up.Population(t.population),
                population_label=follow_up.POPULATION_LABELS[follow_up.Population(t.population)],
                due_at=t.due_at,
                status=VisitTaskStatus(t.status),
                status_label=VISIT_TASK_STATUS_LABELS[VisitTaskStatus(t.status)],
                visit_count=t.visit_count,
                first_visited_on=t.first_visited_on,
            )
            for t in tasks
        ],
        visits=[VisitView.model_validate(v, from_attributes=True) for v in visits],
    )


async def followed_household(session: AsyncSession, reader: Account, code: str, lock: bool = False) -> Household:
    return await visible(session, reader, Household, code, _NOT_FOUND, for_update=lock)


async def appoint_contact(
    session: AsyncSession, actor: Account, code: str, form: follow_up.ContactAppointment
) -> Household:
    """The township names the 脱贫户's contact person: any active account of the 四支队伍 of its village.
    A new one ends the current one (kept, never deleted)."""
    require_role(actor, Role.township_approver)
    household = await followed_household(session, actor, code, lock=True)
    if not household.formerly_poor:
        raise conflict("not_formerly_poor", "该户不是脱贫户，无需指定帮扶联系人")
    appointee = await session.get(Account, form.username) if len(form.username) <= 50 else None
    if (
        appointee is None
        or appointee.disabled
        or appointee.role not in FOUR_TEAMS
        or not area_contains(appointee.area_code, household.village_code)
    ):
        raise invalid("username", "帮扶联系人须为本村四支队伍（村干部、驻村工作队、帮扶干部、网格员）的在用账号")
    current = await session.scalar(
        select(ContactPerson).where(col(ContactPerson.household_code) == code, col(ContactPerson.ended_at).is_(None))
    )
    if current is not None and current.username == appointee.username:
        raise conflict("already_recorded", "该账号已是本户的帮扶联系人")
    now = datetime.now(UTC)
    contacts_so_far = await session.scalar(
        select(func.count()).select_from(ContactPerson).where(col(ContactPerson.household_code) == code)
    )
    if current is not None:
        current.ended_at = now
        session.add(current)
        await session.flush()
    session.add(
        ContactPerson(
            household_code=code,
            username=appointee.username,
            note=form.note,
            appointed_by=actor.username,
            appointed_at=now,
        )
    )
    await _close_task(session, follow_up.contact_key(code, contacts_so_far or 0), now, actor)
    await append_audit(
        session,
        actor,
        "appoint_contact",
        "household",
        code,
        {"username": appointee.username, "note": form.note},
        before={"contact": current.username if current else None},
        after={"contact": appointee.username},
    )
    return household


async def record_visit(session: AsyncSession, actor: Account, code: str, form: follow_up.FollowUpVisit) -> Household:
    """A visit by one of the village's 四支队伍: the month's visit is done (or was owed and is now made late)."""
    require_role(actor, *FOUR_TEAMS)
    household = await followed_household(session, actor, code, lock=True)
    if not is_followed(household):
        if household.status == HouseholdStatus.risk_not_eliminated:
            raise conflict("monitored", "该户在监测期内，请在监测帮扶中录入走访（POST /monitoring/{id}/visits）")
        raise conflict("not_followed", "该户不是脱贫户，也不是风险已消除的监测对象，无需常态化走访")
    now = datetime.now(UTC)
    if form.visited_on > local_date(now):
        raise invalid("visited_on", "走访日期不能晚于今天")
    period = period_of(form.visited_on, 1)
    population = follow_up.Population.formerly_poor if household.formerly_poor else follow_up.Population.risk_eliminated
    row = insert(FollowUpVisitTask).values(
        household_code=code,
        period=period,
        population=population,
        county_code=household.county_code,
        township_code=household.township_code,
        village_code=household.village_code,
        due_at=period_end(period, 1),
        status=VisitTaskStatus.done,
        visit_count=1,
        first_visited_on=form.visited_on,
    )
    await session.execute(
        row.on_conflict_do_update(
            index_elements=[col(FollowUpVisitTask.household_code), col(FollowUpVisitTask.period)],
            set_={
                "status": VisitTaskStatus.done,
                "visit_count": col(FollowUpVisitTask.visit_count) + 1,
                "first_visited_on": func.coalesce(col(FollowUpVisitTask.first_visited_on), form.visited_on),
            },
        )
    )
    session.add(
        FollowUpVisitRecord(
            household_code=code,
            village_code=household.village_code,
            period=period,
            visited_on=form.visited_on,
            visitors=form.visitors,
            findings=form.findings,
            living_conditions=form.living_conditions.model_dump(mode="json"),
            recorded_by=actor.username,
            recorded_at=now,
        )
    )
    await _close_task(session, follow_up.visit_key(code, period), now, actor)
    await append_audit(session, actor, "record_follow_up_visit", "household", code, form.model_dump(mode="json"))
    return household


async def _close_task(session: AsyncSession, key: str, now: datetime, actor: Account) -> None:
    await session.execute(
        update(Task)
        .where(col(Task.key) == key, col(Task.closed_at).is_(None))
        .values(closed_at=now, closed_seq=0, closed_by=actor.username)
    )
