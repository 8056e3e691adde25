"""A forwarder claims from the inbox a notification names: a department result does not make every
worker also look for early warnings (services/departments/inbox_channel.py). A notification without
a name (an API of an earlier version) still has both inboxes looked at, and so does every poll
interval, however busy the other inbox keeps the forwarder: some rows are announced by no
notification (a retry whose backoff ended, a claim a crashed worker left to expire).

Real PostgreSQL: the notifications are sent on another connection and heard by the forwarder's own
LISTEN. The claims are counted, not made: this test is about which inbox is looked at and when."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import cast

import pytest
from sqlalchemy import text
from temporalio.client import Client

from services.db.engine import create_engine
from services.departments.inbox_channel import CHANNEL, RESULTS, WARNINGS
from services.settings import Settings
from services.workers.departments import inbox as inbox_module
from services.workers.departments.inbox import DepartmentInbox

HEARD_WITHIN = 5.0


class CountedInbox(DepartmentInbox):
    """The real forwarder loop, with each claim counted instead of made."""

    def __init__(self, settings: Settings) -> None:
        # No claim is made, so nothing is delivered: the Temporal client is never used.
        super().__init__(create_engine(settings.require_database_url()), cast(Client, None), "notified-only")
        self.claims: list[str] = []
        self.claimed = asyncio.Event()

    async def _start_results(self) -> int:
        return self._count(RESULTS)

    async def _start_warnings(self) -> int:
        return self._count(WARNINGS)

    def _count(self, inbox: str) -> int:
        self.claims.append(inbox)
        self.claimed.set()
        return 0


@asynccontextmanager
async def forwarding(settings: Settings) -> AsyncIterator[tuple[CountedInbox, Callable[[str], Awaitable[None]]]]:
    """A counted forwarder running its loop, and a way to notify it (on a connection of the test's own)."""
    inbox = CountedInbox(settings)
    notifier = create_engine(settings.require_database_url(), pool_size=1)

    async def notify(payload: str) -> None:
        async with notifier.begin() as conn:
            await conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})

    forwarder = asyncio.create_task(inbox.run())
    try:
        await asyncio.wait_for(inbox.claimed.wait(), HEARD_WITHIN)  # at start: both, for what waited already
        assert sorted(inbox.claims) == [RESULTS, WARNINGS]
        await asyncio.sleep(0.2)
        inbox.claims.clear()
        yield inbox, notify
    finally:
        forwarder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await forwarder
        await inbox._engine.dispose()
        await notifier.dispose()


async def _claims_after(inbox: CountedInbox, notify: Callable[[str], Awaitable[None]], payload: str) -> list[str]:
    inbox.claims.clear()
    inbox.claimed.clear()
    await notify(payload)
    await asyncio.wait_for(inbox.claimed.wait(), HEARD_WITHIN)
    await asyncio.sleep(0.2)  # a second claim would follow at once
    return list(inbox.claims)


async def test_a_notification_has_only_its_own_inbox_claimed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_module, "_POLL_SECONDS", 600.0)  # no poll in between: every claim answers a notification
    async with forwarding(settings) as (inbox, notify):
        assert await _claims_after(inbox, notify, RESULTS) == [RESULTS]
        assert await _claims_after(inbox, notify, WARNINGS) == [WARNINGS]
        assert sorted(await _claims_after(inbox, notify, "")) == [RESULTS, WARNINGS]


async def test_a_busy_inbox_does_not_keep_the_other_from_its_poll(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    poll = 1.0
    monkeypatch.setattr(inbox_module, "_POLL_SECONDS", poll)
    async with forwarding(settings) as (inbox, notify):
        started = asyncio.get_running_loop().time()
        while WARNINGS not in inbox.claims and asyncio.get_running_loop().time() - started < 4 * poll:
            await notify(RESULTS)  # results keep coming, more often than the poll interval
            await asyncio.sleep(poll / 4)

        assert WARNINGS in inbox.claims, inbox.claims
        assert inbox.claims.count(RESULTS) > inbox.claims.count(WARNINGS)
