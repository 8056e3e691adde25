"""Statements sent straight to asyncpg, compiled once by SQLAlchemy, for the few run at every event.

SQLAlchemy's execution of a Core statement costs, at every call, a cache key over the whole
statement tree, an execution context, the DBAPI cursor adaption and a greenlet switch: for the
worker's one-statement record (a dozen CTEs, 80 parameters) more than the statement's own round
trip (bench/record_statements.py). A `DirectStatement` is compiled once by the dialect in use, so
its SQL, its casts and its bind processors (JSON serialised, arrays as lists) are SQLAlchemy's own,
and is sent on the pooled connection's asyncpg connection with its parameters in order.

Only on a connection in autocommit (`services.db.engine.standalone`): SQLAlchemy's asyncpg adapter
begins a transaction lazily, at its own first statement, so a statement sent around it would run
outside the transaction the caller believes it is in. Errors are asyncpg's: their SQLSTATE is what
services/db/failures.py reads. A connection the error closed is invalidated, so the pool replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from asyncpg import Record
from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection


class DirectStatement:
    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        if compiled.positiontup is None:
            raise ValueError(f"{dialect.name} does not bind by position")
        self.sql: str = compiled.string
        names: list[str] = list(compiled.positiontup)
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        processors: Mapping[str, Callable[[Any], Any]] = compiled._bind_processors
        # Per position: the parameter's name (None: a value fixed in the statement) and processor.
        self._slots = [
            (None if not binds[name].required else name, binds[name].effective_value, processors.get(name))
            for name in names
        ]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, fixed, process in self._slots:
            value = fixed if name is None else params[name]
            values.append(value if process is None else process(value))
        return values

    async def first(self, conn: AsyncConnection, params: Mapping[str, Any]) -> Record | None:
        """The statement's first row, run on `conn` (in autocommit) with `params` by name."""
        raw = await conn.get_raw_connection()
        if not raw.dbapi_connection.autocommit:  # type: ignore[union-attr]
            raise RuntimeError("a direct statement runs only on a connection in autocommit")
        driver = raw.driver_connection
        try:
            return await driver.fetchrow(self.sql, *self.arguments(params))  # type: ignore[union-attr]
        except BaseException:
            if driver.is_closed():  # type: ignore[union-attr]
                await conn.invalidate()
            raise
