"""The identification procedure (识别认定) of one case, as one Temporal workflow.

Every human step is a Workflow Update whose validator refuses a wrong step, a
wrong actor or a payload the policy does not accept before anything enters
history; the handler checks again (two updates can both pass validation before
either runs), changes the state, and waits until an activity has written the
event to PostgreSQL, so the caller's answer is already visible in lists.

Error types raised to callers (the API maps them to HTTP statuses):
  WrongStep → 409, AlreadyRecorded → 409, Forbidden → 403, NotFound → 404, Invalid → 422.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

from services.workflows.refusals import refuse as _refuse

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from services.domain.areas import area_contains, county_of, township_of
    from services.domain.case_forms import (
        Announcement,
        Authorisation,
        CountyDecision,
        CrossCheckEntry,
        DemocraticReview,
        HomeVerification,
        Lead,
        Objection,
        ObjectionResolution,
        TownshipReview,
    )
    from services.domain.case_state import (
        Actor,
        CaseEvent,
        CaseStart,
        CaseState,
        LeadRecord,
        NoticePeriod,
        ObjectionRecord,
        ReviewRecord,
    )
    from services.domain.vocabulary import (
        ACTION_RULES,
        CASE_OPENING_ROLES,
        ROLE_LABELS,
        STEP_LABELS,
        Action,
        Outcome,
        Step,
    )

RECORD_CASE_EVENT = "record_case_event"

# Writing the read model must never give up: PostgreSQL may be down for a while.
_RECORD_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


def identification_workflow_id(household_code: str) -> str:
    """One open identification per household: the id is the household's."""
    return f"identification-{household_code}"


