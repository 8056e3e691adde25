"""Opaque keyset cursors: (timestamp, id) of the last row of a page."""

from __future__ import annotations

import base64
from datetime import datetime

from services.api.errors import invalid
from services.domain.form_fields import FIRST_DAY, LAST_DAY, text_problem


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
