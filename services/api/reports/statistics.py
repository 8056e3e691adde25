"""Statistics of one area and period, as of one day, from the recorded events.

"As of" means as the records stood at that day's end (midnight, Beijing time): every figure
reads when something happened (a period's start and its risk elimination, a case's opening,
closing and step changes in the audit log, a decision's time, a visit's or delivery's day), never
the current state alone, so the same question asked again later gives the same numbers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    DateTime,
    Float,
    String,
    and_,
    case,
    cast,
    column,
    extract,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.access import area_scope
from services.api.monitoring.service import visit_coverage
from services.api.reports.schemas import (
    Count,
    HouseholdCounts,
    IdentificationTime,
    LateCase,
    MeasureCount,
    MonthFlow,
    OpenCases,
    SelfReportFigures,
    Statistics,
    StepCount,
    VisitFigures,
)
from services.db.tables import Area, AuditEntry, CaseRecord, EarlyWarningRecord, Household, MonitoringRecord, SelfReport
from services.domain.areas import AreaLevel, area_level, county_of, township_of
from services.domain.identification.procedure import STEP_LABELS
from services.domain.monitoring.vocabulary import MEASURE_KIND_LABELS, MeasureKind, MeasureStatus
from services.domain.months import CHINA_TIME, next_period, period_of
from services.domain.self_reports.model import ApplicationStatus
from services.domain.vocabulary import (
    CATEGORY_LABELS,
    HOUSEHOLD_STATUS_LABELS,
    RISK_TYPE_LABELS,
    HouseholdStatus,
    Outcome,
    Step,
    WarningOutcome,
)

WARNING_OUTCOME_LABELS = {
    WarningOutcome.opened: "已转为线索并启动识别",
    WarningOutcome.joined: "已并入在办案件",
    WarningOutcome.below_threshold: "未达预警标准",
    WarningOutcome.unknown_person: "查无此人",
    WarningOutcome.duplicate: "重复预警",
    WarningOutcome.invalid: "数据有误",
}
LATE_CASES_SHOWN = 200


@dataclass(frozen=True)
class Window:
    scope: str
    from_date: date
    as_of: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.from_date, time(), CHINA_TIME)

    @property
    def cutoff(self) -> datetime:
        """The end of `as_of`: what happened before this moment counts."""
        return datetime.combine(self.as_of + timedelta(days=1), time(), CHINA_TIME)

    def within(self, moment: Any) -> Any:
        return and_(moment >= self.start, moment < self.cutoff)

    @property
    def months(self) -> list[str]:
        months, month, last = [], period_of(self.from_date, 1), period_of(self.as_of, 1)
        while month <= last:
            months.append(month)
            month = next_period(month, 1)
        return months


def _counts(found: Counter[str], labels: dict[Any, str]) -> list[Count]:
    """Every known code (zero included), in the vocabulary's order, then any other found."""
    known = [str(code) for code in labels]
    return [
        Count(code=code, label=labels.get(code, code), count=found.get(code, 0))
        for code in [*known, *sorted(set(found) - set(known))]
    ]


def _month_of(moment: Any) -> Any:
    return func.to_char(func.timezone("Asia/Shanghai", moment), "YYYY-MM")


