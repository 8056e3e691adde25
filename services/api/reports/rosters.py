"""The rosters (台账): which rows each one holds, in which columns, with which filters.

Each roster is one query. `roster_query` renders its rows as worksheet XML in the database
(services/api/reports/sql_cells.py); `plain_query` is the same rows and columns as plain values
(what the bench hands to `COPY … TO` as the baseline). Personal data is whole only for the
readers who act on the households (services/api/access.py::CASEWORK_ROLES), masked otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, Select, and_, cast, column, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from services.api.access import area_scope
from services.api.reports.sql_cells import (
    Column,
    china_date,
    label,
    masked_id_number,
    masked_phone,
    row_xml,
    yes_no,
)
from services.db.tables import (
    Area,
    CaseRecord,
    FollowUpVisitRecord,
    Household,
    Member,
    MonitoringRecord,
    VisitRecord,
)
from services.domain.identification.procedure import STEP_LABELS
from services.domain.monitoring.vocabulary import MEASURE_KIND_LABELS, MEASURE_STATUS_LABELS
from services.domain.months import CHINA_TIME
from services.domain.vocabulary import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    HOUSEHOLD_STATUS_LABELS,
    OUTCOME_LABELS,
    HouseholdStatus,
)

HEAD = "户主"


class RosterKind(StrEnum):
    monitoring_targets = "monitoring_targets"
    formerly_poor = "formerly_poor"
    visits = "visits"
    measures = "measures"
    cases = "cases"


ROSTER_TITLES = {
    RosterKind.monitoring_targets: "监测对象台账",
    RosterKind.formerly_poor: "脱贫户台账",
    RosterKind.visits: "走访台账",
    RosterKind.measures: "帮扶措施台账",
    RosterKind.cases: "识别认定案件台账",
}


@dataclass(frozen=True)
class RosterFilter:
    scope: str  # an area the reader may list
    whole_personal_data: bool
    status: HouseholdStatus | None = None
    from_date: date | None = None  # each roster's own date: identified, visited, started, opened
    to_date: date | None = None


@dataclass(frozen=True)
class RosterShape:
    columns: list[Column]
    rows: Select[Any]  # FROM, WHERE and ORDER BY; its columns are replaced by the roster's


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), CHINA_TIME)


def _moment_between(moment: Any, wanted: RosterFilter) -> list[ColumnElement[bool]]:
    conditions = []
    if wanted.from_date is not None:
        conditions.append(moment >= _day_start(wanted.from_date))
    if wanted.to_date is not None:
        conditions.append(moment < _day_start(wanted.to_date + timedelta(days=1)))
    return conditions


def _day_between(day: Any, wanted: RosterFilter) -> list[ColumnElement[bool]]:
    conditions = []
    if wanted.from_date is not None:
        conditions.append(day >= wanted.from_date)
    if wanted.to_date is not None:
        conditions.append(day <= wanted.to_date)
    return conditions


def _person_columns(wanted: RosterFilter, id_number: Any, phone: Any) -> list[Column]:
    shown = (id_number, phone) if wanted.whole_personal_data else (masked_id_number(id_number), masked_phone(phone))
    return [Column("户主身份证号", shown[0]), Column("联系电话", shown[1])]


def _household_base(wanted: RosterFilter) -> tuple[Any, list[Column], Any]:
    """Households with their township, village and current head (an outer join: a household always
    shows), and the columns that name a household in every roster."""
    village, township = aliased(Area), aliased(Area)
    head = aliased(Member)
    joined = (
        select(Household)
        .join(village, col(village.code) == col(Household.village_code))
        .join(township, col(township.code) == col(Household.township_code))
        .outerjoin(
            head,
            and_(
                col(head.household_code) == col(Household.code),
                col(head.relation) == HEAD,
                col(head.ended_on).is_(None),
            ),
        )
        .where(area_scope(Household, wanted.scope))
    )
    identity = [
        Column("户编号", col(Household.code)),
        Column("乡镇", township.name),
        Column("行政村", village.name),
        Column("户主姓名", col(Household.head_name)),
    ]
    return joined, identity, head


def _monitoring_targets(wanted: RosterFilter) -> RosterShape:
    rows, identity, head = _household_base(wanted)
    latest = (
        select(col(MonitoringRecord.since), col(MonitoringRecord.risk_eliminated_at))
        .where(col(MonitoringRecord.household_code) == col(Household.code))
        .order_by(col(MonitoringRecord.since).desc())
        .limit(1)
        .lateral("latest")
    )
    rows = rows.outerjoin(latest, literal(True))
    statuses = (
        [wanted.status] if wanted.status else [HouseholdStatus.risk_not_eliminated, HouseholdStatus.risk_eliminated]
    )
    rows = rows.where(col(Household.status).in_(statuses), *_moment_between(latest.c.since, wanted))
    columns = [
        *identity,
        *_person_columns(wanted, head.id_number, col(Household.phone)),
        Column("监测对象类别", label(col(Household.category), CATEGORY_LABELS)),
        Column("风险状态", label(col(Household.status), HOUSEHOLD_STATUS_LABELS)),
        Column("纳入监测日期", china_date(latest.c.since)),
        Column("风险消除日期", china_date(latest.c.risk_eliminated_at)),
        Column("脱贫户", yes_no(col(Household.formerly_poor))),
    ]
    return RosterShape(columns, rows.order_by(col(Household.code)))


def _formerly_poor(wanted: RosterFilter) -> RosterShape:
    rows, identity, head = _household_base(wanted)
    rows = rows.where(col(Household.formerly_poor))
    if wanted.status is not None:
        rows = rows.where(col(Household.status) == wanted.status)
    columns = [
        *identity,
        *_person_columns(wanted, head.id_number, col(Household.phone)),
        Column("脱贫年度", col(Household.poverty_exit_year), number=True),
        Column("低保", yes_no(col(Household.minimum_living_allowance))),
        Column("特困供养", yes_no(col(Household.extreme_poverty_support))),
        Column("有残疾成员", yes_no(col(Household.disabled_member))),
        Column("监测状态", label(col(Household.status), HOUSEHOLD_STATUS_LABELS)),
    ]
    return RosterShape(columns, rows.order_by(col(Household.code)))


def _joined_names(names: Any, source: Any) -> ColumnElement[Any]:
    """A JSON list of names as one text: 张三、李四."""
    each = func.jsonb_array_elements_text(names).table_valued("value")
    return select(func.string_agg(each.c.value, "、")).select_from(each).correlate(source).scalar_subquery()


def _visits(wanted: RosterFilter) -> RosterShape:
    """Visits to monitoring targets and to followed households (脱贫户, risk eliminated), one table."""
    monitored: Any = select(
        col(VisitRecord.household_code).label("household_code"),
        col(VisitRecord.visited_on).label("visited_on"),
        col(VisitRecord.visitors).label("visitors"),
        col(VisitRecord.findings).label("findings"),
        col(VisitRecord.per_capita_net_income).label("income"),
        literal("监测对象").label("population"),
    )
    followed = select(
        col(FollowUpVisitRecord.household_code),
        col(FollowUpVisitRecord.visited_on),
        col(FollowUpVisitRecord.visitors),
        col(FollowUpVisitRecord.findings),
        literal(None).label("income"),
        literal("常态化走访").label("population"),
    )
    visits = union_all(monitored, followed).subquery("visits")
    rows, identity, _ = _household_base(wanted)
    rows = rows.join(visits, visits.c.household_code == col(Household.code)).where(
        *_day_between(visits.c.visited_on, wanted)
    )
    if wanted.status is not None:
        rows = rows.where(col(Household.status) == wanted.status)
    columns = [
        *identity,
        Column("走访对象", visits.c.population),
        Column("走访日期", visits.c.visited_on),
        Column("走访人员", _joined_names(visits.c.visitors, visits)),
        Column("走访情况", visits.c.findings),
        Column("人均纯收入（元）", visits.c.income, number=True),
    ]
    return RosterShape(columns, rows.order_by(visits.c.visited_on, col(Household.code)))


def _measures(wanted: RosterFilter) -> RosterShape:
    """Every measure of every plan of the monitoring periods in the area."""
    plan = (
        func.jsonb_array_elements(col(MonitoringRecord.state)["plans"])
        .table_valued(column("value", JSONB), with_ordinality="ordinality")
        .lateral("plan")
    )
    measure = (
        func.jsonb_array_elements(plan.c.value["measures"])
        .table_valued(column("value", JSONB), with_ordinality="ordinality")
        .lateral("measure")
    )
    rows, identity, _ = _household_base(wanted)
    rows = (
        rows.join(MonitoringRecord, col(MonitoringRecord.household_code) == col(Household.code))
        .join(plan, literal(True))
        .join(measure, literal(True))
    )
    starts_on = measure.c.value["starts_on"].astext
    rows = rows.where(*_day_between(cast(starts_on, Date), wanted))
    if wanted.status is not None:
        rows = rows.where(col(Household.status) == wanted.status)
    columns = [
        *identity,
        Column("计划序号", plan.c.value["plan_no"].astext),
        Column("措施类别", label(measure.c.value["kind"].astext, MEASURE_KIND_LABELS)),
        Column("措施内容", measure.c.value["content"].astext),
        Column("责任单位或责任人", measure.c.value["owner"].astext),
        Column("开始日期", starts_on),
        Column("状态", label(measure.c.value["status"].astext, MEASURE_STATUS_LABELS)),
        Column("落实日期", measure.c.value["delivery"]["delivered_on"].astext),
    ]
    order = (col(Household.code), col(MonitoringRecord.since), plan.c.ordinality, measure.c.ordinality)
    return RosterShape(columns, rows.order_by(*order))


def _cases(wanted: RosterFilter) -> RosterShape:
    rows, identity, _ = _household_base(wanted)
    rows = rows.join(CaseRecord, col(CaseRecord.household_code) == col(Household.code)).where(
        area_scope(CaseRecord, wanted.scope), *_moment_between(col(CaseRecord.opened_at), wanted)
    )
    late = func.coalesce(col(CaseRecord.closed_at), func.now()) > col(CaseRecord.due_at)
    columns = [
        Column("案件编号", col(CaseRecord.case_id)),
        *identity,
        Column("线索来源", label(col(CaseRecord.channel), CHANNEL_LABELS)),
        Column("当前环节", label(col(CaseRecord.step), STEP_LABELS)),
        Column("办理结果", label(col(CaseRecord.outcome), OUTCOME_LABELS)),
        Column("启动日期", china_date(col(CaseRecord.opened_at))),
        Column("办结日期", china_date(col(CaseRecord.closed_at))),
        Column("识别期限", china_date(col(CaseRecord.due_at))),
        Column("超过15天时限", yes_no(late)),
    ]
    return RosterShape(columns, rows.order_by(col(CaseRecord.opened_at), col(CaseRecord.case_id)))


_SHAPES: dict[RosterKind, Callable[[RosterFilter], RosterShape]] = {
    RosterKind.monitoring_targets: _monitoring_targets,
    RosterKind.formerly_poor: _formerly_poor,
    RosterKind.visits: _visits,
    RosterKind.measures: _measures,
    RosterKind.cases: _cases,
}


def roster_shape(kind: RosterKind, wanted: RosterFilter) -> RosterShape:
    return _SHAPES[kind](wanted)


def roster_query(shape: RosterShape) -> Select[Any]:
    """One string per row: the row as worksheet XML."""
    return shape.rows.with_only_columns(row_xml(shape.columns), maintain_column_froms=False)


def plain_query(shape: RosterShape) -> Select[Any]:
    """The same rows and columns as plain values."""
    return shape.rows.with_only_columns(
        *(c.value.label(f"c{i}") for i, c in enumerate(shape.columns)), maintain_column_froms=False
    )
