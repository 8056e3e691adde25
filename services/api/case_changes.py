"""Waiting for a case to change, for `GET /cases/{id}?after_seq=N` (or `after_step=S`) `&wait_seconds=T`.

The record activity notifies `case_recorded` (services/db/case_recorded.py) as each event of a case
is written, naming the case, its `seq` and its step. Each API process listens on one connection of
its pool and wakes the requests waiting on that case; a request whose wait the notification does not
end (waiting for the case to leave its step, which it has not) goes on waiting without reading the
case. A waiting request holds no database connection. Should a notification be lost (the listening
connection dropped, and is re-opened after a pause), a waiting request still reads the case again
every `RECHECK_SECONDS`: it answers late, never wrongly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.case_recorded import CHANNEL, Announced, heard
from services.db.failures import describe

# How often a waiting request reads the case again, whatever it heard.
RECHECK_SECONDS = 2.0
# How long a lost listening connection waits before it is opened again.
REOPEN_SECONDS = 2.0
# How often the listening connection is checked (a dropped one does not always say so at once).
_CHECK_SECONDS = 10.0

log = logging.getLogger("services.api.case_changes")


class Watch:
    """A request's watch on one case: `changed` is set whenever the case may have changed."""

    def __init__(self) -> None:
        self.changed = asyncio.Event()
        self._announced: Announced | None = None

    def tell(self, announced: Announced | None) -> None:
        # Notifications of one case arrive in the order of its events: the last one heard is the
        # newest. None: something may have changed unheard.
        self._announced = announced
        self.changed.set()

    def take(self) -> Announced | None:
        """The case as last announced since the last `take` (None: nothing heard, or a change
        nobody described), the watch cleared for the next."""
        announced, self._announced = self._announced, None
        self.changed.clear()
        return announced


class CaseChanges:
    """The cases some request of this process waits on, woken by the record activity's notifications."""

    def __init__(self, engine: AsyncEngine, check_seconds: float = _CHECK_SECONDS) -> None:
        self._engine, self._check_seconds = engine, check_seconds
        self._waiting: dict[str, set[Watch]] = {}
        self._listening: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._listening = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening

    @contextlib.asynccontextmanager
    async def watching(self, case_id: str) -> AsyncIterator[Watch]:
        """A watch told of every change of the case (`take` it before reading the case)."""
        watch = Watch()
        self._waiting.setdefault(case_id, set()).add(watch)
        try:
            yield watch
        finally:
            waiting = self._waiting.get(case_id)
            if waiting is not None:
                waiting.discard(watch)
                if not waiting:
                    del self._waiting[case_id]

    def _hear(self, payload: str) -> None:
        case_id, announced = heard(payload)
        for watch in self._waiting.get(case_id, ()):
            watch.tell(announced)

    def _wake_all(self) -> None:
        for waiting in self._waiting.values():
            for watch in waiting:
                watch.tell(None)

    async def _listen(self) -> None:
        while True:
            try:
                async with self._engine.connect() as conn:
                    listener = (await conn.get_raw_connection()).driver_connection
                    assert listener is not None  # an open asyncpg connection
                    await listener.add_listener(CHANNEL, lambda _conn, _pid, _channel, payload: self._hear(payload))
                    self._wake_all()  # what changed while nobody listened is read again now
                    while not listener.is_closed():
                        await asyncio.sleep(self._check_seconds)
                        await listener.fetchval("SELECT 1")  # a dropped connection fails here
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("case change listener lost its connection (%s); reopening", describe(error))
            self._wake_all()
            await asyncio.sleep(REOPEN_SECONDS)
