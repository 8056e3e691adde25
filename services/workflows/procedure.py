"""Pieces every procedure workflow uses: the table's role/area/step checks, Updates that take one
input, the village procedure (democratic review, notice with objections, township review, county
decision), and recording an event.

The identification (识别认定) and the exit (风险消除) follow the same village procedure
— verification, democratic review, notice, township review, county decision — so they
share `VillageProcedure` rather than each keeping a copy. Deterministic: workflow code only.

Refusals are raised with `services/workflows/refusals.py::refuse`. Recording goes through a
`Recorder`, which takes back a change PostgreSQL refuses for good.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar, cast, get_type_hints

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from services.workflows.patches import Patches
from services.workflows.refusals import UNRECORDABLE, refuse

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from services.domain.areas import area_contains
    from services.domain.changes import changed_keys
    from services.domain.form_fields import future_dates
    from services.domain.identification.forms import (
        CountyDecision,
        DemocraticReview,
        Objection,
        ObjectionResolution,
        TownshipReview,
        attendee_refusal,
    )
    from services.domain.identification.state import (
        Actor,
        NoticePeriod,
        ObjectionRecord,
        RecordedEvent,
        RefusedAction,
        ReviewRecord,
        TownshipReturn,
    )
    from services.domain.months import local_date
    from services.domain.policy import PolicyBody
    from services.domain.procedure import ActionSpec, Procedure
    from services.domain.vocabulary import ROLE_LABELS, Role

# Writing the read model never gives up while PostgreSQL is away (it may be down for a while); data
# it refuses for good fails at once (see Recorder).
RECORD_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))

Handler = TypeVar("Handler", bound=Callable[..., Any])

# -- who may act ---------------------------------------------------------------


def check_actor(spec: ActionSpec[Any, Any], actor: Actor, village_code: str) -> None:
    """The table's role for the action, and the record's village inside the actor's area."""
    check_role(actor, spec.roles, spec.label)
    check_area(actor, village_code)


def check_at_step(table: Procedure[Any, Any], spec: ActionSpec[Any, Any], current: StrEnum) -> None:
    """The record stands at a step the table allows the action at (if it names any)."""
    if spec.steps:
        check_step(current, spec.steps, spec.label, table.labels, table.subject)


def check_role(actor: Actor, roles: Role | Collection[Role], label: str) -> None:
    """The actor holds the role (or one of the roles; refusals name the first)."""
    allowed = (roles,) if isinstance(roles, Role) else tuple(roles)
    if actor.role not in allowed:
        names = "、".join(ROLE_LABELS[r] for r in allowed)
        raise refuse("Forbidden", f"只有{names}可以{label}", required_role=allowed[0])


def check_area(actor: Actor, village_code: str) -> None:
    if not area_contains(actor.area_code, village_code):
        raise refuse("Forbidden", "该农户不在您的管辖区域内")


def check_step(
    current: StrEnum, allowed: Collection[StrEnum], label: str, labels: Mapping[Any, str], subject: str
) -> None:
    if current not in allowed:
        raise refuse("WrongStep", f"{subject}当前处于「{labels[current]}」环节，不能{label}", current_step=current)


def check_dates(form: BaseModel) -> None:
    """Refuses a form dated after today in the county by the workflow's clock (which a
    time-skipping test server runs ahead of the caller's machine). The API already refused
    dates no clock could accept (services/domain/form_fields.py)."""
    for field, label in future_dates(form, local_date(workflow.now())):
        raise refuse("Invalid", f"{label}不能晚于今天", field=field)


def check_verifiers(policy: PolicyBody, verifiers: list[str]) -> None:
    if len(verifiers) < policy.min_verifiers:
        raise refuse("Invalid", f"入户核查至少需要{policy.min_verifiers}名核查人员", field="verifiers")


# -- one input per Update ---------------------------------------------------------


