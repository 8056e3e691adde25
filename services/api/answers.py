"""Pieces every typed answer shares: a page of a list, and moments read from PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

Item = TypeVar("Item")

# A moment read from a PostgreSQL column, answered as it always was (`2026-11-29T08:00:00+00:00`).
# Moments inside a workflow's state were written by pydantic and keep its form (`…Z`): plain `datetime`.
Moment = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Page(BaseModel, Generic[Item]):
    """One page of a list, newest or first first; `next_cursor` asks for the next page (None: no more)."""

    items: list[Item]
    next_cursor: str | None = Field(description="下一页游标；为空表示没有更多")


class Items(BaseModel, Generic[Item]):
    """A whole (bounded) list."""

    items: list[Item]
