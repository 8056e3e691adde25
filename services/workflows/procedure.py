"""Pieces every procedure workflow uses: role/area/step checks, the democratic
review's vote, the village notice with its objections, and recording an event.

The identification (识别认定) and the exit (风险消除) follow the same village procedure
— verification, democratic review, notice, township review, county decision — so they
share these rules rather than each keeping a copy. Deterministic: workflow code only.

Refusals are raised with `services/workflows/refusals.py::refuse`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

from services.workflows.refusals import refuse

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from services.domain.areas import area_contains
    from services.domain.case_forms import DemocraticReview, Objection
    from services.domain.case_state import Actor, NoticePeriod, ObjectionRecord, RecordedEvent, ReviewRecord
    from services.domain.form_fields import future_dates
    from services.domain.months import local_date
    from services.domain.policy import PolicyBody
    from services.domain.vocabulary import ROLE_LABELS, Role

# Writing the read model must never give up: PostgreSQL may be down for a while.
RECORD_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))

Event = TypeVar("Event", bound=RecordedEvent)


# -- who may act ---------------------------------------------------------------


def check_role(actor: Actor, role: Role, label: str) -> None:
    if actor.role != role:
        raise refuse("Forbidden", f"只有{ROLE_LABELS[role]}可以{label}", required_role=role)


def check_area(actor: Actor, village_code: str) -> None:
    if not area_contains(actor.area_code, village_code):
        raise refuse("Forbidden", "该农户不在您的管辖区域内")


def check_step(current: StrEnum, allowed: Collection[StrEnum], label: str, labels: Mapping[Any, str],
               subject: str) -> None:
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
        try:
            await workflow.wait_condition(lambda: not still_in_notice(), timeout=remaining)
        except asyncio.TimeoutError:
            pass
    await workflow.wait_condition(lambda: not still_in_notice() or notice_over(notice, workflow.now()))
    return still_in_notice()


# -- recording -------------------------------------------------------------------


async def record_event(
    activity: str,
    event_type: type[Event],
    state: Any,
    action: str,
    actor: Actor,
    data: BaseModel | dict[str, Any],
    **fields: Any,
) -> Any:
    """Numbers the change just made to `state`, writes it (audit + read model) through
    `activity`, and returns the state as recorded. `state` needs a `seq` field; `fields`
    fills what else `event_type` carries."""
    state.seq += 1
    info = workflow.info()
    event = event_type(
        workflow_id=info.workflow_id,
        run_id=info.run_id,
        seq=state.seq,
        action=action,
        actor=actor,
        at=workflow.now(),
        data=data.model_dump(mode="json") if isinstance(data, BaseModel) else data,
        state=state.model_copy(deep=True),
        **fields,
    )
    await workflow.execute_activity(
        activity, event, start_to_close_timeout=timedelta(seconds=30), retry_policy=RECORD_RETRY
    )
    return event.state  # type: ignore[attr-defined]