async def households(session: AsyncSession, window: Window) -> HouseholdCounts:
    """Each household's latest monitoring period begun by the cutoff: risk eliminated if that
    happened before the cutoff too."""
    latest = (
        select(
            col(MonitoringRecord.household_code),
            col(MonitoringRecord.risk_eliminated_at),
            col(MonitoringRecord.state)["category"].astext.label("category"),
            col(MonitoringRecord.state)["risk_types"].label("risk_types"),
        )
        .where(area_scope(MonitoringRecord, window.scope), col(MonitoringRecord.since) < window.cutoff)
        .distinct(col(MonitoringRecord.household_code))
        .order_by(col(MonitoringRecord.household_code), col(MonitoringRecord.since).desc())
        .subquery()
    )
    status = case(
        (latest.c.risk_eliminated_at < window.cutoff, literal(HouseholdStatus.risk_eliminated.value)),
        else_=literal(HouseholdStatus.risk_not_eliminated.value),
    )
    by_status: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    rows = await session.execute(
        select(status.label("status"), latest.c.category, func.count()).group_by(status, latest.c.category)
    )
    for row_status, category, count in rows.all():
        by_status[row_status] += count
        by_category[category or "none"] += count
    risk = func.jsonb_array_elements_text(latest.c.risk_types).table_valued("value").lateral("risk")
    risk_rows = await session.execute(
        select(risk.c.value, func.count()).select_from(latest).join(risk, literal(True)).group_by(risk.c.value)
    )
    statuses = {k: v for k, v in HOUSEHOLD_STATUS_LABELS.items() if k != HouseholdStatus.not_monitored}
    return HouseholdCounts(
        total=sum(by_status.values()),
        by_status=_counts(by_status, statuses),
        by_category=_counts(by_category, {**CATEGORY_LABELS, "none": "未定类别"}),
        by_risk_type=_counts(Counter(dict(risk_rows.all())), RISK_TYPE_LABELS),
    )


async def monthly_flows(session: AsyncSession, window: Window) -> list[MonthFlow]:
    flows = {month: {"identified": 0, "exited": 0} for month in window.months}
    for name, moment in (
        ("identified", col(MonitoringRecord.since)),
        ("exited", col(MonitoringRecord.risk_eliminated_at)),
    ):
        month = _month_of(moment)
        rows = await session.execute(
            select(month, func.count())
            .where(area_scope(MonitoringRecord, window.scope), window.within(moment))
            .group_by(month)
        )
        for found_month, count in rows.all():
            flows[found_month][name] = count
    return [MonthFlow(month=month, **counts) for month, counts in flows.items()]


async def identification_time(session: AsyncSession, window: Window) -> IdentificationTime:
    """Cases that made a household a monitoring target within the period, against each case's
    own identification deadline (`due_at`: the policy's 15 days from the lead)."""
    identified = and_(
        area_scope(CaseRecord, window.scope),
        col(CaseRecord.outcome) == Outcome.monitoring_target,
        window.within(col(CaseRecord.closed_at)),
    )
    days = extract("epoch", col(CaseRecord.closed_at) - col(CaseRecord.opened_at)) / 86400.0
    late = col(CaseRecord.closed_at) > col(CaseRecord.due_at)
    total, median, within = (
        await session.execute(
            select(
                func.count(),
                func.percentile_cont(0.5).within_group(cast(days, Float)),
                func.count().filter(~late),
            ).where(identified)
        )
    ).one()
    late_rows = await session.execute(
        select(
            col(CaseRecord.case_id),
            col(CaseRecord.household_code),
            col(CaseRecord.village_code),
            days,
            col(CaseRecord.due_at),
            col(CaseRecord.closed_at),
        )
        .where(identified, late)
        .order_by(col(CaseRecord.closed_at), col(CaseRecord.case_id))
        .limit(LATE_CASES_SHOWN)
    )
    return IdentificationTime(
        identified=total,
        median_days=round(median, 2) if median is not None else None,
        within_limit=within,
        within_limit_share=round(within / total, 4) if total else None,
        late=[
            LateCase(
                case_id=case_id,
                household_code=household,
                village_code=village,
                days=round(float(spent), 2),
                due_on=due.astimezone(CHINA_TIME).date(),
                closed_on=closed.astimezone(CHINA_TIME).date(),
            )
            for case_id, household, village, spent, due, closed in late_rows.all()
        ],
    )


