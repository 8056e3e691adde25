"""Waiting for a case to change, for `GET /cases/{id}?after_seq=N&wait_seconds=S`.

The record activity notifies `case_recorded` (services/db/case_recorded.py) as each event of a case
is written. Each API process listens on one connection of its pool and wakes the requests waiting on
that case, which read the case again. A waiting request holds no database connection. Should a
notification be lost (the listening connection dropped, and is re-opened after a pause), a waiting
request still reads the case again every `RECHECK_SECONDS`: it answers late, never wrongly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.case_recorded import CHANNEL
from services.db.failures import describe

# How often a waiting request reads the case again, whatever it heard.
RECHECK_SECONDS = 2.0
# How long a lost listening connection waits before it is opened again.
REOPEN_SECONDS = 2.0
# How often the listening connection is checked (a dropped one does not always say so at once).
_CHECK_SECONDS = 10.0

log = logging.getLogger("services.api.case_changes")


class CaseChanges:
    """The cases some request of this process waits on, woken by the record activity's notifications."""

    def __init__(self, engine: AsyncEngine, check_seconds: float = _CHECK_SECONDS) -> None:
        self._engine, self._check_seconds = engine, check_seconds
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._listening: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._listening = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening

    @contextlib.asynccontextmanager
    async def watching(self, case_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the case may have changed (clear it before reading the case)."""
        changed = asyncio.Event()
        self._waiting.setdefault(case_id, set()).add(changed)
        try:
            yield changed
        finally:
            waiting = self._waiting.get(case_id)
            if waiting is not None:
                waiting.discard(changed)
                if not waiting:
                    del self._waiting[case_id]

    def _wake(self, case_id: str) -> None:
        for changed in self._waiting.get(case_id, ()):
            changed.set()

    def _wake_all(self) -> None:
        for case_id in list(self._waiting):
            self._wake(case_id)

    async def _listen(self) -> None:
        while True:
            try:
                async with self._engine.connect() as conn:
                    listener = (await conn.get_raw_connection()).driver_connection
                    assert listener is not None  # an open asyncpg connection
                    await listener.add_listener(CHANNEL, lambda _conn, _pid, _channel, case_id: self._wake(case_id))
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