def one_input(handler: Handler) -> Handler:
    """Lets an Update handler (or validator) that takes one input object also take the separate
    arguments the Update took before it had one (histories written then replay unchanged).

    Temporal decodes arguments by the handler's signature, which it sees through this wrapper, but
    only when their number matches it: an older call's several arguments arrive undecoded and are
    packed here, in order, into the input's fields (services/domain/update_inputs.py)."""

    def packed(args: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(args) == 1:
            return args
        input_type = next(t for n, t in get_type_hints(handler).items() if n != "return")
        return (input_type.model_validate(dict(zip(input_type.model_fields, args, strict=True))),)

    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def update(self: Any, *args: Any) -> Any:
            return await handler(self, *packed(args))

        return cast(Handler, update)

    @functools.wraps(handler)
    def validator(self: Any, *args: Any) -> Any:
        return handler(self, *packed(args))

    return cast(Handler, validator)


# -- democratic review and village notice ----------------------------------------


def review_record(policy: PolicyBody, review: DemocraticReview) -> ReviewRecord:
    passed = policy.vote_rule.passes(review.eligible_representatives, len(review.attendees), review.votes_for)
    return ReviewRecord(**review.model_dump(), passed=passed)


def new_notice(policy: PolicyBody) -> NoticePeriod:
    now = workflow.now()
    return NoticePeriod(starts_at=now, ends_at=now + timedelta(days=policy.notice_days))


def refuse_late_objection(notice: NoticePeriod, step: StrEnum) -> None:
    if workflow.now() >= notice.ends_at:
        raise refuse("WrongStep", "公示期已满，不能再登记异议", current_step=step)


def add_objection(notice: NoticePeriod, objection: Objection, actor: Actor) -> None:
    notice.objections.append(
        ObjectionRecord(objection_id=len(notice.objections) + 1, objection=objection, filed_by=actor.username)
    )


def pending_objection(notice: NoticePeriod, objection_id: int) -> ObjectionRecord:
    for record in notice.objections:
        if record.objection_id == objection_id:
            if record.resolution is not None:
                raise refuse("AlreadyRecorded", "该异议已有核实结论", objection_id=objection_id)
            return record
    raise refuse("NotFound", "没有这条异议", objection_id=objection_id)


def notice_over(notice: NoticePeriod, now: datetime) -> bool:
    """A notice ends when its days are up and no objection awaits its finding."""
    return now >= notice.ends_at and not notice.pending_objections


async def notice_ran_out(notice: NoticePeriod, still_in_notice: Callable[[], bool]) -> bool:
    """Waits for the notice to end; False if the procedure left it first (an objection upheld)."""
    remaining = notice.ends_at - workflow.now()
    if remaining > timedelta(0):
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: not still_in_notice(), timeout=remaining)
    await workflow.wait_condition(lambda: not still_in_notice() or notice_over(notice, workflow.now()))
    return still_in_notice()


# A township's "return" sends the procedure back to home verification for rework; before, it ended it
# (`returned_by_township`, still the outcome of cases closed that way).
TOWNSHIP_RETURN_REWORKS_PATCH = "township-return-reworks"


class VillageRecord(Protocol):
    """What the village procedure works on: a case, or an exit under way."""

    review: ReviewRecord | None
    notice: NoticePeriod | None
    township_review: TownshipReview | None
    township_returns: list[TownshipReturn]
    county_decision: CountyDecision | None
    verification_round: int

    @property
    def step(self) -> StrEnum: ...


class VillageProcedure:
    """The village procedure's decisions, shared by the identification and the exit: the democratic
    review's vote opens the notice or ends the procedure; objections are filed during the notice and
    resolved (verify again, or end); the township passes it to the county or ends it; the county
    approves or ends it.

    `record` gives the case or the exit under way; `move_to` and `close` are its owner's, called
    with a step or outcome name both procedures share (`village_notice`, `review_failed`, ...);
    `patched` is the owner's run's."""

    def __init__(
        self,
        policy: PolicyBody,
        record: Callable[[], VillageRecord],
        move_to: Callable[[str], None],
        close: Callable[[str], None],
        patched: Patches,
    ) -> None:
        self._policy, self._record, self._move_to, self._close = policy, record, move_to, close
        self._patched = patched

    def notice(self) -> NoticePeriod:
        notice = self._record().notice
        assert notice is not None, "a notice exists whenever the procedure is in notice"
        return notice

    def check_review(self, review: DemocraticReview) -> None:
        check_dates(review)
        if (problem := attendee_refusal(review)) is not None:
            raise refuse("Invalid", problem, field="attendees")

    def review(self, review: DemocraticReview) -> ReviewRecord:
        record = self._record()
        record.review = review_record(self._policy, review)
        if record.review.passed:
            record.notice = new_notice(self._policy)
            self._move_to("village_notice")
        else:
            self._close("review_failed")
        return record.review

    def check_objection(self, objection: Objection) -> None:
        check_dates(objection)
        refuse_late_objection(self.notice(), self._record().step)

    def file_objection(self, objection: Objection, actor: Actor) -> None:
        add_objection(self.notice(), objection, actor)

    def check_resolution(self, objection_id: int) -> None:
        pending_objection(self.notice(), objection_id)

    def resolve_objection(
        self, objection_id: int, resolution: ObjectionResolution, actor: Actor, verify_again: Callable[[], None]
    ) -> None:
        """An upheld objection sends the procedure back to verification (`verify_again` clears what
        the owner keeps of the round) or ends it."""
        objection = pending_objection(self.notice(), objection_id)
        objection.resolution, objection.resolved_by = resolution, actor.username
        if resolution.upheld_action == "reverify":
            self._verify_again(verify_again)
        elif resolution.upheld_action == "end":
            self._close("objection_upheld")

    def review_in_township(self, form: TownshipReview, actor: Actor, verify_again: Callable[[], None]) -> None:
        """Approval passes the procedure to the county. A return is not a rejection (only the county
        rejects): the village verifies again, with the township's reasons; the returned round's
        review is kept in `township_returns`."""
        record = self._record()
        record.township_review = form
        if form.decision == "approve":
            self._move_to("county_decision")
        elif self._patched(TOWNSHIP_RETURN_REWORKS_PATCH):
            record.township_returns.append(
                TownshipReturn(
                    verification_round=record.verification_round,
                    opinion=form.opinion,
                    returned_by=actor.username,
                    returned_at=workflow.now(),
                    review=record.review,
                )
            )
            self._verify_again(verify_again)
        else:
            self._close("returned_by_township")

    def _verify_again(self, verify_again: Callable[[], None]) -> None:
        """A new verification round: `verify_again` clears what the owner keeps of the round."""
        record = self._record()
        record.verification_round += 1
        record.review = None
        verify_again()
        self._move_to("home_verification")

    def decide_in_county(self, form: CountyDecision, approved: Callable[[], None]) -> None:
        self._record().county_decision = form
        if form.decision == "approve":
            approved()
        else:
            self._close("rejected_by_county")


