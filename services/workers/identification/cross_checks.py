"""Activities of the department cross-check: plan a round, send one signed request.

The send activity is retried by Temporal with backoff (network errors, 5xx, and any
other refusal, which an admin may fix by correcting the registry); the request id is
fixed by the workflow, so every retry carries the same one (INTERFACES.md §1). What
each attempt met is written onto the request's read-model row for the officers' list.
Nothing here logs a secret, a body or a personal detail.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.db.engine import standalone
from services.db.tables import CaseRecord, CrossCheckRequestRecord, DepartmentRecord, Member
from services.departments.contract import CrossCheckRequestBody, CrossCheckSubject
from services.departments.registry import department_secret, enabled_department
from services.departments.signing import signed_headers
from services.domain.identification.cross_check import (
    CrossCheckDispatch,
    CrossCheckPlan,
    CrossCheckPlanInput,
    DepartmentSetup,
    Subject,
)
from services.domain.vocabulary import Department
from services.settings import Settings

log = logging.getLogger("services.cross_checks")
# Raised (non-retryable) by the send activity when the county has no such department registered.
DEPARTMENT_NOT_CONFIGURED = "DepartmentNotConfigured"
# Raised (non-retryable) for a request of a round the case has left: nothing awaits its answer.
ROUND_OVER = "CrossCheckRoundOver"


def callback_url(settings: Settings, request_id: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/v1/callbacks/cross-checks/{request_id}"


class CrossCheckActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings, http: httpx.AsyncClient) -> None:
        # Each of its transactions is one statement, or lookups: no BEGIN and COMMIT round trips.
        self._engine, self._settings, self._http = standalone(engine), settings, http

    @activity.defn(name="plan_cross_check")
    async def plan_cross_check(self, plan: CrossCheckPlanInput) -> CrossCheckPlan:
        """The household's members (the subjects) and which departments the county has registered."""
        async with self._engine.connect() as conn:
            members = (
                await conn.execute(
                    select(col(Member.name), col(Member.id_number), col(Member.relation))
                    .where(col(Member.household_code) == plan.household_code, col(Member.ended_on).is_(None))
                    .order_by(col(Member.id))
                )
            ).all()
            departments = (
                await conn.execute(
                    select(
                        col(DepartmentRecord.kind), col(DepartmentRecord.answer_days), col(DepartmentRecord.reask_hours)
                    ).where(
                        col(DepartmentRecord.county_code) == plan.county_code,
                        col(DepartmentRecord.enabled),
                        col(DepartmentRecord.kind).in_([str(d) for d in plan.departments]),
                    )
                )
            ).all()
        return CrossCheckPlan(
            subjects=[Subject(name=m.name, id_number=m.id_number, relation=m.relation) for m in members],
            configured={
                Department(d.kind): DepartmentSetup(answer_days=d.answer_days, reask_hours=d.reask_hours)
                for d in departments
            },
        )

    @activity.defn(name="send_cross_check_request")
    async def send_cross_check_request(self, dispatch: CrossCheckDispatch) -> None:
        attempt = activity.info().attempt
        async with self._engine.connect() as conn:
            department = await enabled_department(conn, dispatch.county_code, dispatch.department)
            subjects = dispatch.subjects if dispatch.subjects is not None else await _round_subjects(conn, dispatch)
        if department is None:
            raise ApplicationError(
                f"no {dispatch.department} department registered for {dispatch.county_code}",
                type=DEPARTMENT_NOT_CONFIGURED,
                non_retryable=True,
            )
        body = (
            CrossCheckRequestBody(
                request_id=dispatch.request_id,
                department=dispatch.department,
                case_reference=dispatch.case_reference,
                subjects=[CrossCheckSubject(name=s.name, id_number=s.id_number) for s in subjects],
                callback_url=callback_url(self._settings, dispatch.request_id),
                respond_by=dispatch.respond_by,
            )
            .model_dump_json()
            .encode()
        )
        headers = signed_headers(department_secret(self._settings, department), body)
        url = f"{department.base_url.rstrip('/')}/cross-checks"
        try:
            answer = await self._http.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            await self._note(dispatch.request_id, attempt, f"network error: {type(error).__name__}")
            log.warning(
                "cross-check %s to %s, attempt %d: %s",
                dispatch.request_id,
                dispatch.department,
                attempt,
                type(error).__name__,
            )
            raise ApplicationError(f"{dispatch.department} unreachable ({type(error).__name__})") from None
        if not answer.is_success:
            await self._note(dispatch.request_id, attempt, f"HTTP {answer.status_code}")
            log.warning(
                "cross-check %s to %s, attempt %d: HTTP %d",
                dispatch.request_id,
                dispatch.department,
                attempt,
                answer.status_code,
            )
            raise ApplicationError(f"{dispatch.department} answered HTTP {answer.status_code}")
        await self._note(dispatch.request_id, attempt, None)

    async def _note(self, request_id: str, attempt: int, error: str | None) -> None:
        values: dict[str, object] = {
            "send_attempts": func.greatest(col(CrossCheckRequestRecord.send_attempts), attempt),
            "last_send_error": error,
        }
        if error is None:
            values["accepted_at"] = func.coalesce(col(CrossCheckRequestRecord.accepted_at), datetime.now(UTC))
        async with self._engine.begin() as conn:
            await conn.execute(
                update(CrossCheckRequestRecord)
                .where(col(CrossCheckRequestRecord.request_id) == request_id)
                .values(values)
            )


async def _round_subjects(conn: AsyncConnection, dispatch: CrossCheckDispatch) -> list[Subject]:
    """The subjects of the dispatch's round, from the case's read model (the round is recorded
    before its requests are sent). A round the case has left is sent no more."""
    round_ = await conn.scalar(
        select(col(CaseRecord.state)["cross_check"]).where(col(CaseRecord.case_id) == dispatch.case_reference)
    )
    if not round_ or round_.get("round") != dispatch.round:
        raise ApplicationError(
            f"case {dispatch.case_reference} has left cross-check round {dispatch.round}",
            type=ROUND_OVER,
            non_retryable=True,
        )
    return [Subject.model_validate(s) for s in round_["subjects"]]
