"""Opaque keyset cursors: (timestamp, id) of the last row of a page."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, SQLColumnExpression, and_, or_

from services.api.errors import invalid
from services.domain.form_fields import FIRST_DAY, LAST_DAY, text_problem

Q = TypeVar("Q", bound=Select)


def encode(at: datetime, key: str) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{key}".encode()).decode()


def decode(cursor: str) -> tuple[datetime, str]:
    """The (timestamp, id) a cursor holds; 422 for anything this module did not write (a cursor
    is the client's to send back, so it is checked like any input)."""
    try:
        at, key = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        moment = datetime.fromisoformat(at)
    except (ValueError, UnicodeDecodeError):
        moment, key = None, ""
    if moment is None or moment.tzinfo is None or not FIRST_DAY <= moment.date() <= LAST_DAY or text_problem(key):
        raise _invalid_cursor()
    return moment, key


def decode_numbered(cursor: str) -> tuple[datetime, int]:
    """A cursor whose id is a row number (a `bigint` column)."""
    moment, key = decode(cursor)
    if not (key.isascii() and key.isdigit() and int(key) < 2**63):
        raise _invalid_cursor()
    return moment, int(key)


def _invalid_cursor() -> Exception:
    return invalid("cursor", "分页游标无效，请从第一页重新查询")


def newest_first(
    query: Q,
    moment: SQLColumnExpression[Any],
    key: SQLColumnExpression[Any],
    cursor: str | None,
    limit: int,
    numbered: bool = False,
) -> Q:
    """`query` as a page, newest first by (`moment`, `key`), after the row `cursor` names, with one row
    more than `limit` (which tells that a next page exists). `numbered`: `key` is a row number."""
    if cursor is not None:
        at, last = decode_numbered(cursor) if numbered else decode(cursor)
        query = query.where(or_(moment < at, and_(moment == at, key < last)))
    return query.order_by(moment.desc(), key.desc()).limit(limit + 1)
