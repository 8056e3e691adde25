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
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util.concurrency import await_
from sqlmodel.ext.asyncio.session import AsyncSession

# Seconds. A new connection that is not established by then is given up (asyncpg's default: 60).
CONNECT_TIMEOUT = 5
# Any one statement, the pre-ping's included: the service's statements take milliseconds, so a
# statement still unanswered after this means the server or the network is gone.
STATEMENT_TIMEOUT = 10
# How long a request waits for a pooled connection before it is told the database is unavailable.
POOL_TIMEOUT = 10


def create_engine(database_url: str, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=POOL_TIMEOUT,
        hide_parameters=True,
        connect_args={"timeout": CONNECT_TIMEOUT, "command_timeout": STATEMENT_TIMEOUT},
    )
    if engine.dialect.driver == "asyncpg":
        engine.dialect.do_ping = _ping_once  # type: ignore[method-assign,assignment]
    return engine


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