# -- recording -------------------------------------------------------------------

# Workflows that met a record refused for good take the refused change back (before this, such a
# record retried for ever, so no earlier history holds a refusal).
REFUSE_UNRECORDABLE_PATCH = "refuse-unrecordable-events"


class EventRefused(Exception):
    """PostgreSQL refused an event for good (its record activity failed `Unrecordable`).

    Deliberately not an ApplicationError: an update handler takes the change back and refuses
    the update (`Recorder.take_back`); anywhere else it escapes and fails the workflow task, which
    shows in Temporal and waits for a fix, instead of failing (ending) the workflow."""

    def __init__(self, seq: int, before: Any, attempted: Any, error: str) -> None:
        super().__init__(f"event {seq} refused: {error}")
        self.seq, self.before, self.attempted, self.error = seq, before, attempted, error


# What awaiting a record raises when it fails for good: an activity's failure wraps the error the
# activity raised (ActivityError); a local activity's failure is that error itself.
RECORD_FAILED = (ActivityError, ApplicationError)


def record_failure_cause(failure: ActivityError | ApplicationError) -> BaseException | None:
    """The error the record activity raised, whether it ran as an activity or a local one."""
    return failure.cause if isinstance(failure, ActivityError) else failure


def _refusal(failure: ActivityError | ApplicationError) -> str | None:
    cause = record_failure_cause(failure)
    return cause.message if isinstance(cause, ApplicationError) and cause.type == UNRECORDABLE else None


# Light records: an event carries what changed (its `after`, and of `before` only the keys), not
# the whole state, and each is written once the one before it was, so the record activity derives
# the state (and the audit's old values) from the read model's row. Only the first event, and one
# after an event that was not written or a change taken back, carries the whole state and its
# `before` (services/workers/identification/records.py).
LIGHT_RECORDS_PATCH = "light-records"
# Records run as local activities: in the worker that runs the workflow, inside the workflow task that
# asked for them, with a marker in the history instead of an activity's three events and the workflow
# task that its completion brings. A record is a short idempotent write; retries stay in the worker
# (RECORD_RETRY waits at most 30 s, under the SDK's one-minute threshold for retrying through a timer).
LOCAL_RECORDS_PATCH = "records-as-local-activities"


def run_locally_once(patched: Patches, patch: str) -> Any:
    """How to run a short activity: as a local one once `patch` is on, as an activity before it."""
    return workflow.execute_local_activity_method if patched(patch) else workflow.execute_activity_method