def _latest_change(field: str, window: Window) -> Any:
    """The value `field` of a case took last before the cutoff, from the case's audit entries."""
    return (
        select(col(AuditEntry.after)[field].astext)
        .where(
            col(AuditEntry.subject_type) == "case",
            col(AuditEntry.subject_id) == col(CaseRecord.case_id),
            col(AuditEntry.at) < window.cutoff,
            col(AuditEntry.after).op("?")(field),
        )
        .order_by(col(AuditEntry.id).desc())
        .limit(1)
        .scalar_subquery()
    )


def _within(scope: str) -> Any:
    """Cases inside `scope`, named by every level of its code down to the scope's own (a village's
    county, township and village), so the index of open cases by area serves every level."""
    level = area_level(scope)
    conditions = [col(CaseRecord.county_code) == county_of(scope)]
    if level != AreaLevel.county:
        conditions.append(col(CaseRecord.township_code) == township_of(scope))
    if level == AreaLevel.village:
        conditions.append(col(CaseRecord.village_code) == scope)
    return and_(*conditions)


def _as_of(current: Any, from_audit: Any, window: Window) -> Any:
    """A case's value at the cutoff: its row's own when the row was last written before the cutoff
    (nothing has happened to the case since), else `from_audit`, read from its audit entries. Most
    cases on most days take the first branch, which looks nothing up."""
    return case((col(CaseRecord.updated_at) < window.cutoff, current), else_=from_audit)


async def open_cases(session: AsyncSession, window: Window) -> OpenCases:
    """Cases open at the cutoff, by the step each stood at then; overdue when the case's 15 days or
    its step's deadline had passed by then. Open at the cutoff: open now (the partial index of open
    cases by area), or closed since (the index by closing time)."""
    changed_step = func.coalesce(_latest_change("step", window), literal(Step.home_verification.value))
    step = _as_of(col(CaseRecord.step), changed_step, window)
    changed_due = cast(_latest_change("step_due_at", window), DateTime(timezone=True))
    step_due = _as_of(col(CaseRecord.step_due_at), changed_due, window)
    columns: tuple[Any, ...] = (
        step.label("step"),
        col(CaseRecord.due_at).label("due_at"),
        step_due.label("step_due_at"),
    )
    opened = and_(_within(window.scope), col(CaseRecord.opened_at) < window.cutoff)
    cases = union_all(
        select(*columns).where(opened, col(CaseRecord.closed_at).is_(None)),
        select(*columns).where(opened, col(CaseRecord.closed_at) >= window.cutoff),
    ).subquery()
    late = or_(cases.c.due_at < window.cutoff, func.coalesce(cases.c.step_due_at < window.cutoff, False))
    rows = (
        await session.execute(select(cases.c.step, func.count(), func.count().filter(late)).group_by(cases.c.step))
    ).all()
    found = {step_code: (count, overdue) for step_code, count, overdue in rows}
    steps = [s.value for s in Step if s != Step.closed]
    return OpenCases(
        open=sum(c for c, _ in found.values()),
        overdue=sum(o for _, o in found.values()),
        by_step=[
            StepCount(
                step=s, label=STEP_LABELS.get(s, s), open=found.get(s, (0, 0))[0], overdue=found.get(s, (0, 0))[1]
            )
            for s in [*steps, *sorted(set(found) - set(steps))]
        ],
    )


async def self_reports(session: AsyncSession, window: Window) -> SelfReportFigures:
    """Applications submitted within the period; accepted within the policy's days when decided by `due_at`."""
    decided = col(SelfReport.decided_at) < window.cutoff
    accepted = and_(col(SelfReport.status) == ApplicationStatus.accepted, decided)
    submitted, accepted_count, within, pending = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(accepted),
                func.count().filter(accepted, col(SelfReport.decided_at) <= col(SelfReport.due_at)),
                func.count().filter(or_(col(SelfReport.decided_at).is_(None), ~decided)),
            ).where(area_scope(SelfReport, window.scope), window.within(col(SelfReport.submitted_at)))
        )
    ).one()
    return SelfReportFigures(
        submitted=submitted,
        accepted=accepted_count,
        accepted_within_limit=within,
        within_limit_share=round(within / accepted_count, 4) if accepted_count else None,
        pending=pending,
    )


