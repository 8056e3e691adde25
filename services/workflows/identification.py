"""The identification procedure (识别认定) of one case, as one Temporal workflow.

Every human step is a Workflow Update whose validator refuses a wrong step, a
wrong actor or a payload the policy does not accept before anything enters
history; the handler checks again (two updates can both pass validation before
either runs), changes the state, and waits until an activity has written the
event to PostgreSQL, so the caller's answer is already visible in lists.

The department cross-check (信息比对) starts once the household has signed the
authorisation, and the democratic review waits for it (its results are the review's basis;
cases started before that rule ran it beside the review and the notice): one request per
department, each sent by an activity that retries with backoff under the same
request id. Department results arrive through `receive_cross_check_result` (the
worker forwards them from the callback inbox). A department that accepted its request
but stays silent past its re-ask time is asked again with the same request id (its
answer may have been lost in an outage), and the county officer sees it as `silent`;
one that has not answered by its deadline becomes a task for the county officer
(re-send, or record by hand).
The case waits at the `cross_check` step until every department has answered or been
settled, then goes to the democratic review (or, for an older case whose notice ended first,
to the township review). The township approves or returns the case to home verification
for rework (`township_returns`); only the county rejects.

Deadlines are timers too: when a step's deadline (policy `step_days`) or the identification's
(`identification_days`) passes while the case still waits, an `escalate` event tells the level
above (services/domain/identification/escalation.py); the recorded events drive the task inbox.

The case tells the other workflows what concerns them, so its history shows it: once its opening
is recorded, the household's monitoring workflow (if one runs: an open risk); once its closing is
recorded, monitoring (`tell_monitoring_case_ended` starts it for a monitoring target) and every
self-report linked to the case (`case_closed`). The closing step answers after both
(services/workflows/hand_over.py).

Error types raised to callers (the API maps them to HTTP statuses):
  WrongStep → 409, AlreadyRecorded → 409, NotOverdue → 409, Forbidden → 403, NotFound → 404, Invalid → 422.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from services.workflows.refusals import refuse as _refuse
from services.workflows.refusals import refuse_unrecordable

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from services.domain.areas import county_of, township_of
    from services.domain.changes import state_changes
    from services.domain.eligibility import Eligibility, judge_eligibility
    from services.domain.identification.cross_check import (
        CrossCheckDispatch,
        CrossCheckPlanInput,
        CrossCheckRound,
        DepartmentRequest,
    )
    from services.domain.identification.escalation import escalation, pending_deadlines
    from services.domain.identification.forms import (
        Announcement,
        Authorisation,
        CountyDecision,
        CrossCheckEntry,
        CrossCheckResend,
        CrossCheckResult,
        DemocraticReview,
        FastTrack,
        HomeVerification,
        Lead,
        Objection,
        ObjectionResolution,
        TownshipReview,
    )
    from services.domain.identification.procedure import IDENTIFICATION
    from services.domain.identification.state import (
        Actor,
        CaseEvent,
        CaseStart,
        CaseState,
        FastTrackRecord,
        LeadRecord,
        NoticePeriod,
        StepRecorded,
    )
    from services.domain.months import local_date
    from services.domain.update_inputs import DepartmentAnswer, ItemStepInput, StepInput
    from services.domain.vocabulary import (
        CATEGORY_LABELS,
        DEPARTMENT_LABELS,
        NEEDS_OFFICER,
        SETTLED,
        UNANSWERED,
        Action,
        Category,
        CrossCheckStatus,
        Department,
        Outcome,
        Step,
    )
    from services.workers.identification.cross_checks import DEPARTMENT_NOT_CONFIGURED, CrossCheckActivities
    from services.workers.identification.records import CaseRecordActivities
    from services.workflows import hand_over, procedure
    from services.workflows.patches import Patches
    from services.workflows.wake_up import WakeUp

RECEIVE_RESULT = "receive_cross_check_result"
# What a refused update that is no action of the table is called for the county officer.
_OTHER_LABELS = {RECEIVE_RESULT: "接收部门比对结果"}
# A step that begins a cross-check round starts it once the step is recorded (it was at once).
CROSS_CHECK_AFTER_RECORD_PATCH = "cross-check-after-recorded-step"
# Step deadlines and the identification limit escalate (timers added after the first release).
DEADLINES_PATCH = "escalate-missed-deadlines"
# Departments silent past their re-ask time are asked again (timers and sends added later).
REASK_PATCH = "reask-silent-departments"
# A department that answered got its request: its send is left to finish rather than cancelled
# (cancelling an activity in the workflow task that completes it wedges the time-skipping test server).
KEEP_ANSWERED_SENDS_PATCH = "keep-answered-sends"
# The case tells monitoring of its opening, and monitoring and its self-reports of its closing, itself
# (before, the record activity did, unseen in the history). Two patches: a case opened before this
# change still hands over when it closes after it.
TELL_OPENING_PATCH = "tell-monitoring-case-opened"
HAND_OVER_CLOSING_PATCH = "hand-over-closed-case"
# The democratic review waits for the cross-check (the seed: its results are the review's basis);
# before, the review and the notice ran beside it and only the township review waited.
REVIEW_AFTER_CROSS_CHECK_PATCH = "review-after-cross-check"
# One timer per deadline: the watches keep their timer while the deadline they wait for stays
# (before, every change to the case or its cross-check started and cancelled one).
ONE_TIMER_PATCH = "one-timer-per-deadline"
# A watch that ends leaves no timer to wake the workflow for nothing: the cross-check watch cancels
# its timer when its round ends; the deadline watch, restarted after a closing taken back, keeps the
# timer it had (before, each was left to fire at its moment).
STOP_WATCH_TIMER_PATCH = "stop-ended-watch-timer"
# A department's acceptance of its request is an event of its own. Before, it reached the read model
# only with the case's next event: a department that accepted and then stayed silent showed as still
# being sent to (发送中) on the case page until its re-ask, hours later.
RECORD_ACCEPTANCE_PATCH = "record-cross-check-acceptance"

# A department that is down is retried with backoff until its answer deadline (INTERFACES.md §1).
_SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=[DEPARTMENT_NOT_CONFIGURED],
)
_SEND_ATTEMPT_TIMEOUT = timedelta(seconds=30)


def identification_workflow_id(household_code: str) -> str:
    """One open identification per household: the id is the household's."""
    return f"identification-{household_code}"