@workflow.defn
class IdentificationWorkflow:
    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        now = workflow.now()
        self._policy = start.policy
        self._opened = False
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
    async def run(self, start: CaseStart) -> CaseState:
        await self._record("open_case", start.opened_by, {"channel": start.channel, "lead_note": start.lead_note})
        self._opened = True
        while self._state.is_open:
            step = self._state.step
            if step == Step.village_notice:
                await self._run_notice()
            else:
                await workflow.wait_condition(lambda: self._state.step != step)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    # -- reads ---------------------------------------------------------------

    @workflow.query
    def state(self) -> CaseState:
        return self._state

    @workflow.update
    async def opened(self) -> CaseState:
        """Answers once the new case is in the read model (used with update-with-start)."""
        await workflow.wait_condition(lambda: self._opened)
        return self._state

    # -- steps ---------------------------------------------------------------

    @workflow.update
    async def verify_home(self, actor: Actor, form: HomeVerification) -> CaseState:
        self._check(Action.verify_home, actor)
        self._state.verification = form
        self._state.per_capita_net_income = form.per_capita_net_income
        signed = self._state.authorisation is not None and self._state.authorisation.decision == "signed"
        self._move_to(Step.cross_check if signed else Step.authorisation)
        return await self._record(Action.verify_home, actor, form)

    @verify_home.validator
    def _validate_verify_home(self, actor: Actor, form: HomeVerification) -> None:
        self._check(Action.verify_home, actor)
        if len(form.verifiers) < self._policy.min_verifiers:
            raise _refuse("Invalid", f"入户核查至少需要{self._policy.min_verifiers}名核查人员", field="verifiers")

    @workflow.update
    async def record_authorisation(self, actor: Actor, form: Authorisation) -> CaseState:
        self._check(Action.record_authorisation, actor)
        self._state.authorisation = form
        if form.decision == "signed":
            self._move_to(Step.cross_check)
        else:
            self._close(Outcome.authorisation_refused)
        return await self._record(Action.record_authorisation, actor, form)

    @record_authorisation.validator
    def _validate_record_authorisation(self, actor: Actor, form: Authorisation) -> None:
        self._check(Action.record_authorisation, actor)

    @workflow.update
    async def record_cross_check(self, actor: Actor, entry: CrossCheckEntry) -> CaseState:
        self._validate_record_cross_check(actor, entry)
        for result in entry.results:
            self._state.cross_checks[result.department] = result
        if set(self._policy.cross_check_departments) <= set(self._state.cross_checks):
            self._move_to(Step.democratic_review)
        return await self._record(Action.record_cross_check, actor, entry)

    @record_cross_check.validator
    def _validate_record_cross_check(self, actor: Actor, entry: CrossCheckEntry) -> None:
        self._check(Action.record_cross_check, actor)
        for result in entry.results:
            if result.department not in self._policy.cross_check_departments:
                raise _refuse("Invalid", "本案件适用的政策不要求该部门比对", field="results.department")
            if result.department in self._state.cross_checks:
                raise _refuse("AlreadyRecorded", "该部门的比对结果已录入", department=result.department)

    @workflow.update
    async def record_review(self, actor: Actor, review: DemocraticReview) -> CaseState:
        self._check(Action.record_review, actor)
        passed = self._policy.vote_rule.passes(
            review.eligible_representatives, len(review.attendees), review.votes_for
        )
        self._state.review = ReviewRecord(**review.model_dump(), passed=passed)
        if passed:
            now = workflow.now()
            self._state.notice = NoticePeriod(starts_at=now, ends_at=now + timedelta(days=self._policy.notice_days))
            self._move_to(Step.village_notice)
        else:
            self._close(Outcome.review_failed)
        return await self._record(Action.record_review, actor, review)

    @record_review.validator
    def _validate_record_review(self, actor: Actor, review: DemocraticReview) -> None:
        self._check(Action.record_review, actor)

    @workflow.update
    async def file_objection(self, actor: Actor, objection: Objection) -> CaseState:
        self._validate_file_objection(actor, objection)
        notice = self._notice()
        notice.objections.append(
            ObjectionRecord(objection_id=len(notice.objections) + 1, objection=objection, filed_by=actor.username)
        )
        return await self._record(Action.file_objection, actor, objection)

    @file_objection.validator
    def _validate_file_objection(self, actor: Actor, objection: Objection) -> None:
        self._check(Action.file_objection, actor)
        if workflow.now() >= self._notice().ends_at:
            raise _refuse("WrongStep", "公示期已满，不能再登记异议", current_step=Step.village_notice)

    @workflow.update
    async def resolve_objection(self, actor: Actor, objection_id: int, resolution: ObjectionResolution) -> CaseState:
        record = self._pending_objection(actor, objection_id)
        record.resolution = resolution
        record.resolved_by = actor.username
        if resolution.upheld_action == "reverify":
            self._state.verification_round += 1
            self._state.cross_checks = {}
            self._state.review = None
            self._move_to(Step.home_verification)
        elif resolution.upheld_action == "end":
            self._close(Outcome.objection_upheld)
        data = {"objection_id": objection_id, **resolution.model_dump(mode="json")}
        return await self._record(Action.resolve_objection, actor, data)

    @resolve_objection.validator
    def _validate_resolve_objection(self, actor: Actor, objection_id: int, resolution: ObjectionResolution) -> None:
        self._pending_objection(actor, objection_id)

    @workflow.update
    async def review_in_township(self, actor: Actor, form: TownshipReview) -> CaseState:
        self._check(Action.review_in_township, actor)
        self._state.township_review = form
        if form.decision == "approve":
            self._move_to(Step.county_decision)
        else:
            self._close(Outcome.returned_by_township)
        return await self._record(Action.review_in_township, actor, form)

    @review_in_township.validator
    def _validate_review_in_township(self, actor: Actor, form: TownshipReview) -> None:
        self._check(Action.review_in_township, actor)

    @workflow.update
    async def decide_in_county(self, actor: Actor, form: CountyDecision) -> CaseState:
        self._check(Action.decide_in_county, actor)
        self._state.county_decision = form
        if form.decision == "approve":
            self._move_to(Step.announcement)
        else:
            self._close(Outcome.rejected_by_county)
        return await self._record(Action.decide_in_county, actor, form)

    @decide_in_county.validator
    def _validate_decide_in_county(self, actor: Actor, form: CountyDecision) -> None:
        self._check(Action.decide_in_county, actor)

    @workflow.update
    async def announce(self, actor: Actor, form: Announcement) -> CaseState:
        self._check(Action.announce, actor)
        self._state.announcement = form
        self._close(Outcome.monitoring_target)
        return await self._record(Action.announce, actor, form)

    @announce.validator
    def _validate_announce(self, actor: Actor, form: Announcement) -> None:
        self._check(Action.announce, actor)

    @workflow.update
    async def add_lead(self, actor: Actor, lead: Lead) -> CaseState:
        """A further lead joins the open case, at whatever step it stands."""
        self._validate_add_lead(actor, lead)
        self._state.further_leads.append(LeadRecord(**lead.model_dump(), added_by=actor.username,
                                                    added_at=workflow.now()))
        return await self._record(Action.add_lead, actor, lead)

    @add_lead.validator
    def _validate_add_lead(self, actor: Actor, lead: Lead) -> None:
        # The service itself (role None) adds leads from department warnings and self-reports.
        if actor.role is not None and actor.role not in CASE_OPENING_ROLES:
            raise _refuse("Forbidden", "您的角色不能登记线索")
        if not area_contains(actor.area_code, self._state.village_code):
            raise _refuse("Forbidden", "该农户不在您的管辖区域内")
        if not self._state.is_open:
            raise _refuse("WrongStep", "该案件已办结", current_step=self._state.step)

    # -- the notice period ----------------------------------------------------

    async def _run_notice(self) -> None:
        """Ends the notice when its days are up and no objection is pending."""
        round_ = self._state.verification_round

        def still_in_this_notice() -> bool:
            return self._state.step == Step.village_notice and self._state.verification_round == round_

        remaining = self._notice().ends_at - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(lambda: not still_in_this_notice(), timeout=remaining)
            except asyncio.TimeoutError:
                pass
        await workflow.wait_condition(lambda: not still_in_this_notice() or not self._notice().pending_objections)
        if still_in_this_notice():
            self._move_to(Step.township_review)
            await self._record("end_notice", Actor.system(self._state.county_code), {})

    # -- helpers --------------------------------------------------------------

    def _check(self, action: Action, actor: Actor) -> None:
        rule = ACTION_RULES[action]
        if actor.role != rule.role:
            raise _refuse("Forbidden", f"只有{ROLE_LABELS[rule.role]}可以{rule.label}", required_role=rule.role)
        if not area_contains(actor.area_code, self._state.village_code):
            raise _refuse("Forbidden", "该农户不在您的管辖区域内")
        if self._state.step != rule.step:
            current = self._state.step
            raise _refuse(
                "WrongStep",
                f"案件当前处于「{STEP_LABELS[current]}」环节，不能{rule.label}",
                current_step=current,
            )

    def _notice(self) -> NoticePeriod:
        assert self._state.notice is not None, "notice exists whenever the step is village_notice"
        return self._state.notice

    def _pending_objection(self, actor: Actor, objection_id: int) -> ObjectionRecord:
        self._check(Action.resolve_objection, actor)
        for record in self._notice().objections:
            if record.objection_id == objection_id:
                if record.resolution is not None:
                    raise _refuse("AlreadyRecorded", "该异议已有核实结论", objection_id=objection_id)
                return record
        raise _refuse("NotFound", "没有这条异议", objection_id=objection_id)

    def _step_due(self, step: Step) -> Any:
        days = self._policy.step_days.get(step)
        return workflow.now() + timedelta(days=days) if days else None

    def _move_to(self, step: Step) -> None:
        self._state.step = step
        self._state.step_started_at = workflow.now()
        self._state.step_due_at = (
            self._notice().ends_at if step == Step.village_notice else self._step_due(step)
        )

    def _close(self, outcome: Outcome) -> None:
        self._state.step = Step.closed
        self._state.outcome = outcome
        self._state.closed_at = workflow.now()
        self._state.step_due_at = None

    async def _record(self, action: str, actor: Actor, data: BaseModel | dict[str, Any]) -> CaseState:
        """Writes the change just made to the read model and audit log, then returns the state."""
        self._state.seq += 1
        info = workflow.info()
        event = CaseEvent(
            workflow_id=info.workflow_id,
            run_id=info.run_id,
            seq=self._state.seq,
            action=action,
            actor=actor,
            at=workflow.now(),
            data=data.model_dump(mode="json") if isinstance(data, BaseModel) else data,
            state=self._state.model_copy(deep=True),
        )
        await workflow.execute_activity(
            RECORD_CASE_EVENT,
            event,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_RECORD_RETRY,
        )
        return event.state
