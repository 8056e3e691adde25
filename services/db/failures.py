"""What a database error means for whoever met it, and how to name it without its values.

An error's text cannot be trusted to leave personal data out: asyncpg puts the refused value
in its own message (`invalid input for query argument $1: '…'`), PostgreSQL's DETAIL repeats
a failing row, SQLAlchemy appends the statement's parameters. So logs, Temporal failures and
answers only ever carry `describe(error)`: the error's type, its SQLSTATE and the names of the
table, column or constraint involved, never a value.

Two kinds matter to callers:
- `passing`: the database is away or busy (connection lost or refused, shutting down, too many
  connections, a timeout, a serialization failure or deadlock). Trying again later can succeed.
- `incurable`: PostgreSQL refuses the data itself (SQLSTATE class 22, data exception: a NUL
  character, a number out of range; class 23, integrity constraint violation: a check, a
  foreign key) or the driver cannot encode it. It will refuse it on every attempt.
Anything else (a bug, a missing migration) is neither: a fix can cure it, so it is retried.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import exc as sa_exc

# SQLSTATE classes and codes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_INCURABLE_CLASSES = ("22", "23")
_PASSING_CLASSES = ("08", "53", "57", "58")  # connection, resources, operator intervention, system
_PASSING_CODES = ("40001", "40P01", "55P03")  # serialization failure, deadlock, lock not available


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and what caused it, outermost first (SQLAlchemy wraps the driver's error)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def sqlstate(error: BaseException) -> str | None:
    for link in _chain(error):
        code = getattr(link, "sqlstate", None)
        if isinstance(code, str) and len(code) == 5:
            return code
    return None


def incurable(error: BaseException) -> bool:
    """PostgreSQL (or the driver, before sending) refuses this data and will again every time."""
    code = sqlstate(error)
    if code is not None:
        return code.startswith(_INCURABLE_CLASSES)
    return any(isinstance(link, UnicodeError) for link in _chain(error))


def passing(error: BaseException) -> bool:
    """The database is unreachable, restarting, overloaded or in a transient conflict: retry later."""
    code = sqlstate(error)
    if code is not None:
        return code.startswith(_PASSING_CLASSES) or code in _PASSING_CODES
    for link in _chain(error):
        if isinstance(link, (sa_exc.TimeoutError, sa_exc.DisconnectionError)):
            return True  # no pooled connection came free in time; a connection found dead
        if isinstance(link, (OSError, TimeoutError)) and _raised_by_driver(link):
            return True  # connection refused or reset, socket gone, connect or statement timeout
        if isinstance(link, sa_exc.DBAPIError) and link.connection_invalidated:
            return True
        if type(link).__module__.startswith("asyncpg") and "connection" in type(link).__name__.lower():
            return True  # asyncpg's ConnectionDoesNotExistError and its kin, raised without a SQLSTATE
    return False


def constraint_of(error: BaseException) -> str | None:
    """The name of the constraint or unique index a violation names, if any."""
    for link in _chain(error):
        name = getattr(link, "constraint_name", None)
        if isinstance(name, str) and name:
            return name
    return None


def _raised_by_driver(error: BaseException) -> bool:
    """Whether the error came out of the database driver or pool (not, say, a file the code opened)."""
    frame = error.__traceback__
    while frame is not None:
        if any(part in frame.tb_frame.f_code.co_filename for part in ("/asyncpg/", "/sqlalchemy/")):
            return True
        frame = frame.tb_next
    return False


def describe(error: BaseException) -> str:
    """The error's kind in words safe for any log or failure: types, SQLSTATE, schema names; no values."""
    kinds = []
    for link in _chain(error):
        name = type(link).__name__
        if name not in kinds:
            kinds.append(name)
    parts = [" <- ".join(kinds)]
    if (code := sqlstate(error)) is not None:
        parts.append(f"SQLSTATE {code}")
    for link in _chain(error):
        for attribute in ("table_name", "column_name", "constraint_name"):
            value = getattr(link, attribute, None)
            if isinstance(value, str) and value:
                parts.append(f"{attribute.removesuffix('_name')} {value}")
    return ", ".join(dict.fromkeys(parts))
