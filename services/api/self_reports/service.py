"""Self-report applications: submitting them, what the applicant and staff see, acting on them.

How an application maps to a household: the head's ID number is looked up among registered
members. When a member holds it under the same name, the application belongs to that household
(and goes to the township of the household's village). Otherwise it is unregistered and goes to
the township of the village the applicant chose; the township approver, who sees the full ID
number, registers the household (POST /api/v1/households, the head's ID number as given) and
then accepts: acceptance looks the ID number up again and refuses while no household holds it.
Acceptance never makes up a household from the application: the registry keeps checked data.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.api import pagination
from services.api.access import area_scope
from services.api.errors import ApiError, conflict, invalid, not_found, workflow_unavailable
from services.api.registry.policies import current_policy
from services.api.self_reports.schemas import (
    ApplicationView,
    AppliedFor,
    CaseProgress,
    Milestone,
    SelfReportDetail,
    SelfReportPage,
    SelfReportSummary,
)
from services.db.tables import Applicant, Area, AuditEntry, CaseRecord, Household, Member, SelfReport
from services.domain.areas import AreaLevel, area_level
from services.domain.personal_data import mask_id_number, mask_phone, redact_personal_numbers
from services.domain.self_reports.applicant_texts import CASE_STEP_TEXTS, OUTCOME_TEXTS, application_progress, day
from services.domain.self_reports.model import (
    APPLICATION_STATUS_LABELS,
    ApplicationStatus,
    SelfReportForm,
    SelfReportStart,
    SelfReportState,
)
from services.domain.vocabulary import OUTCOME_LABELS, RISK_TYPE_LABELS, Outcome, Step
from services.workflows.refusals import UNRECORDABLE, UNRECORDABLE_MESSAGE
from services.workflows.self_report import DUPLICATE, UNRECORDABLE_CODE, SelfReportWorkflow, self_report_workflow_id


def application_closed() -> ApiError:
    return conflict("application_closed", "这份申报已经处理完毕")


async def registered_household(session: AsyncSession, id_number: str, name: str | None = None) -> Household | None:
    """The household one of whose members holds `id_number` (and, if given, is called `name`)."""
    member = (
        await session.scalars(select(Member).where(col(Member.id_number) == id_number, col(Member.ended_on).is_(None)))
    ).first()
    if member is None or (name is not None and member.name != name):
        return None
    return await session.get(Household, member.household_code)


async def _refuse_if_in_progress(
    session: AsyncSession, applicant: Applicant, form: SelfReportForm, household: Household | None
) -> None:
    """409 telling the applicant where the household's open case or pending application stands."""
    if household is not None:
        case = (
            await session.scalars(
                select(CaseRecord).where(
                    col(CaseRecord.household_code) == household.code, col(CaseRecord.closed_at).is_(None)
                )
            )
        ).first()
        if case is not None:
            stage, _ = CASE_STEP_TEXTS[Step(case.step)]
            raise conflict(
                "case_already_open",
                f"您家的识别申请正在办理中（{day(case.opened_at)}开始，目前{stage}），不需要重复申报",
                stage=stage,
                opened_at=case.opened_at.isoformat(),
            )
    same = col(SelfReport.head_id_number) == form.id_number
    if household is not None:
        same = same | (col(SelfReport.household_code) == household.code)
    pending = (
        await session.scalars(select(SelfReport).where(col(SelfReport.status) == ApplicationStatus.pending, same))
    ).first()
    if pending is not None:
        yours = {"application_id": pending.application_id} if pending.applicant_id == applicant.id else {}
        raise _pending_elsewhere(
            f"您家已有一份申报（{day(pending.submitted_at)}提交）正在等待镇里受理，请不要重复申报", **yours
        )


async def application_start(session: AsyncSession, applicant: Applicant, form: SelfReportForm) -> SelfReportStart:
    """The new application's workflow input: its household if registered; 409 if the household
    already has an open case or a pending application."""
    village = await session.get(Area, form.village_code)
    if village is None or area_level(village.code) != AreaLevel.village:
        raise invalid("village_code", "没有找到这个村，请从列表中选择您所在的村")
    household = await registered_household(session, form.id_number, form.head_name)
    await _refuse_if_in_progress(session, applicant, form, household)
    application_id = uuid.uuid4().hex
    return SelfReportStart(
        application_id=application_id,
        applicant_id=applicant.id,
        notice_phone=applicant.phone,
        form=form,
        household_code=household.code if household else None,
        village_code=household.village_code if household else form.village_code,
        policy=await current_policy(session),
    )