class Recorder:
    """Numbers the changes a workflow makes to its state and writes each (audit + read model) through
    its record activity (a local one since LOCAL_RECORDS_PATCH), which retries whatever may pass (the
    database away) and gives up at once on data PostgreSQL refuses (services/workers/activity_failures.py).

    An event is numbered right after its handler changed the state, with no await between, so each
    event's state is its predecessor's plus that one change. When an event is refused, the events
    numbered after it carry its data too: a refused event therefore waits until every other write
    has finished and every earlier refused event was dealt with; if one was taken back meanwhile it
    is written again (now without that data), otherwise it raises EventRefused.

    With `light` (and LIGHT_RECORDS_PATCH), events are written one after another in their order and
    carry the state only when the read model cannot derive it from the event before."""

    def __init__(
        self,
        activity: Callable[[Any, Any], Awaitable[None]],
        event_type: type[RecordedEvent],
        patched: Patches,
        retry_policy: RetryPolicy = RECORD_RETRY,
        light: bool = False,
    ) -> None:
        self._activity, self._event_type, self._retry = activity, event_type, retry_policy
        self._patched = patched
        self._last: Any = None  # the state as of the last numbered event
        self._writing = 0
        self._refused: list[int] = []  # refused events not yet taken back, by number
        self._taken_back = 0
        self._light: bool | None = None if light else False  # decided at the first event (a patch)
        self._in_line: list[int] = []  # light: events numbered and not yet written or given up, in order
        self._written: int | None = None  # light: the last event written
        self._rebased = 0  # light: the first event numbered after a change was taken back

    @property
    def light(self) -> bool:
        """Whether events go light (known from the first event on)."""
        return bool(self._light)

    def recorded(self, state: Any) -> None:
        """`state` is in the read model already (a workflow continued as new carries it)."""
        self._last = state.model_copy(deep=True)

    async def record(
        self, state: Any, action: str, actor: Actor, data: BaseModel | dict[str, Any], **fields: Any
    ) -> Any:
        """Numbers the change just made to `state`, writes it, and returns the state as recorded.
        `state` needs a `seq` field; `fields` fills what else the event type carries."""
        if self._light is None:
            self._light = self._patched(LIGHT_RECORDS_PATCH)
        again = False
        while True:
            taken_back = self._taken_back
            state.seq += 1
            info = workflow.info()
            as_recorded = state.model_copy(deep=True)
            event = self._event_type(
                workflow_id=info.workflow_id,
                run_id=info.run_id,
                seq=state.seq,
                action=action,
                actor=actor,
                at=workflow.now(),
                data=data.model_dump(mode="json") if isinstance(data, BaseModel) else data,
                state=None if self._light else as_recorded,
                **fields,
            )
            before, self._last = self._last, as_recorded
            self._writing += 1
            self._in_line.append(event.seq)
            try:
                if self._light:
                    await workflow.wait_condition(lambda: self._in_line[0] == event.seq)
                    # The activity knows the workflow it runs for.
                    event = event.model_copy(update={"workflow_id": "", "run_id": ""})
                    if again or event.seq == self._rebased or self._written != event.seq - 1:
                        event = event.model_copy(update={"state": as_recorded})
                    else:  # the activity has the old values, in the row as of the event before
                        event = event.model_copy(update={"before": changed_keys(event.before, event.after)})
                run = run_locally_once(self._patched, LOCAL_RECORDS_PATCH)
                await run(self._activity, event, start_to_close_timeout=timedelta(seconds=30), retry_policy=self._retry)
                self._written = event.seq
                return as_recorded
            except RECORD_FAILED as failure:
                error = _refusal(failure)
                if error is None or not self._patched(REFUSE_UNRECORDABLE_PATCH):
                    raise
            finally:
                self._writing -= 1
                self._in_line.remove(event.seq)
            again = True  # its data (`before`/`after`) is as of its first number: the state goes whole
            self._refused.append(event.seq)
            await workflow.wait_condition(lambda: self._writing == 0 and min(self._refused) == event.seq)
            if self._taken_back == taken_back or before is None:
                raise EventRefused(event.seq, before, as_recorded, error)
            self._refused.remove(event.seq)

    def take_back(self, state: Any, refused: EventRefused) -> None:
        """Undoes in `state` what the refused event changed: each field it changed goes back to its
        value before, unless a later change has moved it on since. The number stays used."""
        for name in type(state).model_fields:
            old, tried = getattr(refused.before, name), getattr(refused.attempted, name)
            if name != "seq" and old != tried and getattr(state, name) == tried:
                setattr(state, name, copy.deepcopy(old))
        self._refused.remove(refused.seq)
        self._taken_back += 1
        self._last = state.model_copy(deep=True)
        self._rebased = state.seq + 1  # the read model never saw the state as taken back


def attend_to(state: Any, action: str) -> None:
    """An action about to be recorded settles the attention an earlier refusal of it asked for."""
    state.needs_attention = [r for r in state.needs_attention if r.action != action]


def needs_attention(state: Any, action: str, label: str, actor: Actor, refused: EventRefused) -> dict[str, Any]:
    """Flags the refused action on `state`; returns the data of the event that records the flag."""
    flag = RefusedAction(action=action, label=label, actor=actor.username, at=workflow.now(), error=refused.error)
    state.needs_attention.append(flag)
    return {"refused_seq": refused.seq, **flag.model_dump(mode="json", include={"action", "actor", "error"})}
