"""Idempotent writes shared by the activities that record workflow events.

An audit entry is keyed by (record id, seq), so a retried activity never writes it
twice; a read-model row only moves forward (an older event never overwrites a newer
one, whatever order retries land in).

The statements are built once per model and column set, their values bound at execution. Built
at every event, their cache keys, and a whole compile of each multi-row VALUES (SQLAlchemy does not
cache those: "no key"), took two thirds of the CPU of recording a case event (bench/record_statements.py).
Any number of rows goes through one constant statement (`unnest_rows`), in one round trip as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import ARRAY, Select, String, Table, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.types import VARCHAR, TypeEngine
from sqlmodel import col
from sqlmodel.sql.sqltypes import AutoString

from services.db.tables import AuditEntry, Household
from services.domain.identification.state import RecordedEvent

_AUDIT_COLUMNS = (
    "case_id",
    "seq",
    "subject_type",
    "subject_id",
    "action",
    "actor_username",
    "actor_role",
    "actor_area_code",
    "at",
    "data",
    "before",
    "after",
)


def audit_entry(gate: Any = None) -> Insert:
    """The append-only audit row of an event (parameters `audit_<column>`, `audit_params`), written
    only under `gate` (none: always)."""
    values = select(*(bindparam(f"audit_{c}", type_=AuditEntry.__table__.c[c].type) for c in _AUDIT_COLUMNS))  # type: ignore[attr-defined]
    return (
        insert(AuditEntry)
        .from_select(_AUDIT_COLUMNS, values if gate is None else values.where(gate), include_defaults=False)
        .on_conflict_do_nothing(constraint="uq_audit_case_seq")
    )


# A household's status and category as a workflow settles them (`household_params`).
HOUSEHOLD_STATUS = (
    update(Household)
    .where(col(Household.code) == bindparam("household"))
    .values(status=bindparam("household_status"), category=bindparam("household_category"))
)


def audit_params(subject_type: str, record_id: str, event: RecordedEvent) -> dict[str, Any]:
    """The audit entry of `event`, filed under a case's or a monitoring period's id (`subject_type`
    `case` or `monitoring`), with what the event changed where the workflow works it out."""
    entry = {
        "case_id": record_id,
        "seq": event.seq,
        "subject_type": subject_type,
        "subject_id": record_id,
        "action": event.action,
        "actor_username": event.actor.username,
        "actor_role": event.actor.role,
        "actor_area_code": event.actor.area_code,
        "at": event.at,
        "data": event.data,
        "before": event.before,
        "after": event.after,
    }
    return {f"audit_{column}": entry[column] for column in _AUDIT_COLUMNS}


def _array_type(column_type: TypeEngine[Any]) -> ARRAY[Any]:
    # Strings unsized: a cast to varchar(n) would cut an over-long value where the insert refuses it.
    # Only plain strings (SQLModel's AutoString wraps one): an enum or a type that converts its
    # values keeps its own type, conversion included.
    base = column_type.impl_instance if isinstance(column_type, AutoString) else column_type
    return ARRAY(String() if type(base) in (String, VARCHAR) else column_type)


def unnest_rows(table: Table, columns: tuple[str, ...], prefix: str = "rows") -> Select[Any]:
    """The rows passed column by column, as one array parameter `<prefix>_<column>` each
    (`row_arrays`): one constant statement for any number of rows."""
    arrays = []
    for name in columns:
        array_type = _array_type(table.c[name].type)
        arrays.append(cast(bindparam(f"{prefix}_{name}", type_=array_type), array_type))
    unnested = func.unnest(*arrays).table_valued(*columns).render_derived()
    return select(*(unnested.c[name] for name in columns))


def row_arrays(rows: list[dict[str, Any]], columns: tuple[str, ...], prefix: str = "rows") -> dict[str, list[Any]]:
    """The parameters of `unnest_rows` for `rows`, which hold exactly these columns (none left out unseen)."""
    expected = set(columns)
    if any(row.keys() != expected for row in rows):
        raise ValueError(f"rows must hold exactly the columns {columns}")
    return {f"{prefix}_{name}": [row[name] for row in rows] for name in columns}


def _moving_forward(upsert: Insert, model: Any, keys: tuple[str, ...], columns: Iterable[str]) -> Insert:
    """`upsert` made to update the existing row instead where the new row's `last_seq` is newer."""
    excluded = upsert.excluded
    updated = {k: excluded[k] for k in columns if k not in keys}
    if "updated_at" in model.__table__.columns:
        updated["updated_at"] = excluded.updated_at
    return upsert.on_conflict_do_update(
        index_elements=[model.__table__.c[k] for k in keys],
        set_=updated,
        where=model.last_seq < excluded.last_seq,
    )


@cache
def _audited_row_upsert(model: Any, key: str, columns: tuple[str, ...]) -> ReturningInsert[Any]:
    upsert = insert(model).values({c: bindparam(c) for c in columns})
    audited = audit_entry().cte("audited")
    return _moving_forward(upsert, model, (key,), columns).returning(model.__table__.c[key]).add_cte(audited)


def rows_upsert(
    model: Any, keys: tuple[str, ...], columns: tuple[str, ...], prefix: str = "rows", gate: Any = None
) -> Insert:
    """`forward_upsert`'s statement; `gate`: a condition the rows are written under (none: always).
    Columns left out take the server's defaults (inside a CTE of a SELECT, SQLAlchemy's own are not applied)."""
    rows = unnest_rows(model.__table__, columns, prefix)
    upsert = insert(model).from_select(columns, rows if gate is None else rows.where(gate), include_defaults=False)
    return _moving_forward(upsert, model, keys, columns)


_rows_upsert = cache(rows_upsert)


async def forward_upsert(conn: AsyncConnection, model: Any, keys: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Inserts each row (all with the same columns), or updates the existing one where the row's
    `last_seq` is newer."""
    columns = tuple(rows[0])
    await conn.execute(_rows_upsert(model, keys, columns), row_arrays(rows, columns))


async def audited_upsert(
    conn: AsyncConnection, model: Any, key: str, row: Mapping[str, Any], subject_type: str, event: RecordedEvent
) -> bool:
    """`forward_upsert` of the read-model row keyed by `key`, with the event's audit entry written
    by the same statement (one round trip for both); whether the row moved forward."""
    statement = _audited_row_upsert(model, key, tuple(row))
    result = await conn.execute(statement, {**row, **audit_params(subject_type, row[key], event)})
    return result.first() is not None


def household_params(household_code: str, status: str, category: str | None) -> dict[str, Any]:
    return {"household": household_code, "household_status": status, "household_category": category}


async def set_household_status(conn: AsyncConnection, household_code: str, status: str, category: str | None) -> None:
    await conn.execute(HOUSEHOLD_STATUS, household_params(household_code, status, category))
