"""The records of a county the platform does not hold yet as they are now
(docs/province-exchange.md): households, members, monitoring periods (category and risks),
measures, visits and status changes, each with a stable key and a hash of its content. A
record is due when its hash differs from the one the platform acknowledged (`province_sent`),
so nothing depends on timestamps of the many tables read: a record changed in any way is sent
again, an unchanged one never.

Households and members, the bulk of a county (hundreds of thousands of rows), are built, hashed
and compared inside PostgreSQL, which answers only the rows that changed; the monitoring side
(a few thousand periods, their plans and exits nested in the read model's JSON) in Python."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.db.province import ProvinceSent
from services.db.tables import CaseRecord, MonitoringRecord, VisitRecord
from services.domain.province.exchange_format import ExchangeRecord, RecordKind, record
from services.domain.vocabulary import HouseholdStatus, Outcome

# The hash is PostgreSQL's jsonb text of the record: the same content gives the same text.
_CHANGED_ROWS = """
    SELECT r.key, r.data, r.hash FROM (
        SELECT {key} AS key, d.data, encode(sha256(convert_to(d.data, 'UTF8')), 'hex') AS hash
        FROM {source} CROSS JOIN LATERAL (SELECT jsonb_build_object({fields})::text AS data) AS d
        WHERE {county}
    ) AS r
    LEFT JOIN province_sent s ON s.county_code = :county AND s.kind = :kind AND s.key = r.key
    WHERE s.content_hash IS DISTINCT FROM r.hash
"""  # unordered: the batch is sorted once, in Python, with the other kinds
_HOUSEHOLD_FIELDS = (
    "code", "county_code", "township_code", "village_code", "head_name", "address", "phone", "category", "status",
    "formerly_poor", "poverty_exit_year", "minimum_living_allowance", "extreme_poverty_support", "disabled_member",
    "merged_into",
)  # fmt: skip
_MEMBER_FIELDS = (
    "household_code", "name", "id_number", "relation", "sex", "birth_date", "labour_capacity", "health",
    "disability", "schooling", "joined_on", "ended_on",
)  # fmt: skip


def _changed_rows(key: str, source: str, alias: str, fields: tuple[str, ...]) -> Any:
    built = ", ".join(f"'{name}', {alias}.{name}" for name in fields)
    return text(_CHANGED_ROWS.format(key=key, source=source, county="h.county_code = :county", fields=built))


_HOUSEHOLDS = _changed_rows("h.code", "households h", "h", _HOUSEHOLD_FIELDS)
_MEMBERS = _changed_rows("m.id::text", "members m JOIN households h ON h.code = m.household_code", "m", _MEMBER_FIELDS)


async def due_records(session: AsyncSession, county_code: str) -> list[ExchangeRecord]:
    records: list[ExchangeRecord] = []
    for kind, statement in ((RecordKind.household, _HOUSEHOLDS), (RecordKind.member, _MEMBERS)):
        rows = await session.execute(statement, {"county": county_code, "kind": kind.value})
        records += [ExchangeRecord(kind, key, data, hash_) for key, data, hash_ in rows]
    sent = {
        (kind, key): hash_
        for kind, key, hash_ in await session.execute(
            select(col(ProvinceSent.kind), col(ProvinceSent.key), col(ProvinceSent.content_hash)).where(
                col(ProvinceSent.county_code) == county_code,
                col(ProvinceSent.kind).not_in([RecordKind.household, RecordKind.member]),
            )
        )
    }
    records += [
        r for r in await _monitoring_records(session, county_code) if sent.get((r.kind, r.key)) != r.content_hash
    ]
    records.sort(key=lambda r: (list(RecordKind).index(r.kind), r.key))
    return records


async def _monitoring_records(session: AsyncSession, county_code: str) -> list[ExchangeRecord]:
    records: list[ExchangeRecord] = []
    periods = await session.execute(
        select(
            col(MonitoringRecord.monitoring_id), col(MonitoringRecord.household_code), col(MonitoringRecord.state)
        ).where(col(MonitoringRecord.county_code) == county_code)
    )
    for monitoring_id, household_code, state in periods:
        records += list(_period_records(monitoring_id, household_code, state))
    visits = await session.scalars(
        select(VisitRecord)
        .join(MonitoringRecord, col(MonitoringRecord.monitoring_id) == col(VisitRecord.monitoring_id))
        .where(col(MonitoringRecord.county_code) == county_code)
    )
    records += [
        record(
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
                closed_at.isoformat() if closed_at else None,
                "识别认定为监测对象",
                category,
            )
        )
    return records


def _period_records(monitoring_id: str, household_code: str, state: dict[str, Any]) -> Iterator[ExchangeRecord]:
    yield record(
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
            yield record(
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
    key: str, household_code: str, status: HouseholdStatus, at: str | None, reason: str, category: str | None
) -> ExchangeRecord:
    return record(
        RecordKind.status_change,
        key,
        {
            "household_code": household_code,
            "status": status.value,
            "changed_at": at,
            "reason": reason,
            "category": category,
        },
    )
