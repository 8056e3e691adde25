"""A department's early-warning batch (INTERFACES.md §3): every warning kept, with its outcome.

Per batch: one query finds the sending department (its signature picks it among the
departments of that kind), one finds which warning ids were already received, one
matches the ID numbers to members of households in the department's county (with
whether each household has an open case), and one insert keeps every warning. A
warning that becomes a lead is handed to a case (opened, or joined) by the worker's
forwarder (services/workers/departments/inbox.py), notified in the same transaction.

`opened`/`joined` are decided here from the read model: a case opened elsewhere in the
same instant can turn an `opened` into a join; the warning's row then records what
happened (`delivered_as`, `case_id`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.api.departments.signatures import Signer as Sender
from services.api.departments.signatures import require_fresh_timestamp, signature_refused, signing_department
from services.api.errors import ApiError, described_errors, invalid
from services.api.registry.policies import current_policy
from services.departments.contract import EarlyWarning, EarlyWarningBatch
from services.departments.inbox_channel import WARNINGS, notify_sql
from services.departments.secret_box import SecretBox
from services.domain.departments.early_warning import amount_threshold, becomes_lead, is_low_income, kind_refused
from services.domain.form_fields import printable, storable_json
from services.domain.household_register import FLAG_NAMES, HouseholdFlags
from services.domain.policy import Policy
from services.domain.vocabulary import DepartmentKind, WarningOutcome

_RECEIVED = text("""
    SELECT warning_id FROM early_warnings
    WHERE department_id = :department_id AND warning_id = ANY(CAST(:warning_ids AS text[])) AND outcome <> 'invalid'
""")
_PEOPLE = text("""
    SELECT m.id_number, h.code, h.status, h.category, h.formerly_poor, h.poverty_exit_year,
           h.minimum_living_allowance, h.extreme_poverty_support, h.disabled_member,
           EXISTS (SELECT 1 FROM case_records c WHERE c.household_code = h.code AND c.closed_at IS NULL) AS open_case
    FROM members m JOIN households h ON h.code = m.household_code
    WHERE m.id_number = ANY(CAST(:id_numbers AS text[])) AND m.ended_on IS NULL AND h.county_code = :county_code
""")
_COLUMNS = (
    "warning_id",
    "id_number",
    "kind",
    "amount",
    "occurred_on",
    "detail",
    "raw",
    "outcome",
    "reason",
    "household_code",
    "low_income",
    "threshold",
)
_TYPES = ("text", "text", "text", "float8", "date", "text", "text", "text", "text", "text", "bool", "float8")
_KEEP = text(f"""
    INSERT INTO early_warnings (department_id, department, county_code, task_queue, {", ".join(_COLUMNS)})
    SELECT :department_id, :department, :county_code, :task_queue,
           {", ".join(f"u.{c}::jsonb" if c == "raw" else f"u.{c}" for c in _COLUMNS)}
    FROM unnest({", ".join(f"CAST(:{c} AS {t}[])" for c, t in zip(_COLUMNS, _TYPES, strict=True))})
         AS u({", ".join(_COLUMNS)})
    ON CONFLICT (department_id, warning_id) WHERE outcome <> 'invalid' DO NOTHING
    RETURNING warning_id
""")
_NOTIFY = text(f"SELECT {notify_sql(WARNINGS)}")
_KINDS = {str(k) for k in DepartmentKind}


@dataclass
class Judged:
    """One warning of the batch and what became of it."""

    index: int
    outcome: WarningOutcome
    warning: EarlyWarning | None = None
    raw: Any = None
    reason: str | None = None
    household_code: str | None = None
    low_income: bool | None = None
    threshold: float | None = None
    kept: bool = field(default=False)

    def answer(self) -> dict[str, Any]:
        warning_id = self.warning.warning_id if self.warning else _raw_warning_id(self.raw)
        answer: dict[str, Any] = {"index": self.index, "warning_id": warning_id, "outcome": self.outcome}
        if self.reason:
            answer["reason"] = self.reason
        return answer


async def receive_batch(
    engine: AsyncEngine, box: SecretBox, task_queue: str, headers: Any, body: bytes
) -> dict[str, Any]:
    require_fresh_timestamp(headers)  # size and depth: services/api/request_guards.py
    envelope = _json(body)
    kind = envelope.get("department") if isinstance(envelope, dict) else None
    async with engine.begin() as conn:
        sender = await _sender(conn, box, kind, headers, body)
        try:
            batch = EarlyWarningBatch.model_validate(envelope)
        except ValidationError as error:
            summary, items = described_errors(list(error.errors()))
            raise ApiError(422, "invalid", summary, errors=items) from None
        judged = await _judge(conn, sender, batch.warnings, await current_policy(conn))
        await _keep(conn, sender, task_queue, judged)
    return {"department": sender.kind, "received": len(judged), "outcomes": [j.answer() for j in judged]}


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise invalid("请求", "请求内容不是有效的 JSON") from None


async def _sender(conn: AsyncConnection, box: SecretBox, kind: Any, headers: Any, body: bytes) -> Sender:
    """The department whose secret signed the batch, among those of the kind it names."""
    if not isinstance(kind, str) or kind not in _KINDS:  # no department of such a kind exists
        raise signature_refused()
    return await signing_department(conn, box, headers, body, kind=kind, enabled_only=True)


def _raw_warning_id(raw: Any) -> str | None:
    """A rejected warning's id as sent, as far as it can be stored and answered."""
    value = raw.get("warning_id") if isinstance(raw, dict) else None
    return printable(value, 100) if isinstance(value, str) else None