@workflow.defn
class IdentificationWorkflow:
    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self._patched = Patches()  # first: a run asks for the baseline as it begins (patches.py)
        now = workflow.now()
        self._policy = start.policy
        self._formerly_poor = start.formerly_poor
        self._opened = False
        self._start_refused = False
        self._recorder = procedure.Recorder(
            CaseRecordActivities.record_case_event, CaseEvent, self._patched, light=True
        )
        self._village = procedure.VillageProcedure(
            start.policy,
            record=lambda: self._state,
            move_to=lambda step: self._move_to(Step(step)),
            close=lambda outcome: self._close(Outcome(outcome)),
            patched=self._patched,
        )
        self._deadlines: asyncio.Task[None] | None = None
        # The deadline watch's timer outlives the watch: a closing taken back (`_resume`) finds it running.
        self._deadline_wake = WakeUp()
        self._cross_check_task: asyncio.Task[None] | None = None
        # One send task per (round, department); cancelled once that department is settled.
        self._sends: dict[tuple[int, Department], asyncio.Task[None]] = {}
        # Rises with every change to the cross-check, so its deadline watch wakes up.
        self._cross_check_changes = 0
        # The state as last recorded: each event's audit entry holds what changed since.
        self._recorded: dict[str, Any] = {}
        self._state = CaseState(
            case_id=start.case_id,
            household_code=start.household_code,
            county_code=county_of(start.village_code),
            township_code=township_of(start.village_code),
            village_code=start.village_code,
            channel=start.channel,
            lead_note=start.lead_note,
            policy_version=start.policy.version,
            step=Step.home_verification,
            opened_at=now,
            due_at=now + timedelta(days=start.policy.identification_days),
            step_started_at=now,
            step_due_at=self._step_due(Step.home_verification),
        )

    @workflow.run
    async def run(self, start: CaseStart) -> StepRecorded:
        """Ends with the case's last event (the case itself is in the read model; its whole state as
        the result weighed on every history)."""
        try:
            await self._record("open_case", start.opened_by, {"channel": start.channel, "lead_note": start.lead_note})
        except procedure.EventRefused:
            # The start carried what PostgreSQL cannot store: no case was recorded, none stays open.
            self._start_refused = True
            await workflow.wait_condition(workflow.all_handlers_finished)
            raise refuse_unrecordable() from None
        self._opened = True
        if self._patched(DEADLINES_PATCH):
            self._deadlines = asyncio.create_task(self._escalate_missed_deadlines())
        if self._patched(TELL_OPENING_PATCH):  # sent with the answer to `opened`, which need not wait
            await hand_over.tell_monitoring_opened(self._state)
        while True:
            while self._state.is_open:
                step = self._state.step
                if step == Step.village_notice:
                    await self._run_notice()
                else:
                    await workflow.wait_condition(lambda: self._state.step != step or self._cross_check_failed())
                if self._cross_check_failed():
                    assert self._cross_check_task is not None
                    self._cross_check_task.result()  # a bug in the cross-check: fail the workflow task, visibly
            await workflow.wait_condition(workflow.all_handlers_finished)
            if not self._state.is_open:
                break
            # A closing step PostgreSQL refused was taken back: the case is open again.
        if self._cross_check_task is not None:
            await self._cross_check_task
        if self._deadlines is not None:
            await self._deadlines
        return StepRecorded(case_id=self._state.case_id, seq=self._state.seq)

    # -- reads ---------------------------------------------------------------

    @workflow.query
    def state(self) -> CaseState:
        return self._state

    @workflow.update
    async def opened(self) -> CaseState:
        """Answers once the new case is in the read model; the API awaits it right after the start.
        Refuses (Unrecordable) when PostgreSQL refused the start: the workflow then fails, no case open."""
        await workflow.wait_condition(lambda: self._opened or self._start_refused)
        if self._start_refused:
            raise refuse_unrecordable()
        return self._state

    # -- steps ---------------------------------------------------------------
    # Each Update takes one input (services/domain/update_inputs.py); `one_input` still takes the
    # separate arguments older histories hold. Who may act, and at which step: IDENTIFICATION.

    @workflow.update
    @procedure.one_input
    async def verify_home(self, act: StepInput[HomeVerification]) -> StepRecorded:
        self._check(Action.verify_home, act.actor)
        self._state.verification = act.form
        self._state.per_capita_net_income = act.form.per_capita_net_income
        self._state.eligibility = self._judge(act.form)
        signed = self._state.authorisation is not None and self._state.authorisation.decision == "signed"
        if signed:  # a second round (sent back by an objection or the township): the cross-check runs again
            self._move_to(self._step_after_authorisation())
            return await self._answer_beginning_cross_check(Action.verify_home, act.actor, act.form)
        self._move_to(Step.authorisation)
        return await self._answer(Action.verify_home, act.actor, act.form)

    @verify_home.validator
    @procedure.one_input
    def _validate_verify_home(self, act: StepInput[HomeVerification]) -> None:
        self._check(Action.verify_home, act.actor)
        procedure.check_dates(act.form)
        procedure.check_verifiers(self._policy, act.form.verifiers)
        eligibility = self._judge(act.form)
        if not eligibility.supports(act.form.proposed_category) and not act.form.category_reason:
            raise _refuse("Invalid", eligibility.disagreement(act.form.proposed_category), field="category_reason")

    def _judge(self, found: HomeVerification) -> Eligibility:
        """The figures' proposal, by the line of the case's policy in force on the verification date and
        the register's 脱贫户 flag as the case opened (unknown: either income category fits the range)."""
        return judge_eligibility(found, self._policy, formerly_poor=self._formerly_poor)

    @workflow.update
    @procedure.one_input
    async def record_authorisation(self, act: StepInput[Authorisation]) -> StepRecorded:
        self._check(Action.record_authorisation, act.actor)
        self._state.authorisation = act.form
        if act.form.decision == "signed":
            self._move_to(self._step_after_authorisation())
            return await self._answer_beginning_cross_check(Action.record_authorisation, act.actor, act.form)
        self._close(Outcome.authorisation_refused)
        return await self._answer(Action.record_authorisation, act.actor, act.form)

    @record_authorisation.validator
    @procedure.one_input
    def _validate_record_authorisation(self, act: StepInput[Authorisation]) -> None:
        self._check(Action.record_authorisation, act.actor)
        procedure.check_dates(act.form)

    @workflow.update
    @procedure.one_input
    async def record_cross_check(self, act: StepInput[CrossCheckEntry]) -> StepRecorded:
        """The county officer records results by hand, with a reason (a department without a
        system, or one that did not answer in time)."""
        self._validate_record_cross_check(act)
        for result in act.form.results:
            request = self._round().requests[result.department]
            request.recorded_by, request.reason = act.actor.username, act.form.reason
            self._settle(request, CrossCheckStatus.recorded_by_hand, result)
        return await self._answer(Action.record_cross_check, act.actor, act.form)

    @record_cross_check.validator
    @procedure.one_input
    def _validate_record_cross_check(self, act: StepInput[CrossCheckEntry]) -> None:
        self._check(Action.record_cross_check, act.actor)
        round_ = self._round_or_refuse()
        for result in act.form.results:
            request = round_.requests.get(result.department)
            if request is None:
                raise _refuse("Invalid", "本案件适用的政策不要求该部门比对", field="results.department")
            if request.status in SETTLED:
                raise _refuse("AlreadyRecorded", "该部门的比对结果已录入", department=result.department)

    @workflow.update
    @procedure.one_input
    async def resend_cross_check(self, act: StepInput[CrossCheckResend]) -> StepRecorded:
        """A new request (new request id, new deadline) to a department that did not answer in time."""
        self._validate_resend_cross_check(act)
        request = self._round().requests[act.form.department]
        if request.request_id:
            request.earlier_request_ids.append(request.request_id)
        now = workflow.now()
        request.request_id = workflow.uuid4().hex
        request.status = CrossCheckStatus.sending
        request.requested_at, request.respond_by = now, now + timedelta(days=request.answer_days)
        request.accepted_at = None
        request.reasked_at, request.reasks = None, 0
        request.resends += 1
        self._cross_check_changed()
        state = await self._answer(
            Action.resend_cross_check,
            act.actor,
            {**act.form.model_dump(mode="json"), "request_id": request.request_id},
        )
        self._send(request)  # after the record: the request is in the read model before a callback can come
        return state

    @resend_cross_check.validator
    @procedure.one_input
    def _validate_resend_cross_check(self, act: StepInput[CrossCheckResend]) -> None:
        self._check(Action.resend_cross_check, act.actor)
        department = act.form.department
        request = self._round_or_refuse().requests.get(department)
        if request is None:
            raise _refuse("Invalid", "本案件适用的政策不要求该部门比对", field="department")
        if request.status in SETTLED:
            raise _refuse("AlreadyRecorded", "该部门的比对结果已录入", department=department)
        if request.status not in NEEDS_OFFICER:
            raise _refuse(
                "NotOverdue",
                "该部门尚未逾期，仍在等待反馈，暂不能重新发送",
                department=department,
                respond_by=request.respond_by.isoformat(),
            )

    @workflow.update
    @procedure.one_input
    async def receive_cross_check_result(self, answer: DepartmentAnswer) -> str:
        """A department's result, forwarded from the callback inbox. Answers `recorded`, `repeat`
        (the same result again: nothing changes) or `not_awaiting` (an earlier round, a closed
        case, or a department already settled)."""
        request_id, result = answer.request_id, answer.result
        round_ = self._state.cross_check if self._state.is_open else None
        request = round_.request_with_id(request_id) if round_ else None
        if request is None or request.department != result.department:
            return "not_awaiting"
        if request.status == CrossCheckStatus.answered and self._state.cross_checks.get(request.department) == result:
            return "repeat"
        if not request.awaits_result:
            return "not_awaiting"
        request.answered_at = workflow.now()
        self._settle(request, CrossCheckStatus.answered, result)
        await self._answer(
            RECEIVE_RESULT,
            self._department_actor(request.department),
            {"request_id": request_id, **result.model_dump(mode="json")},
        )
        return "recorded"

    @workflow.update
    @procedure.one_input
    async def record_review(self, act: StepInput[DemocraticReview]) -> StepRecorded:
        self._check(Action.record_review, act.actor)
        round_ = self._state.cross_check
        review = self._village.review(act.form)
        review.cross_check_pending = round_.pending if round_ else list(self._policy.cross_check_departments)
        return await self._answer(Action.record_review, act.actor, act.form)

    @record_review.validator
    @procedure.one_input
    def _validate_record_review(self, act: StepInput[DemocraticReview]) -> None:
        self._check(Action.record_review, act.actor)
        self._village.check_review(act.form)

    @workflow.update
    @procedure.one_input
    async def file_objection(self, act: StepInput[Objection]) -> StepRecorded:
        self._validate_file_objection(act)
        self._village.file_objection(act.form, act.actor)
        return await self._answer(Action.file_objection, act.actor, act.form)

    @file_objection.validator
    @procedure.one_input
    def _validate_file_objection(self, act: StepInput[Objection]) -> None:
        self._check(Action.file_objection, act.actor)
        self._village.check_objection(act.form)

    @workflow.update
    @procedure.one_input
    async def resolve_objection(self, act: ItemStepInput[ObjectionResolution]) -> StepRecorded:
        self._validate_resolve_objection(act)
        self._village.resolve_objection(act.item, act.form, act.actor, self._clear_cross_check)
        data = {"objection_id": act.item, **act.form.model_dump(mode="json")}
        return await self._answer(Action.resolve_objection, act.actor, data)

    @resolve_objection.validator
    @procedure.one_input
    def _validate_resolve_objection(self, act: ItemStepInput[ObjectionResolution]) -> None:
        self._check(Action.resolve_objection, act.actor)
        self._village.check_resolution(act.item)

    @workflow.update
    @procedure.one_input
    async def review_in_township(self, act: StepInput[TownshipReview]) -> StepRecorded:
        self._check(Action.review_in_township, act.actor)
        self._village.review_in_township(act.form, act.actor, verify_again=self._clear_cross_check)
        return await self._answer(Action.review_in_township, act.actor, act.form)

    @review_in_township.validator
    @procedure.one_input
    def _validate_review_in_township(self, act: StepInput[TownshipReview]) -> None:
        self._check(Action.review_in_township, act.actor)

    @workflow.update
    @procedure.one_input
    async def decide_in_county(self, act: StepInput[CountyDecision]) -> StepRecorded:
        self._check(Action.decide_in_county, act.actor)
        self._village.decide_in_county(act.form, approved=lambda: self._move_to(Step.announcement))
        return await self._answer(Action.decide_in_county, act.actor, act.form)

    @decide_in_county.validator
    @procedure.one_input
    def _validate_decide_in_county(self, act: StepInput[CountyDecision]) -> None:
        self._check(Action.decide_in_county, act.actor)

    @workflow.update
    @procedure.one_input
    async def announce(self, act: StepInput[Announcement]) -> StepRecorded:
        self._check(Action.announce, act.actor)
        self._state.announcement = act.form
        self._close(Outcome.monitoring_target)
        return await self._answer(Action.announce, act.actor, act.form)

    @announce.validator
    @procedure.one_input
    def _validate_announce(self, act: StepInput[Announcement]) -> None:
        self._check(Action.announce, act.actor)
        procedure.check_dates(act.form)

    @workflow.update
    @procedure.one_input
    async def add_lead(self, act: StepInput[Lead]) -> StepRecorded:
        """A further lead joins the open case, at whatever step it stands."""
        self._validate_add_lead(act)
        self._state.further_leads.append(
            LeadRecord(**act.form.model_dump(), added_by=act.actor.username, added_at=workflow.now())
        )
        return await self._answer(Action.add_lead, act.actor, act.form)

    @add_lead.validator
    @procedure.one_input
    def _validate_add_lead(self, act: StepInput[Lead]) -> None:
        # The service itself (role None) adds leads from department warnings and self-reports.
        if act.actor.role is not None and act.actor.role not in IDENTIFICATION.action(Action.add_lead).roles:
            raise _refuse("Forbidden", "您的角色不能登记线索")
        procedure.check_area(act.actor, self._state.village_code)
        if not self._state.is_open:
            raise _refuse("WrongStep", "该案件已办结", current_step=self._state.step)

    def _step_after_authorisation(self) -> Step:
        """The cross-check round starts; the review waits at `cross_check` until every department
        has answered or been settled (cases of earlier histories went to the review at once)."""
        return Step.cross_check if self._patched(REVIEW_AFTER_CROSS_CHECK_PATCH) else Step.democratic_review

    @workflow.update
    @procedure.one_input
    async def start_fast_track(self, act: StepInput[FastTrack]) -> StepRecorded:
        """绿色通道（先帮后评）: the township starts support for a sudden severe difficulty before the
        identification ends. Nothing else changes: the case stays at its step and the steps go on."""
        self._validate_start_fast_track(act)
        self._state.fast_track = FastTrackRecord(
            **act.form.model_dump(), started_by=act.actor.username, recorded_at=workflow.now()
        )
        return await self._answer(Action.start_fast_track, act.actor, act.form)

    @start_fast_track.validator
    @procedure.one_input
    def _validate_start_fast_track(self, act: StepInput[FastTrack]) -> None:
        self._check(Action.start_fast_track, act.actor)
        procedure.check_dates(act.form)
        if self._state.fast_track is not None:
            raise _refuse("AlreadyRecorded", "本案件已启动绿色通道")
        if act.form.started_on < local_date(self._state.opened_at):
            raise _refuse("Invalid", "先行帮扶启动日期不能早于案件发起日期", field="started_on")
        found = self._state.verification
        if found is not None and found.proposed_category != Category.sudden_hardship:
            raise _refuse(
                "Invalid",
                f"绿色通道仅适用于突发严重困难户：本案入户核查拟认定为{CATEGORY_LABELS[found.proposed_category]}",
                field="emergency",
            )

    # -- the notice period ----------------------------------------------------

    async def _run_notice(self) -> None:
        """Ends the notice when its days are up and no objection is pending."""
        round_ = self._state.verification_round

        def still_in_this_notice() -> bool:
            return self._state.step == Step.village_notice and self._state.verification_round == round_

        if await procedure.notice_ran_out(self._notice(), still_in_this_notice):
            # Township review sees every department's answer: wait at `cross_check` for the missing ones.
            self._move_to(Step.township_review if self._cross_check_complete() else Step.cross_check)
            await self._record("end_notice", self._system(), {})

    # -- the department cross-check ------------------------------------------

    async def _answer_beginning_cross_check(self, action: Action, actor: Actor, form: BaseModel) -> StepRecorded:
        """Answers a step that begins a cross-check round. The round starts once the step is
        recorded, so a step PostgreSQL refuses sends nothing (earlier histories: at once)."""
        self._state.cross_check = None
        self._state.cross_checks = {}
        if not self._patched(CROSS_CHECK_AFTER_RECORD_PATCH):
            self._cross_check_task = asyncio.create_task(self._run_cross_check(self._state.verification_round))
            return await self._answer(action, actor, form)
        state = await self._answer(action, actor, form)
        self._cross_check_task = asyncio.create_task(self._run_cross_check(self._state.verification_round))
        return state

    def _in_round(self, round_no: int) -> bool:
        return self._state.is_open and self._state.verification_round == round_no

    async def _run_cross_check(self, round_no: int) -> None:
        """Plans the round, sends every request, and turns missed deadlines into officer tasks."""
        plan = await workflow.execute_activity_method(
            CrossCheckActivities.plan_cross_check,
            CrossCheckPlanInput(
                household_code=self._state.household_code,
                county_code=self._state.county_code,
                departments=list(self._policy.cross_check_departments),
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=procedure.RECORD_RETRY,
        )
        if not self._in_round(round_no):
            return
        now = workflow.now()
        default_days = self._policy.step_days.get(Step.cross_check, IDENTIFICATION.step_days[Step.cross_check])
        requests = {}
        for department in self._policy.cross_check_departments:
            setup = plan.configured.get(department)
            days = setup.answer_days if setup and setup.answer_days else default_days
            requests[department] = DepartmentRequest(
                department=department,
                request_id=workflow.uuid4().hex if setup else None,
                status=CrossCheckStatus.sending if setup else CrossCheckStatus.not_configured,
                requested_at=now,
                answer_days=days,
                respond_by=now + timedelta(days=days),
                reask_hours=setup.reask_hours if setup else None,
            )
        self._state.cross_check = CrossCheckRound(
            round=round_no, subjects=plan.subjects, requests=requests, started_at=now
        )
        self._cross_check_changed()
        await self._record(
            "request_cross_check",
            self._system(),
            {
                "round": round_no,
                "subjects": len(plan.subjects),
                "requests": {
                    d: r.model_dump(mode="json", include={"request_id", "status", "respond_by"})
                    for d, r in requests.items()
                },
            },
        )
        for request in requests.values():
            if request.status == CrossCheckStatus.sending and self._in_round(round_no):
                self._send(request)
        await self._watch_round(round_no)

    async def _watch_round(self, round_no: int) -> None:
        try:
            await self._watch_deadlines(round_no)
        finally:
            for (sent_round, department), task in list(self._sends.items()):
                if sent_round == round_no and not self._answered_send(round_no, department):
                    task.cancel()

    async def _watch_deadlines(self, round_no: int) -> None:
        """Makes unanswered requests overdue at their deadline and, before it, asks silent
        departments again (in rounds watched since the re-ask came in; older ones replay as they ran)."""
        reask = self._patched(REASK_PATCH)
        wake = WakeUp() if self._patched(ONE_TIMER_PATCH) else None
        # Asked here, not in `finally`: that also runs when the worker evicts the workflow, outside its
        # event loop, where no workflow call may be made (the case's opening wrote the patch's marker).
        stop_timer = wake is not None and self._patched(STOP_WATCH_TIMER_PATCH)
        try:
            await self._watch_round_deadlines(round_no, reask, wake)
        finally:
            if stop_timer and wake is not None:
                wake.stop()

    async def _watch_round_deadlines(self, round_no: int, reask: bool, wake: WakeUp | None) -> None:
        while self._in_round(round_no) and not self._round().complete:
            seen = self._cross_check_changes
            unanswered = [r for r in self._round().requests.values() if r.status in UNANSWERED]
            wake_at = [r.respond_by for r in unanswered]
            if reask:
                wake_at += [at for r in unanswered if (at := r.next_reask_at) is not None]
            if wake is not None:
                wake.at(min(wake_at) if wake_at else None)
                await workflow.wait_condition(
                    lambda: self._cross_check_changes != seen or not self._in_round(round_no) or wake.due()
                )
                if not wake.due():
                    continue
            else:
                timeout = min(wake_at) - workflow.now() if wake_at else None
                if timeout is None or timeout > timedelta(0):
                    try:
                        await workflow.wait_condition(
                            lambda: self._cross_check_changes != seen or not self._in_round(round_no), timeout=timeout
                        )
                        continue
                    except TimeoutError:
                        pass
            if not self._in_round(round_no):
                return
            now = workflow.now()
            overdue = [r for r in self._round().requests.values() if r.status in UNANSWERED and r.respond_by <= now]
            for request in overdue:
                request.status = CrossCheckStatus.overdue
            if overdue:
                self._cross_check_changed()
                await self._record(
                    "cross_check_overdue",
                    self._system(),
                    {
                        "departments": [r.department for r in overdue],
                        "request_ids": [r.request_id for r in overdue],
                    },
                )
            if reask and self._in_round(round_no):
                await self._reask_silent(round_no)

    async def _reask_silent(self, round_no: int) -> None:
        """Asks again, under the same request id, each department that accepted its request but
        has not answered within its re-ask time (INTERFACES.md §1: a repeated request id is the
        same request, so a department that did answer changes nothing)."""
        now = workflow.now()
        silent = [r for r in self._round().requests.values() if (at := r.next_reask_at) is not None and at <= now]
        if not silent:
            return
        for request in silent:
            request.status = CrossCheckStatus.silent
            request.reasks += 1
            request.reasked_at = now
        self._cross_check_changed()
        await self._record(
            "reask_cross_check",
            self._system(),
            {
                "departments": [r.department for r in silent],
                "request_ids": [r.request_id for r in silent],
                "reasks": {r.department: r.reasks for r in silent},
                "silent_since": {r.department: r.accepted_at.isoformat() for r in silent if r.accepted_at},
            },
        )
        for request in silent:  # unless its answer came while the re-ask was being recorded
            if self._in_round(round_no) and request.status == CrossCheckStatus.silent:
                self._send(request)

    def _send(self, request: DepartmentRequest) -> None:
        key = (self._round().round, request.department)
        if (earlier := self._sends.pop(key, None)) is not None:
            earlier.cancel()
        assert request.request_id is not None
        self._sends[key] = asyncio.create_task(self._deliver(self._round(), request, request.request_id))

    async def _deliver(self, round_: CrossCheckRound, request: DepartmentRequest, request_id: str) -> None:
        """Sends one request (first, or again to a silent department), retried with backoff
        (same request id) until its deadline."""
        dispatch = CrossCheckDispatch(
            request_id=request_id,
            department=request.department,
            county_code=self._state.county_code,
            case_reference=self._state.case_id,
            round=round_.round,
            respond_by=request.respond_by,
        )
        try:
            await workflow.execute_activity_method(
                CrossCheckActivities.send_cross_check_request,
                dispatch,
                start_to_close_timeout=_SEND_ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=max(request.respond_by - workflow.now(), 2 * _SEND_ATTEMPT_TIMEOUT),
                retry_policy=_SEND_RETRY,
            )
        except ActivityError as error:
            # Gave up at the deadline (the deadline watch makes it overdue), or nothing to send to.
            cause = error.cause
            if (
                isinstance(cause, ApplicationError)
                and cause.type == DEPARTMENT_NOT_CONFIGURED
                and self._still_sending(round_, request, request_id)
            ):
                request.status = CrossCheckStatus.not_configured
                self._cross_check_changed()
                await self._record(
                    "cross_check_not_configured",
                    self._system(),
                    {"department": request.department, "request_id": request_id},
                )
            return
        if self._still_sending(round_, request, request_id):
            request.status = CrossCheckStatus.awaiting
            request.accepted_at = workflow.now()
            self._cross_check_changed()
            if self._patched(RECORD_ACCEPTANCE_PATCH):
                # Shielded: a send cancelled from now on (its round ended) must not cancel a record under way.
                data = {"department": request.department, "request_id": request_id}
                await asyncio.shield(self._record("cross_check_accepted", self._system(), data))

    def _still_sending(self, round_: CrossCheckRound, request: DepartmentRequest, request_id: str) -> bool:
        return (
            self._state.cross_check is round_
            and self._state.is_open
            and request.request_id == request_id
            and request.status == CrossCheckStatus.sending
        )

    def _settle(self, request: DepartmentRequest, status: CrossCheckStatus, result: CrossCheckResult) -> None:
        request.status = status
        self._state.cross_checks[request.department] = result
        round_no = self._round().round
        if (send := self._sends.pop((round_no, request.department), None)) is not None and not self._answered_send(
            round_no, request.department
        ):
            send.cancel()
        self._cross_check_changed()

    def _answered_send(self, round_no: int, department: Department) -> bool:
        """Whether this department answered in this round (so its send reached it and is left to finish)."""
        round_ = self._state.cross_check
        request = round_.requests.get(department) if round_ is not None and round_.round == round_no else None
        return (
            request is not None
            and request.status == CrossCheckStatus.answered
            and self._patched(KEEP_ANSWERED_SENDS_PATCH)
        )

    def _cross_check_changed(self) -> None:
        """Wakes the deadline watch; completes the round, and ends the wait at `cross_check`."""
        self._cross_check_changes += 1
        round_ = self._state.cross_check
        if round_ is None or not self._state.is_open:
            return
        if round_.complete and round_.completed_at is None:
            round_.completed_at = workflow.now()
        if self._state.step == Step.cross_check:
            if round_.complete:  # before the review (this round has none yet), or after an earlier notice
                self._move_to(Step.democratic_review if self._state.review is None else Step.township_review)
            else:
                self._state.step_due_at = self._cross_check_due()

    def _cross_check_complete(self) -> bool:
        return self._state.cross_check is not None and self._state.cross_check.complete

    def _cross_check_failed(self) -> bool:
        task = self._cross_check_task
        return task is not None and task.done() and not task.cancelled() and task.exception() is not None

    def _cross_check_due(self) -> Any:
        round_ = self._state.cross_check
        if round_ is None:  # the round is being planned: the departments' default time to answer
            return self._step_due(Step.cross_check)
        pending = [round_.requests[d].respond_by for d in round_.pending] if round_ else []
        return max(pending) if pending else workflow.now()

    def _round(self) -> CrossCheckRound:
        assert self._state.cross_check is not None, "a cross-check round exists here"
        return self._state.cross_check

    def _round_or_refuse(self) -> CrossCheckRound:
        if self._state.cross_check is None:
            raise _refuse("WrongStep", "信息比对请求正在生成，请稍后再试", current_step=self._state.step)
        return self._state.cross_check

    def _system(self) -> Actor:
        return Actor.system(self._state.county_code)

    def _department_actor(self, department: Department) -> Actor:
        return Actor(
            username=f"department.{department}",
            display_name=f"{DEPARTMENT_LABELS[department]}部门",
            role=None,
            area_code=self._state.county_code,
        )

    # -- deadlines that escalate ---------------------------------------------

    async def _escalate_missed_deadlines(self) -> None:
        """Each step's deadline and the identification limit as timers: when one passes while the
        case still waits, an `escalate` event tells the level above (services/domain/identification/escalation.py)."""
        wake = None
        if self._patched(ONE_TIMER_PATCH):
            # Not stopped when the watch ends: a closed case's workflow completes and drops it.
            wake = self._deadline_wake if self._patched(STOP_WATCH_TIMER_PATCH) else WakeUp()
        while self._state.is_open:
            watched = self._deadline_watch()
            pending = pending_deadlines(self._state)
            if wake is not None:
                wake.at(min(d.due_at for d in pending) if pending else None)
                await workflow.wait_condition(lambda: self._deadline_watch() != watched or wake.due())
                if not wake.due():
                    continue
            else:
                timeout = min(d.due_at for d in pending) - workflow.now() if pending else None
                if timeout is None or timeout > timedelta(0):
                    try:
                        await workflow.wait_condition(lambda: self._deadline_watch() != watched, timeout=timeout)
                        continue
                    except TimeoutError:
                        pass
            # Re-read after each record: the case may move on while one is written.
            while passed := [d for d in pending_deadlines(self._state) if d.due_at <= workflow.now()]:
                late = escalation(self._state, passed[0], workflow.now(), self._policy.escalation_days)
                self._state.escalations.append(late)
                await self._record("escalate", self._system(), late.model_dump(mode="json"))

    def _deadline_watch(self) -> tuple[Any, ...]:
        state = self._state
        return state.step, state.step_started_at, state.step_due_at, len(state.escalations)

    # -- helpers --------------------------------------------------------------

    def _check(self, action: Action, actor: Actor) -> None:
        spec = IDENTIFICATION.action(action)
        procedure.check_actor(spec, actor, self._state.village_code)
        procedure.check_at_step(IDENTIFICATION, spec, self._state.step)

    def _notice(self) -> NoticePeriod:
        return self._village.notice()

    def _clear_cross_check(self) -> None:
        """An upheld objection or the township's return sends the case back to verification: its
        cross-check round ends (the next authorised verification starts a new one)."""
        self._state.cross_checks = {}
        self._state.cross_check = None

    def _step_due(self, step: Step) -> datetime | None:
        days = self._policy.step_days.get(step)
        return workflow.now() + timedelta(days=days) if days else None

    def _move_to(self, step: Step) -> None:
        self._state.step = step
        self._state.step_started_at = workflow.now()
        if step == Step.village_notice:
            self._state.step_due_at = self._notice().ends_at
        elif step == Step.cross_check:
            self._state.step_due_at = self._cross_check_due()
        else:
            self._state.step_due_at = self._step_due(step)

    def _close(self, outcome: Outcome) -> None:
        self._state.step = Step.closed
        self._state.outcome = outcome
        self._state.closed_at = workflow.now()
        self._state.step_due_at = None

    async def _record(self, action: str, actor: Actor, data: BaseModel | dict[str, Any]) -> CaseState:
        """Writes the change just made to the read model and audit log, then returns the state.
        Raises procedure.EventRefused if PostgreSQL refuses it for good: only `_answer` takes that
        back; from a change the workflow made by itself it fails the workflow task (a bug)."""
        snapshot = self._state.model_dump(mode="json")
        before, after = state_changes(self._recorded, snapshot)
        self._recorded = snapshot
        # The case's task queue goes with it: the worker serving that queue forwards department results.
        return await self._recorder.record(
            self._state,
            action,
            actor,
            data,
            before=before,
            after=after,
            case_id=self._state.case_id,
            # Light events leave it to the activity, which runs on the case's task queue.
            task_queue="" if self._recorder.light else workflow.info().task_queue,
        )

    async def _answer(self, action: str, actor: Actor, data: BaseModel | dict[str, Any]) -> StepRecorded:
        """Records an update's change and answers which event recorded it: the caller reads the case
        from the read model, already written (the whole state in every answer weighed on the
        history; the API answered it before this, Updates of earlier histories did). If PostgreSQL refuses what
        the change carried, it is taken back, so the case and its records stay as they were, the case
        is flagged for the county officer (`needs_attention`, an inbox task), and the update is
        refused (Unrecordable → 422); the case goes on serving other updates."""
        procedure.attend_to(self._state, action)
        try:
            state = await self._record(action, actor, data)
        except procedure.EventRefused as refused:
            self._recorder.take_back(self._state, refused)
            self._recorded = self._state.model_dump(mode="json")
            self._resume()
            rules = IDENTIFICATION.rules
            label = rules[Action(action)].label if action in rules else _OTHER_LABELS[action]
            flag = procedure.needs_attention(self._state, action, label, actor, refused)
            await self._record("record_refused", self._system(), flag)
            raise refuse_unrecordable() from None
        if not self._state.is_open and self._patched(HAND_OVER_CLOSING_PATCH):
            await hand_over.hand_over_closed_case(self._state, self._patched)
        return StepRecorded(case_id=state.case_id, seq=state.seq)

    def _resume(self) -> None:
        """Restarts what a change taken back had stopped: closing the case stops its deadline watch
        and cross-check, an upheld objection its cross-check round, a department settled its sending."""
        if not self._state.is_open:
            return
        if self._deadlines is not None and self._deadlines.done():
            self._deadlines = asyncio.create_task(self._escalate_missed_deadlines())
        round_ = self._state.cross_check
        if round_ is None or round_.complete:
            return
        if self._cross_check_task is None or self._cross_check_task.done():
            self._cross_check_task = asyncio.create_task(self._watch_round(round_.round))
        for request in round_.requests.values():
            sending = self._sends.get((round_.round, request.department))
            if request.status == CrossCheckStatus.sending and (sending is None or sending.done()):
                self._send(request)
