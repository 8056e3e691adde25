"""One async engine per process; sessions are opened at the request or activity boundary.

Settings that keep personal data out of logs and keep an outage short:
- `hide_parameters`: SQLAlchemy's error text never lists a statement's parameters (ID numbers,
  phones); see also services/db/failures.py.
- Timeouts on everything that waits for PostgreSQL. Without them a connection whose server went
  away without closing it (a network cut, a server host that died or froze) waits on its socket
  until TCP gives up, minutes later, even after PostgreSQL is back: such connections fill the pool
  and every other request then waits `pool_timeout` (30 s by default) for one, in a loop. Measured
  with a proxy that stops forwarding: before, no request got an answer until the stuck connections
  were dropped; with these timeouts each request is answered within seconds during the outage
  (503, services/api/server_errors.py) and the API serves normally again about 2 s after the
  database is reachable. Pre-ping still replaces connections the server closed, at checkout.

The pre-ping is one round trip (`;`). SQLAlchemy's asyncpg ping wraps it in BEGIN … ROLLBACK, for
pgbouncer's transaction mode (not used here: the service connects to PostgreSQL itself): three round
trips at every checkout, measured at 13 % of the API's CPU and 7.5 % of the worker's
(bench/profile_identification.py).

The worker pings only a connection that sat in the pool for a while (`ping_after_idle`): its
activities are retried, so a connection the server closed a moment ago fails one attempt (and
SQLAlchemy then replaces every pooled connection opened before), while the round trip is saved on
nearly every checkout of a busy worker. The API pings at every checkout: a request is not retried.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util.concurrency import await_
from sqlmodel.ext.asyncio.session import AsyncSession

# For statements that stand alone (see `standalone`).
AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}

# Seconds. A new connection that is not established by then is given up (asyncpg's default: 60).
CONNECT_TIMEOUT = 5
# Any one statement, the pre-ping's included: the service's statements take milliseconds, so a
# statement still unanswered after this means the server or the network is gone.
STATEMENT_TIMEOUT = 10
# How long a request waits for a pooled connection before it is told the database is unavailable.
POOL_TIMEOUT = 10


def create_engine(database_url: str, pool_size: int = 10, ping_after_idle: float = 0.0) -> AsyncEngine:
    """`ping_after_idle`: seconds a connection may rest in the pool and still be handed out
    without a ping (0: pinged at every checkout)."""
    engine = create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=ping_after_idle <= 0,
        pool_timeout=POOL_TIMEOUT,
        hide_parameters=True,
        connect_args={"timeout": CONNECT_TIMEOUT, "command_timeout": STATEMENT_TIMEOUT},
    )
    if engine.dialect.driver == "asyncpg":
        engine.dialect.do_ping = _ping_once  # type: ignore[method-assign,assignment]
        if ping_after_idle > 0:
            _ping_only_after_idle(engine, ping_after_idle)
    return engine


def standalone(engine: AsyncEngine) -> AsyncEngine:
    """The engine's pool in autocommit, for statements that stand alone: a lookup, or a write that
    is one statement. Under READ COMMITTED each statement reads its own snapshot anyway, and one
    statement is atomic; without BEGIN and COMMIT (or ROLLBACK) two round trips are saved. Not for
    writes that must stand or fall together. A connection returns to the pool in its ordinary mode."""
    return engine.execution_options(**AUTOCOMMIT)


def _ping_only_after_idle(engine: AsyncEngine, seconds: float) -> None:
    """SQLAlchemy's pessimistic-disconnect recipe, for connections that rested `seconds` or more:
    one that fails its ping is discarded and another one handed out."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def returned(_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def ping_if_rested(connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("returned_at", float("-inf")) < seconds:
            return
        try:
            _ping_once(connection)
        except Exception as error:
            raise exc.DisconnectionError() from error


def _ping_once(connection: Any) -> bool:
    """SQLAlchemy's asyncpg ping without its BEGIN and ROLLBACK: its errors are translated the same
    way, so a connection the server closed is still told apart from other failures and replaced."""
    try:
        await_(connection._connection.fetchrow(";"))
    except Exception as error:
        connection._handle_exception(error)
    return True


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
