"""A database outage: every request is answered, in the documented shape, and the API serves
again within seconds once PostgreSQL is back.

The API reaches the test PostgreSQL through a small TCP proxy (asyncio, below) that the tests
cut: `cut` drops every connection and refuses new ones (PostgreSQL stopped, or restarted);
`silence` stops forwarding without closing anything (a network cut, a server that froze), and
its connections stay dead after `restore`, as after a server restart behind a firewall."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from temporalio.testing import WorkflowEnvironment

from services.db.engine import create_engine
from services.db.tables import IdempotencyRecord, Member
from services.demo_case import COUNTY_OFFICER, VILLAGE_CADRE, CaseDriver
from services.settings import Settings
from tests.conftest import NewHousehold, api_for, new_household_body


class DatabaseProxy:
    """Forwards TCP connections on 127.0.0.1:`port` to PostgreSQL (its TCP port or Unix socket)."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self._socket_dir = url.query.get("host") if url.host is None else None
        self._target = (url.host, url.port or 5432)
        self._server: asyncio.Server | None = None
        self._connections: set[tuple[asyncio.StreamWriter, ...]] = set()
        self._dead: set[tuple[asyncio.StreamWriter, ...]] = set()  # silenced: they never answer again
        self._silenced = False
        self.port = 0
        self.url = url.difference_update_query(["host"])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = self.url.set(host="127.0.0.1", port=self.port)

    async def _accept(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        if self._silenced:
            self._dead.add((client_out,))  # accepted, never answered
            return
        if self._socket_dir:
            server_in, server_out = await asyncio.open_unix_connection(f"{self._socket_dir}/.s.PGSQL.{self._target[1]}")
        else:
            server_in, server_out = await asyncio.open_connection(*self._target)
        ends = (client_out, server_out)
        self._connections.add(ends)
        await asyncio.gather(self._pipe(client_in, server_out, ends), self._pipe(server_in, client_out, ends))

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, ends: tuple[asyncio.StreamWriter, ...]
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                if self._silenced:
                    self._dead.add(ends)
                if ends in self._dead:
                    continue  # swallowed
                sink.write(data)
                await sink.drain()
        if ends not in self._dead:  # one side closed: so does the other
            self._abort(ends)

    def _abort(self, ends: tuple[asyncio.StreamWriter, ...]) -> None:
        for end in ends:
            end.transport.abort()
        self._connections.discard(ends)

    async def cut(self) -> None:
        """PostgreSQL goes away: every connection is reset and new ones are refused."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for ends in list(self._connections - self._dead):
            self._abort(ends)

    def silence(self) -> None:
        """The network to PostgreSQL goes silent: nothing is forwarded, nothing is closed."""
        self._silenced = True

    async def restore(self) -> None:
        """PostgreSQL is reachable again; connections silenced before stay dead."""
        self._silenced = False
        if self._server is None or not self._server.is_serving():
            await self.start()

    async def close(self) -> None:
        await self.cut()
        for ends in self._dead | self._connections:
            self._abort(ends)


@pytest_asyncio.fixture
async def proxy(settings: Settings) -> AsyncIterator[DatabaseProxy]:
    proxy = DatabaseProxy(settings.require_database_url())
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest_asyncio.fixture
async def proxied_api(
    settings: Settings, temporal: WorkflowEnvironment, driver: CaseDriver, proxy: DatabaseProxy
) -> AsyncIterator[CaseDriver]:
    """The API (its own engine and pool) with its database behind the proxy. (`driver` keeps the
    session's worker running, on the direct connection.)"""
    own = settings.model_copy(update={"database_url": proxy.url.render_as_string(hide_password=False)})
    async with api_for(own, temporal.client) as api:
        yield api


def assert_database_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    detail = answer.json()["detail"]
    assert detail["code"] == "database_unavailable"
    assert "数据库暂时无法访问" in detail["message"]
    assert int(answer.headers["Retry-After"]) > 0


async def _answers_normally_within(api: CaseDriver, seconds: float) -> float:
    """Seconds until a read succeeds again; fails past `seconds`."""
    started = time.monotonic()
    while True:
        answer = await api.get(COUNTY_OFFICER, "/api/v1/households", limit=5)
        if answer.status_code == 200:
            return time.monotonic() - started
        assert_database_unavailable(answer)
        assert time.monotonic() - started < seconds, "the API did not recover in time"
        await asyncio.sleep(0.2)


async def _count(settings: Settings, statement: Any) -> int:
    engine = create_engine(settings.require_database_url(), pool_size=1)  # straight to PostgreSQL
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(statement)).scalar_one())
    finally:
        await engine.dispose()


async def test_an_outage_answers_503_and_changes_nothing(
    proxied_api: CaseDriver,
    proxy: DatabaseProxy,
    settings: Settings,
    temporal: WorkflowEnvironment,
    new_household: NewHousehold,
) -> None:
    api = proxied_api
    household = await new_household()
    for who in (COUNTY_OFFICER, VILLAGE_CADRE):  # signed in before the outage
        assert (await api.get(who, "/api/v1/households", limit=1)).status_code == 200
    registration = new_household_body()
    id_number = registration["members"][0]["id_number"]

    await proxy.cut()
    assert_database_unavailable(await api.get(COUNTY_OFFICER, "/api/v1/households", limit=5))
    assert_database_unavailable(await api.post(VILLAGE_CADRE, "/api/v1/households", registration))
    start = {"household_code": household, "channel": "cadre_screening"}
    assert_database_unavailable(
        await api.post(VILLAGE_CADRE, "/api/v1/cases", start, **{"Idempotency-Key": "outage-1"})
    )

    await proxy.restore()
    assert await _answers_normally_within(api, 5) < 5
    # Nothing half-happened: no household registered, no case started, no answer stored for the key.
    assert await _count(settings, select(func.count()).select_from(Member).where(Member.id_number == id_number)) == 0
    assert (
        await _count(
            settings,
            select(func.count())
            .select_from(IdempotencyRecord)
            .where(IdempotencyRecord.key == "outage-1", IdempotencyRecord.status_code.is_not(None)),
        )
        == 0
    )
    runs = [w async for w in temporal.client.list_workflows(f"WorkflowId = 'identification-{household}'")]
    assert runs == []
    # The same requests, sent again, now act.
    assert (await api.post(VILLAGE_CADRE, "/api/v1/households", registration)).status_code == 201
    opened = await api.post(VILLAGE_CADRE, "/api/v1/cases", start, **{"Idempotency-Key": "outage-1"})
    assert opened.status_code == 201, opened.text


async def test_a_silent_database_is_answered_in_bounded_time_and_recovery_takes_seconds(
    proxied_api: CaseDriver,
    proxy: DatabaseProxy,
) -> None:
    """More requests than the pool has connections wait on connections that will never answer.
    Each is answered 503 within the engine's timeouts; once PostgreSQL is reachable the API
    serves again at once, although the old connections never answer (they are dropped)."""
    api = proxied_api
    assert (await api.get(COUNTY_OFFICER, "/api/v1/households", limit=1)).status_code == 200
    proxy.silence()
    started = time.monotonic()
    answers = await asyncio.wait_for(
        asyncio.gather(*(api.get(COUNTY_OFFICER, "/api/v1/households", limit=5) for _ in range(25))), timeout=60
    )
    assert time.monotonic() - started < 40
    for answer in answers:
        assert_database_unavailable(answer)

    await proxy.restore()
    assert await _answers_normally_within(api, 5) < 5
