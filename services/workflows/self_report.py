"""One household self-report (一键申报) as one Temporal workflow, from submission to the case's result.

1. The first activity writes the application to PostgreSQL; the database refuses a second
   pending application for the same head or household, and the workflow then ends refused.
2. The township accepts or rejects it within the policy's `self_report_acceptance_days`. When
   that durable timer runs out the application is escalated to the county (whose officers may
   then decide it too) and keeps waiting. The applicant may withdraw it while it waits.
3. Accepting opens the household's identification case (channel self-report) or joins the
   open one, through an activity. The applicant is told by SMS of acceptance or rejection.
4. An accepted application waits for its case to close (`case_closed` signal, sent by the
   case's workflow once it has recorded its closing) and tells the applicant the result.

Each step is a Workflow Update with a validator; refusals use the identification workflow's
error types (WrongStep, Forbidden, NotFound, Invalid), plus Duplicate for a second application.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from services.workflows.refusals import UNRECORDABLE, UNRECORDABLE_MESSAGE, refuse_unrecordable
from services.workflows.refusals import refuse as _refuse

with workflow.unsafe.imports_passed_through():
    from services.domain.areas import area_contains, county_of, township_of
    from services.domain.identification.state import Actor
    from services.domain.self_reports.model import (
        ApplicationStatus,
        CaseOutcome,
        NoticeKind,
        NoticeRequest,
        OpenCaseRequest,
        SelfReportEvent,
        SelfReportStart,
        SelfReportState,
        applicant_actor,
        lead_note,
    )
    from services.domain.vocabulary import Role
    from services.workers.self_reports.activities import DUPLICATE, SelfReportActivities
    from services.workflows import procedure
    from services.workflows.contracts import CASE_CLOSED
    from services.workflows.contracts import self_report_workflow_id as self_report_workflow_id
    from services.workflows.patches import Patches

# `refusal["code"]` of an application PostgreSQL refused to store (the API answers 422 `unrecordable`).
UNRECORDABLE_CODE = "unrecordable"

# Database writes and SMS keep trying: a gateway or database outage delays, never loses.
_KEEP_TRYING = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))
# Opening the case answers a person who waits: after a few tries the acceptance fails (503) and
# may be sent again; the case id derived from the application keeps a retry from opening a second.
_OPEN_CASE_TRIES = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=5
)


@workflow.defn
class SelfReportWorkflow:
    @workflow.init
    def __init__(self, start: SelfReportStart) -> None:
        self._patched = Patches()  # first: a run asks for the baseline as it begins (patches.py)
        now = workflow.now()
        self._start = start
        self._state = SelfReportState(
            application_id=start.application_id,
            applicant_id=start.applicant_id,
            form=start.form,
            household_code=start.household_code,
            county_code=county_of(start.village_code),
            township_code=township_of(start.village_code),
            village_code=start.village_code,
            policy_version=start.policy.version,
            submitted_at=now,
            due_at=now + timedelta(days=start.policy.self_report_acceptance_days),
        )
        self._recorded = False
        self._recorder = procedure.Recorder(
            SelfReportActivities.record_self_report_event, SelfReportEvent, self._patched, retry_policy=_KEEP_TRYING
        )
        # True while an accept/reject/withdraw is between its check and its record: no second one starts.
        self._deciding = False
        self._case_outcomes: dict[str, CaseOutcome] = {}

    @workflow.run
    async def run(self, start: SelfReportStart) -> SelfReportState:
        applicant = applicant_actor(start.applicant_id, start.village_code)
        try:
            await self._record(
                "submit", applicant, {"risk_types": list(start.form.risk_types), "household_code": start.household_code}
            )
        except procedure.RECORD_FAILED as failure:
            cause = procedure.record_failure_cause(failure)
            if not (isinstance(cause, ApplicationError) and cause.type == DUPLICATE):
                raise
            self._state.refusal = {"message": cause.message, **(cause.details[0] if cause.details else {})}
            await workflow.wait_condition(workflow.all_handlers_finished)
            return self._state
        except procedure.EventRefused:
            # The application carried what PostgreSQL cannot store: nothing was recorded.
            self._state.refusal = {"message": UNRECORDABLE_MESSAGE, "code": UNRECORDABLE_CODE}
            await workflow.wait_condition(workflow.all_handlers_finished)
            return self._state
        self._recorded = True

        def answered() -> bool:
            # Not merely begun: an acceptance whose case could not be opened leaves the application
            # pending, and its deadline still runs.
            return self._state.status != ApplicationStatus.pending

        while True:
            if self._state.escalated_at is None:
                try:
                    await workflow.wait_condition(answered, timeout=self._state.due_at - workflow.now())
                except TimeoutError:
                    self._state.escalated_at = workflow.now()
                    await self._record("escalate", Actor.system(self._state.county_code), {})
            await workflow.wait_condition(answered)
            await workflow.wait_condition(lambda: not self._deciding)  # the answer is in the read model
            if answered():
                break
            # An answer PostgreSQL refused to store was taken back: the application waits on.

        if self._state.status == ApplicationStatus.rejected:
            await self._notify(NoticeKind.rejected)
        elif self._state.status == ApplicationStatus.accepted:
            await self._notify(NoticeKind.accepted)
            await workflow.wait_condition(lambda: self._state.case_id in self._case_outcomes)
            assert self._state.case_id is not None
            outcome = self._case_outcomes[self._state.case_id]
            self._state.case_outcome = outcome
            await self._record("case_decided", Actor.system(self._state.county_code), outcome.model_dump(mode="json"))
            await self._notify(NoticeKind.case_decided)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    # -- reads ---------------------------------------------------------------

    @workflow.query
    def state(self) -> SelfReportState:
        return self._state

    @workflow.update
    async def submitted(self) -> SelfReportState:
        """Answers once the application is in the read model, or refuses a duplicate."""
        await workflow.wait_condition(lambda: self._recorded or self._state.refusal is not None)
        if self._state.refusal is not None:
            unrecordable = self._state.refusal.get("code") == UNRECORDABLE_CODE
            raise _refuse(UNRECORDABLE if unrecordable else DUPLICATE, **self._state.refusal)
        return self._state

    # -- the township's answer -------------------------------------------------

    @workflow.update
    async def accept(self, actor: Actor, household_code: str, household_village: str) -> SelfReportState:
        self._validate_accept(actor, household_code, household_village)
        self._deciding = True
        request = OpenCaseRequest(
            application_id=self._state.application_id,
            household_code=household_code,
            village_code=household_village,
            lead_note=lead_note(self._state.form),
            actor=actor,
        )
        try:
            opened = await workflow.execute_activity_method(
                SelfReportActivities.open_case_for_self_report,
                request,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=_OPEN_CASE_TRIES,
            )
        except ActivityError as failure:
            self._deciding = False
            raise _refuse("Unavailable", "暂时无法为该户发起识别案件，请稍后重试") from failure
        self._state.household_code = household_code
        self._state.case_id = opened.case_id
        self._state.joined_open_case = opened.joined
        return await self._decide(
            ApplicationStatus.accepted, actor, "accept", {"case_id": opened.case_id, "joined_open_case": opened.joined}
        )

    @accept.validator
    def _validate_accept(self, actor: Actor, household_code: str, household_village: str) -> None:
        self._check_decider(actor)
        if not (
            household_code.startswith(household_village) and area_contains(self._state.township_code, household_village)
        ):
            raise _refuse("Invalid", "该户不在本镇登记，请核实农户档案", field="household_code")

    @workflow.update
    async def reject(self, actor: Actor, reason: str) -> SelfReportState:
        self._validate_reject(actor, reason)
        self._state.rejection_reason = reason
        return await self._decide(ApplicationStatus.rejected, actor, "reject", {"reason": reason})

    @reject.validator
    def _validate_reject(self, actor: Actor, reason: str) -> None:
        self._check_decider(actor)
        if not reason.strip():
            raise _refuse("Invalid", "不予受理时须填写理由", field="reason")

    @workflow.update
    async def withdraw(self, applicant_id: str) -> SelfReportState:
        self._validate_withdraw(applicant_id)
        actor = applicant_actor(applicant_id, self._state.village_code)
        return await self._decide(ApplicationStatus.withdrawn, actor, "withdraw", {})

    @withdraw.validator
    def _validate_withdraw(self, applicant_id: str) -> None:
        if applicant_id != self._state.applicant_id:
            raise _refuse("NotFound", "没有找到这份申报")
        self._check_pending("撤回")

    @workflow.signal(name=CASE_CLOSED)
    def case_closed(self, outcome: CaseOutcome) -> None:
        """The case this application is linked to (or about to be) has closed. Repeats change nothing."""
        self._case_outcomes.setdefault(outcome.case_id, outcome)

    # -- helpers --------------------------------------------------------------

    def _check_pending(self, doing: str) -> None:
        if self._deciding or self._state.status != ApplicationStatus.pending:
            raise _refuse(
                "WrongStep",
                f"这份申报已经{'在处理中' if self._deciding else '处理完毕'}，不能再{doing}",
                current_status=self._state.status,
            )

    def _check_decider(self, actor: Actor) -> None:
        in_township = actor.role == Role.township_approver and area_contains(actor.area_code, self._state.village_code)
        county_takes_over = (
            actor.role == Role.county_officer
            and self._state.escalated_at is not None
            and area_contains(actor.area_code, self._state.village_code)
        )
        if not (in_township or county_takes_over):
            if actor.role == Role.county_officer and area_contains(actor.area_code, self._state.village_code):
                raise _refuse("Forbidden", "申报超过受理时限转县督办后，县乡村振兴局才能直接受理")
            if actor.role in (Role.township_approver, Role.county_officer):
                raise _refuse("NotFound", "没有找到这份申报，或它不在您的管辖区域内")
            raise _refuse("Forbidden", "只有镇审核人员可以受理农户申报")
        if not self._recorded:
            raise _refuse("WrongStep", "这份申报还在提交中", current_status=self._state.status)
        self._check_pending("受理或驳回")

    async def _decide(
        self, status: ApplicationStatus, actor: Actor, action: str, data: dict[str, Any]
    ) -> SelfReportState:
        self._deciding = True
        self._state.status = status
        self._state.decided_at = workflow.now()
        self._state.decided_by = actor.display_name if actor.role is not None else None
        try:
            return await self._record(action, actor, data)
        except procedure.EventRefused as refused:  # e.g. a reason PostgreSQL cannot store: still pending
            self._recorder.take_back(self._state, refused)
            raise refuse_unrecordable() from None
        finally:
            self._deciding = False

    async def _record(self, action: str, actor: Actor, data: dict[str, Any]) -> SelfReportState:
        """Writes the change just made to the read model and the history, then returns the state."""
        return await self._recorder.record(self._state, action, actor, data)

    async def _notify(self, kind: NoticeKind) -> None:
        outcome = self._state.case_outcome.outcome if self._state.case_outcome else None
        notice = NoticeRequest(
            application_id=self._state.application_id,
            kind=kind,
            phone=self._start.notice_phone,
            submitted_at=self._state.submitted_at,
            reason=self._state.rejection_reason,
            outcome=outcome,
            joined_open_case=self._state.joined_open_case,
        )
        await workflow.execute_activity_method(
            SelfReportActivities.send_self_report_notice,
            notice,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_KEEP_TRYING,
        )