async def _judge(conn: AsyncConnection, sender: Sender, warnings: list[Any], policy: Policy) -> list[Judged]:
    judged: list[Judged] = []
    for index, raw in enumerate(warnings):
        try:
            checked = EarlyWarning.model_validate(raw)
        except ValidationError as error:
            summary, _ = described_errors(list(error.errors()))
            judged.append(Judged(index, WarningOutcome.invalid, raw=raw, reason=summary))
            continue
        refused = kind_refused(DepartmentKind(sender.kind), checked.kind)
        if refused is not None:  # a kind another department sends: malformed for this one
            judged.append(Judged(index, WarningOutcome.invalid, raw=raw, reason=refused))
        else:
            judged.append(Judged(index, WarningOutcome.below_threshold, warning=checked))
    valid = [j for j in judged if j.warning is not None]
    received = set(
        (
            await conn.execute(
                _RECEIVED,
                {"department_id": sender.id, "warning_ids": [j.warning.warning_id for j in valid if j.warning]},
            )
        ).scalars()
    )
    people = {
        row.id_number: row
        for row in await conn.execute(
            _PEOPLE,
            {
                "id_numbers": sorted({j.warning.id_number for j in valid if j.warning}),
                "county_code": sender.county_code,
            },
        )
    }
    seen: set[str] = set()
    households_with_case: set[str] = {p.code for p in people.values() if p.open_case}
    for item in valid:
        warning = item.warning
        assert warning is not None
        if warning.warning_id in received or warning.warning_id in seen:
            item.outcome = WarningOutcome.duplicate
            continue
        seen.add(warning.warning_id)
        person = people.get(warning.id_number)
        if person is None:  # no household of this county holds the ID number
            item.outcome = WarningOutcome.unknown_person
            continue
        item.household_code = person.code
        flags = HouseholdFlags.model_validate({name: getattr(person, name) for name in FLAG_NAMES})
        item.low_income = is_low_income(person.status, person.category, flags)
        item.threshold = amount_threshold(policy, warning.kind, item.low_income)
        if not becomes_lead(policy, warning.kind, warning.amount, item.low_income):
            item.outcome = WarningOutcome.below_threshold
        elif person.code in households_with_case:
            item.outcome = WarningOutcome.joined
        else:
            item.outcome = WarningOutcome.opened
            households_with_case.add(person.code)
    return judged


async def _keep(conn: AsyncConnection, sender: Sender, task_queue: str, judged: list[Judged]) -> None:
    """Keeps every warning but the duplicates (a repeated warning_id changes nothing)."""
    kept = [j for j in judged if j.outcome != WarningOutcome.duplicate]
    if not kept:
        return
    columns: dict[str, list[Any]] = {c: [] for c in _COLUMNS}
    for item in kept:
        warning = item.warning
        values = {
            "warning_id": warning.warning_id if warning else _raw_warning_id(item.raw),
            "id_number": warning.id_number if warning else None,
            "kind": warning.kind.value if warning else None,
            "amount": warning.amount if warning else None,
            "occurred_on": warning.occurred_on if warning else None,
            "detail": warning.detail if warning else None,
            "raw": None if warning else json.dumps(storable_json(item.raw), ensure_ascii=False),
            "outcome": item.outcome.value,
            "reason": item.reason[:1000] if item.reason else None,
            "household_code": item.household_code,
            "low_income": item.low_income,
            "threshold": item.threshold,
        }
        for column, value in values.items():
            columns[column].append(value)
    inserted = set(
        (
            await conn.execute(
                _KEEP,
                {
                    "department_id": sender.id,
                    "department": sender.kind,
                    "county_code": sender.county_code,
                    "task_queue": task_queue,
                    **columns,
                },
            )
        ).scalars()
    )
    for item in kept:  # received by a concurrent batch in the same instant
        if item.warning is not None and item.warning.warning_id not in inserted:
            item.outcome = WarningOutcome.duplicate
    if any(j.outcome in (WarningOutcome.opened, WarningOutcome.joined) for j in kept):
        await conn.execute(_NOTIFY)
