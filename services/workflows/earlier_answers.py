"""Answers a long-lived workflow gave to its Updates, carried across continue-as-new.

Temporal deduplicates an Update by its id only within one run. The API makes the
`Idempotency-Key` the update id, so a client's retry of an action whose answer it never got
(the API died, the connection dropped) is the same update, and acts once, as long as the run
is the same. A retry that arrives after the workflow continued as new would reach a run that
never saw that id and act again. So the workflow keeps the answers it gave recently and passes
them to its next run; there a known id gets its first answer back, and nothing acts.

Kept: the answers of the last `KEPT_FOR` (a client retries within minutes, not days), at most
`MOST_KEPT` of them, so the next run's input stays small however busy the household is.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar, cast

from temporalio import workflow

KEPT_FOR = timedelta(days=1)
MOST_KEPT = 50

Handler = TypeVar("Handler", bound=Callable[..., Any])


class EarlierAnswer(Protocol):
    """The workflow's own model of one answer (e.g. `MonitoringAnswer`): its fields are these."""

    update_id: str
    at: datetime
    answer: Any

    def __init__(self, *, update_id: str, at: datetime, answer: Any) -> None: ...


class EarlierAnswers:
    def __init__(self, carried: list[Any], kind: type[EarlierAnswer]) -> None:
        self._kind = kind
        self._by_id: dict[str, EarlierAnswer] = {earlier.update_id: earlier for earlier in carried}

    def get(self, update_id: str) -> Any | None:
        earlier = self._by_id.get(update_id)
        return earlier.answer if earlier is not None else None

    def remember(self, update_id: str, answer: Any, at: datetime) -> None:
        # A copy: the handler answers the workflow's live state, which goes on changing.
        self._by_id[update_id] = self._kind(update_id=update_id, at=at, answer=answer.model_copy(deep=True))

    def to_carry(self, now: datetime) -> list[Any]:
        recent = [earlier for earlier in self._by_id.values() if earlier.at > now - KEPT_FOR]
        return sorted(recent, key=lambda earlier: earlier.at)[-MOST_KEPT:]


class Answering(Protocol):
    earlier_answers: EarlierAnswers


def answered_once(handler: Handler) -> Handler:
    """On an Update handler: an id answered in an earlier run gets that answer and nothing acts.
    On its validator: such an id passes (the state may since have moved past the step)."""
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def update(self: Answering, *args: Any) -> Any:
            update_id = workflow.current_update_info().id  # type: ignore[union-attr]
            earlier = self.earlier_answers.get(update_id)
            if earlier is not None:
                return earlier
            answer = await handler(self, *args)
            self.earlier_answers.remember(update_id, answer, workflow.now())
            return answer

        return cast(Handler, update)

    @functools.wraps(handler)
    def validator(self: Answering, *args: Any) -> Any:
        info = workflow.current_update_info()
        if info is not None and self.earlier_answers.get(info.id) is not None:
            return None
        return handler(self, *args)

    return cast(Handler, validator)