async def visits(session: AsyncSession, window: Window) -> VisitFigures:
    """The visit coverage of the months of the period (services/api/monitoring/service.py), as of the cutoff."""
    months = window.months
    coverage = await visit_coverage(session, window.scope, months[0], months[-1], as_of=window.cutoff)
    owed = sum(row.owed for row in coverage.rows)
    visited = sum(row.visited for row in coverage.rows)
    return VisitFigures(
        owed=owed,
        visited=visited,
        overdue=sum(row.overdue for row in coverage.rows),
        coverage=round(visited / owed, 4) if owed else None,
    )


async def measures(session: AsyncSession, window: Window) -> list[MeasureCount]:
    """Measures of plans submitted by the cutoff (not withdrawn); delivered by the delivery's day."""
    plan = (
        func.jsonb_array_elements(col(MonitoringRecord.state)["plans"])
        .table_valued(column("value", JSONB))
        .lateral("plan")
    )
    measure = (
        func.jsonb_array_elements(plan.c.value["measures"]).table_valued(column("value", JSONB)).lateral("measure")
    )
    kind = measure.c.value["kind"].astext
    delivered_on = cast(measure.c.value["delivery"]["delivered_on"].astext, String)
    last_day, first_day = window.as_of.isoformat(), window.from_date.isoformat()
    rows = await session.execute(
        select(
            kind,
            func.count(),
            func.count().filter(delivered_on <= last_day),
            func.count().filter(delivered_on >= first_day, delivered_on <= last_day),
        )
        .select_from(MonitoringRecord)
        .join(plan, literal(True))
        .join(measure, literal(True))
        .where(
            area_scope(MonitoringRecord, window.scope),
            cast(plan.c.value["submitted_at"].astext, DateTime(timezone=True)) < window.cutoff,
            measure.c.value["status"].astext != MeasureStatus.withdrawn.value,
        )
        .group_by(kind)
    )
    found = {k: (planned, delivered, in_period) for k, planned, delivered, in_period in rows.all()}
    kinds = [k.value for k in MeasureKind]
    return [
        MeasureCount(
            kind=k,
            label=MEASURE_KIND_LABELS.get(k, k),
            **dict(zip(("planned", "delivered", "delivered_in_period"), found.get(k, (0, 0, 0)), strict=True)),
        )
        for k in [*kinds, *sorted(set(found) - set(kinds))]
    ]


async def early_warnings(session: AsyncSession, window: Window) -> list[Count]:
    """Warnings received within the period. Below the county they count by the household they named
    (a warning that matched no household belongs to the county only)."""
    query = select(col(EarlyWarningRecord.outcome), func.count()).where(
        window.within(col(EarlyWarningRecord.received_at))
    )
    if area_level(window.scope) == AreaLevel.county:
        query = query.where(col(EarlyWarningRecord.county_code) == window.scope)
    else:
        query = query.join(Household, col(Household.code) == col(EarlyWarningRecord.household_code)).where(
            area_scope(Household, window.scope)
        )
    rows = await session.execute(query.group_by(col(EarlyWarningRecord.outcome)))
    return _counts(Counter(dict(rows.all())), WARNING_OUTCOME_LABELS)


async def statistics_of(session: AsyncSession, window: Window) -> Statistics:
    area = await session.get(Area, window.scope)
    return Statistics(
        area=window.scope,
        area_name=area.name if area else window.scope,
        from_date=window.from_date,
        as_of=window.as_of,
        households=await households(session, window),
        months=await monthly_flows(session, window),
        identification_time=await identification_time(session, window),
        open_cases=await open_cases(session, window),
        self_reports=await self_reports(session, window),
        visits=await visits(session, window),
        measures=await measures(session, window),
        early_warnings=await early_warnings(session, window),
    )