async def submit_application(client: Client, task_queue: str, start: SelfReportStart) -> SelfReportState:
    """Starts the application's workflow; answers once the application is in the read model."""
    application_id = start.application_id
    try:
        handle = await client.start_workflow(
            SelfReportWorkflow.run,
            start,
            id=self_report_workflow_id(application_id),
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except RPCError as error:
        raise workflow_unavailable() from error
    try:
        # Answers once the application is in the read model, or refuses a duplicate found there.
        return await handle.execute_update(SelfReportWorkflow.submitted)
    except WorkflowUpdateFailedError as failure:
        cause = failure.cause
        if isinstance(cause, ApplicationError) and cause.type == DUPLICATE:
            raise _pending_elsewhere(cause.message) from failure
        if isinstance(cause, ApplicationError) and cause.type == UNRECORDABLE:
            raise _unrecordable() from failure
        raise workflow_unavailable() from failure
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise workflow_unavailable() from error
    # The workflow ended (refused) before the update reached it: its result says why.
    ended = await handle.result()
    if ended.refusal is None:
        raise workflow_unavailable()
    if ended.refusal.get("code") == UNRECORDABLE_CODE:
        raise _unrecordable()
    raise _pending_elsewhere(ended.refusal["message"])


def _unrecordable() -> ApiError:
    return ApiError(422, "unrecordable", UNRECORDABLE_MESSAGE)


def _pending_elsewhere(message: str, **extra: str) -> ApiError:
    return conflict(
        "application_pending", message, status_label=APPLICATION_STATUS_LABELS[ApplicationStatus.pending], **extra
    )


def _is_overdue(row: SelfReport, now: datetime) -> bool:
    """Still unanswered past its deadline: escalated by the workflow's timer, or about to be."""
    return row.status == ApplicationStatus.pending and (row.escalated_at is not None or row.due_at < now)


# -- what the applicant sees ------------------------------------------------------------


async def own_application(session: AsyncSession, applicant: Applicant, application_id: str) -> SelfReport:
    """One of the applicant's own applications; 404 for any other."""
    row = await session.get(SelfReport, application_id) if len(application_id) <= 32 else None
    if row is None or row.applicant_id != applicant.id:
        raise not_found("没有找到这份申报")
    return row


async def applications_of(session: AsyncSession, applicant: Applicant, limit: int = 50) -> list[SelfReport]:
    """Newest first."""
    query = (
        select(SelfReport)
        .where(col(SelfReport.applicant_id) == applicant.id)
        .order_by(col(SelfReport.submitted_at).desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


# Case actions an applicant sees as milestones (nothing about objections, who voted or what was found).
_MILESTONES = {
    "open_case": "开始识别",
    "verify_home": "完成入户核查",
    "record_authorisation": "签署承诺授权书",
    "record_review": "完成民主评议",
    "end_notice": "村级公示期满",
    "review_in_township": "镇审核完成",
    "decide_in_county": "县级审定完成",
    "announce": "结果公告",
}


async def applicant_view(session: AsyncSession, row: SelfReport) -> ApplicationView:
    state = SelfReportState.model_validate(row.state)
    form = state.form
    stage, next_step = application_progress(
        state.status,
        state.due_at,
        state.escalated_at is not None,
        redact_personal_numbers(state.rejection_reason or ""),
    )
    village = await session.get(Area, state.village_code)
    case = await _case_progress(session, state.case_id) if state.status == ApplicationStatus.accepted else None
    return ApplicationView(
        application_id=state.application_id,
        status=state.status,
        status_label=APPLICATION_STATUS_LABELS[state.status],
        stage=case.stage if case else stage,
        next=case.next if case else next_step,
        submitted_at=state.submitted_at,
        answer_due_at=state.due_at,
        overdue=_is_overdue(row, datetime.now(UTC)),
        escalated=state.escalated_at is not None,
        decided_at=state.decided_at,
        rejection_reason=redact_personal_numbers(state.rejection_reason) if state.rejection_reason else None,
        application=AppliedFor(
            head_name=form.head_name,
            id_number=mask_id_number(form.id_number),
            phone=mask_phone(form.phone),
            village_code=state.village_code,
            village_name=village.name if village else None,
            risk_types=list(form.risk_types),
            risk_type_labels=[RISK_TYPE_LABELS[r] for r in form.risk_types],
            description=form.description,
        ),
        case=case,
    )


async def _case_progress(session: AsyncSession, case_id: str | None) -> CaseProgress | None:
    record = await session.get(CaseRecord, case_id) if case_id else None
    if record is None:
        return None
    state = record.state
    step, outcome = Step(state["step"]), Outcome(state["outcome"]) if state.get("outcome") else None
    if outcome is not None:
        stage, next_step = OUTCOME_LABELS[outcome], OUTCOME_TEXTS[outcome]
    else:
        stage, next_step = CASE_STEP_TEXTS[step]
        if step == Step.village_notice and state.get("notice"):
            stage = f"{stage}（到{day(datetime.fromisoformat(state['notice']['ends_at']))}为止）"
    entries = (
        await session.scalars(
            select(AuditEntry)
            .where(col(AuditEntry.case_id) == case_id, col(AuditEntry.action).in_(_MILESTONES))
            .order_by(col(AuditEntry.seq))
        )
    ).all()
    return CaseProgress(
        step=step,
        stage=stage,
        next=next_step,
        opened_at=record.opened_at,
        step_started_at=state["step_started_at"],
        step_due_at=record.step_due_at,
        closed_at=record.closed_at,
        outcome=outcome,
        milestones=[Milestone(label=_MILESTONES[e.action], at=e.at) for e in entries],
    )


# -- what staff see -----------------------------------------------------------------------


async def self_report_page(
    session: AsyncSession,
    scope: str,
    status: ApplicationStatus | None,
    overdue: bool | None,
    limit: int,
    cursor: str | None,
) -> SelfReportPage:
    """Newest first. Lists never show ID numbers or phones whole."""
    now = datetime.now(UTC)
    query = select(SelfReport).where(area_scope(SelfReport, scope))
    if status is not None:
        query = query.where(col(SelfReport.status) == status)
    if overdue is not None:
        late = and_(
            col(SelfReport.status) == ApplicationStatus.pending,
            or_(col(SelfReport.escalated_at).is_not(None), col(SelfReport.due_at) < now),
        )
        query = query.where(late if overdue else ~late)
    query = pagination.newest_first(query, col(SelfReport.submitted_at), col(SelfReport.application_id), cursor, limit)
    rows = (await session.scalars(query)).all()
    last = rows[limit - 1] if len(rows) > limit else None
    return SelfReportPage(
        items=[staff_summary(row, False, now) for row in rows[:limit]],
        next_cursor=pagination.encode(last.submitted_at, last.application_id) if last else None,
    )


def _staff_fields(row: SelfReport, show_personal_data: bool, now: datetime) -> dict[str, Any]:
    form = row.state["form"]
    return {
        "application_id": row.application_id,
        "head_name": form["head_name"],
        "id_number": form["id_number"] if show_personal_data else mask_id_number(form["id_number"]),
        "phone": form["phone"] if show_personal_data else mask_phone(form["phone"]),
        "village_code": row.village_code,
        "household_code": row.household_code,
        "risk_types": form["risk_types"],
        "status": row.status,
        "status_label": APPLICATION_STATUS_LABELS[ApplicationStatus(row.status)],
        "submitted_at": row.submitted_at,
        "due_at": row.due_at,
        "overdue": _is_overdue(row, now),
        "escalated_at": row.escalated_at,
        "decided_at": row.decided_at,
        "case_id": row.case_id if row.status == ApplicationStatus.accepted else None,
    }


def staff_summary(row: SelfReport, show_personal_data: bool, now: datetime) -> SelfReportSummary:
    return SelfReportSummary(**_staff_fields(row, show_personal_data, now))


async def staff_detail(session: AsyncSession, row: SelfReport, show_personal_data: bool) -> SelfReportDetail:
    state = row.state
    registered = await registered_household(session, state["form"]["id_number"])
    return SelfReportDetail(
        **_staff_fields(row, show_personal_data, datetime.now(UTC)),
        description=state["form"]["description"],
        risk_type_labels=[RISK_TYPE_LABELS[r] for r in state["form"]["risk_types"]],
        rejection_reason=state.get("rejection_reason"),
        decided_by=state.get("decided_by"),
        joined_open_case=state.get("joined_open_case", False),
        # Where acceptance would open the case now: the household holding the head's ID number.
        registered_household_code=registered.code if registered else None,
    )
