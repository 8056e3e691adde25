"""One timer for the earliest of deadlines that change: started again only when that moment moves.

A watch that waited with `wait_condition(..., timeout=...)` started a timer at every wake-up and
cancelled it at the next change, though the deadline it waited for had not moved. Workflow code only.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow


class WakeUp:
    def __init__(self) -> None:
        self._at: datetime | None = None
        self._timer: asyncio.Task[None] | None = None

    def at(self, moment: datetime | None) -> None:
        """Wake at `moment` (None: never); the running timer stays if it already wakes then."""
        if moment == self._at:
            return
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._at, self._timer = moment, None
        if moment is not None and moment > workflow.now():
            self._timer = asyncio.create_task(asyncio.sleep((moment - workflow.now()).total_seconds()))

    def stop(self) -> None:
        """Cancels the running timer: a watch that ends leaves none to wake the workflow for nothing."""
        self.at(None)

    def due(self) -> bool:
        """The moment has come (its timer fired, or it had passed when it was set)."""
        return self._at is not None and (self._timer is None or self._timer.done())
