"""Every record of a county as the province exchange carries it (docs/province-exchange.md):
households, members, monitoring periods (category and risks), measures, visits and status
changes, each with a stable key. An export compares them with what the platform has
acknowledged and sends those that differ, so nothing depends on timestamps of the many tables
it reads: a record changed in any way is sent again, an unchanged one never."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db.tables import CaseRecord, Household, Member, MonitoringRecord, VisitRecord
from services.domain.province.exchange_format import ExchangeRecord, RecordKind
from services.domain.vocabulary import HouseholdStatus, Outcome

_HOUSEHOLD_FIELDS = (
    "code", "county_code", "township_code", "village_code", "head_name", "address", "phone", "category", "status",
    "formerly_poor", "poverty_exit_year", "minimum_living_allowance", "extreme_poverty_support", "disabled_member",
    "merged_into",
)  # fmt: skip
_MEMBER_FIELDS = (
    "household_code", "name", "id_number", "relation", "sex", "birth_date", "labour_capacity", "health",
    "disability", "schooling", "joined_on", "ended_on",
)  # fmt: skip


def _fields(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(row, name)) for name in names}


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


async def county_records(session: AsyncSession, county_code: str) -> list[ExchangeRecord]:
    records: list[ExchangeRecord] = []
    households = (await session.scalars(select(Household).where(col(Household.county_code) == county_code))).all()
    records += [ExchangeRecord(RecordKind.household, h.code, _fields(h, _HOUSEHOLD_FIELDS)) for h in households]
    members = await session.scalars(
        select(Member)
        .join(Household, col(Household.code) == col(Member.household_code))
        .where(col(Household.county_code) == county_code)
    )
    records += [ExchangeRecord(RecordKind.member, str(m.id), _fields(m, _MEMBER_FIELDS)) for m in members]
    periods = await session.scalars(select(MonitoringRecord).where(col(MonitoringRecord.county_code) == county_code))
    for period in periods:
        records += list(_period_records(period.monitoring_id, period.household_code, period.state))
    visits = await session.scalars(
        select(VisitRecord)
        .join(MonitoringRecord, col(MonitoringRecord.monitoring_id) == col(VisitRecord.monitoring_id))
        .where(col(MonitoringRecord.county_code) == county_code)
    )
    records += [
        ExchangeRecord(
            RecordKind.visit,
            f"{v.monitoring_id}:{v.visit_no}",
            {
                "monitoring_id": v.monitoring_id,
                "household_code": v.household_code,
                "period": v.period,
                "visited_on": v.visited_on.isoformat(),
                "visitors": v.visitors,
                "findings": v.findings,
                "per_capita_net_income": v.per_capita_net_income,
                "living_conditions": v.living_conditions,
                "new_risks": v.new_risks,
            },
        )
        for v in visits
    ]
    identified = await session.execute(
        select(
            col(CaseRecord.case_id), col(CaseRecord.household_code), col(CaseRecord.closed_at), col(CaseRecord.state)
        ).where(col(CaseRecord.county_code) == county_code, col(CaseRecord.outcome) == Outcome.monitoring_target)
    )
    for case_id, household_code, closed_at, state in identified:
        category = (state.get("verification") or {}).get("proposed_category")
        records.append(
            _status_change(
                f"case:{case_id}",
                household_code,
                HouseholdStatus.risk_not_eliminated,
                closed_at,
                "识别认定为监测对象",
                category,
            )
        )
    records.sort(key=lambda r: (list(RecordKind).index(r.kind), r.key))
    return records


def _period_records(monitoring_id: str, household_code: str, state: dict[str, Any]) -> Iterator[ExchangeRecord]:
    yield ExchangeRecord(
        RecordKind.monitoring,
        monitoring_id,
        {
            "household_code": household_code,
            "status": state.get("status"),
            "category": state.get("category"),
            "risk_types": state.get("risk_types") or [],
            "since": state.get("since"),
            "per_capita_net_income": state.get("per_capita_net_income"),
            "support_person": ((state.get("support_people") or [{}])[-1] or {}).get("display_name"),
            "risks": [
                {k: r.get(k) for k in ("risk_id", "risk_types", "found_at", "closed_at", "confirmed")}
                for r in state.get("risks") or []
            ],
            "risk_eliminated_at": state.get("risk_eliminated_at"),
        },
    )
    for plan in state.get("plans") or []:
        for measure in plan.get("measures") or []:
            yield ExchangeRecord(
                RecordKind.measure,
                f"{monitoring_id}:{plan['plan_no']}:{measure['measure_id']}",
                {
                    "monitoring_id": monitoring_id,
                    "household_code": household_code,
                    "plan_no": plan["plan_no"],
                    "kind": measure.get("kind"),
                    "content": measure.get("content"),
                    "owner": measure.get("owner"),
                    "starts_on": measure.get("starts_on"),
                    "status": measure.get("status"),
                    "delivered_on": (measure.get("delivery") or {}).get("delivered_on"),
                },
            )
    for exit_ in state.get("exits") or []:
        key = f"{monitoring_id}:{exit_['exit_no']}"
        if exit_.get("outcome") == "risk_eliminated":
            yield _status_change(
                f"exit:{key}",
                household_code,
                HouseholdStatus.risk_eliminated,
                exit_.get("closed_at"),
                "标注风险消除",
                state.get("category"),
            )
        if exit_.get("reversed_at"):
            reason = f"风险消除回退：{(exit_.get('reversal') or {}).get('reason', '')}"
            yield _status_change(
                f"reversal:{key}",
                household_code,
                HouseholdStatus.risk_not_eliminated,
                exit_["reversed_at"],
                reason,
                state.get("category"),
            )


def _status_change(
    key: str, household_code: str, status: HouseholdStatus, at: Any, reason: str, category: str | None
) -> ExchangeRecord:
    return ExchangeRecord(
        RecordKind.status_change,
        key,
        {
            "household_code": household_code,
            "status": status.value,
            "changed_at": _plain(at),
            "reason": reason,
            "category": category,
        },
    )
