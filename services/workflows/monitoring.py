"""A monitored household (监测对象) from its announcement to the end of its risk, as one
long-lived Temporal workflow per household: `monitoring-<household code>`.

It holds the support person, the household plan (一户一策) and its measures, the visit
calendar (a task each period, overdue and escalated to the township when missed), the
household's open risks, and the exit procedure (风险消除), which follows the village
procedure shared with identification (`procedure.py`). The exit rules are assessed
after every change and whenever time alone can change them (a period's end, the
minimum months passing); when they hold, the support person gets the task to propose.

After "risk eliminated" the workflow stays, idle and without timers, so that the county
can reverse a wrong mark (回退) with an Update like every other step; a later
identification that makes the household a monitoring target again continues it as new,
as a fresh monitoring period. It also continues as new when Temporal suggests it, once
every handler has finished, carrying its whole state: tasks and timers are derived from
that state (absolute times), so nothing is lost at the boundary.

Identification cases tell this workflow when they open (an open risk blocks the exit)
and when they end: Signals each case's workflow sends once it has recorded its opening or
closing (services/workflows/identification.py), deduplicated here by case id.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from services.domain.areas import area_contains, county_of, township_of
    from services.domain.identification.forms import (
        CountyDecision,
        DemocraticReview,
        Objection,
        ObjectionResolution,
        TownshipReview,
    )
    from services.domain.identification.state import Actor, NoticePeriod
    from services.domain.monitoring.exit_criteria import assess_exit, monitored_long_enough_at, verification_unmet
    from services.domain.monitoring.forms import (
        ExitProposal,
        ExitReversal,
        ExitVerification,
        MeasureDelivery,
        PlanDraft,
        Visit,
    )
    from services.domain.monitoring.procedure import MONITORING
    from services.domain.monitoring.state import (
        ExitProcedure,
        IdentificationSummary,
        MeasureRecord,
        MonitoringAnswer,
        MonitoringEvent,
        MonitoringStart,
        MonitoringState,
        PlanRecord,
        RiskLead,
        RiskRecord,
        SupportPerson,
    )
    from services.domain.monitoring.support_measures import lacks_social_protection
    from services.domain.monitoring.visit_calendar import (
        advance_calendar,
        apply_visit,
        cancel_open_tasks,
        current_period_end,
        visit_problem,
    )
    from services.domain.monitoring.vocabulary import (
        ExitOutcome,
        ExitStep,
        MeasureStatus,
        MonitoringAction,
        PlanStatus,
    )
    from services.domain.update_inputs import AppointmentInput, PeriodInput, PeriodItemInput
    from services.domain.vocabulary import (
        FOUR_TEAMS,
        RISK_TYPE_LABELS,
        Channel,
        HouseholdStatus,
        LabourCapacity,
        Outcome,
    )
    from services.workers.monitoring.intake import MonitoringIntake
    from services.workers.monitoring.records import MonitoringRecordActivities
    from services.workflows import procedure
    from services.workflows.contracts import IDENTIFICATION_CONCLUDED, IDENTIFICATION_OPENED
    from services.workflows.contracts import monitoring_workflow_id as monitoring_workflow_id
    from services.workflows.earlier_answers import EarlierAnswers, answered_once
    from services.workflows.patches import Patches
    from services.workflows.refusals import refuse, refuse_unrecordable


@workflow.defn
class MonitoringWorkflow:
    @workflow.init
    def __init__(self, start: MonitoringStart) -> None:
        self._patched = Patches()  # first: a run asks for the baseline as it begins (patches.py)
        self._policy = start.policy
        self._fresh = start.carried is None
        self._state = start.carried or self._new_period(start)
        self._started = not self._fresh
        self._recorder = procedure.Recorder(
            MonitoringRecordActivities.record_monitoring_event, MonitoringEvent, self._patched
        )
        self._village = procedure.VillageProcedure(
            start.policy,
            record=self._exit,
            move_to=self._move_exit_to,
            close=lambda outcome: self._close_exit(self._exit(), ExitOutcome(outcome)),
            patched=self._patched,
        )
        if not self._fresh:
            self._recorder.recorded(self._state)  # carried over: the read model has it
        # Bumped by every recorded change, so the main loop re-plans its timers.
        self._changes = 0
        # A conclusion that makes an exited household a monitoring target again.
        self._reentry: MonitoringStart | None = None
        # So a retried Update acts once across continue-as-new, too.
        self.earlier_answers = EarlierAnswers(start.answers, MonitoringAnswer)

    def _new_period(self, start: MonitoringStart) -> MonitoringState:
        now = workflow.now()
        found = start.identification
        return MonitoringState(
            monitoring_id=start.monitoring_id,
            household_code=start.household_code,
            county_code=county_of(start.village_code),
            township_code=township_of(start.village_code),
            village_code=start.village_code,
            policy_version=start.policy.version,
            status=HouseholdStatus.risk_not_eliminated,
            since=now,
            clock_started_at=now,
            visits_owed_from=now,
            cases=[found],
            **_facts_of(found),
        )

    @workflow.run
    async def run(self, start: MonitoringStart) -> MonitoringState:
        if self._fresh:  # the first visit task opens with the period: no one sees one without the other
            first = advance_calendar(self._state, self._policy, workflow.now())
            await self._record(
                "start_monitoring",
                self._system(),
                {"case_id": start.identification.case_id, "visit_tasks": [t.period for _, t in first]},
            )
        self._started = True
        while True:
            await self._catch_up()
            if self._reentry is not None or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                next_run = self._reentry or start.model_copy(update={"carried": self._state})
                answers = self.earlier_answers.to_carry(workflow.now())
                workflow.continue_as_new(next_run.model_copy(update={"answers": answers}))
            changes = self._changes
            wake = self._next_wake()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: (
                        self._changes != changes
                        or self._reentry is not None
                        or workflow.info().is_continue_as_new_suggested()
                    ),
                    timeout=None if wake is None else max(wake - workflow.now(), timedelta(seconds=1)),
                )

    # -- reads ---------------------------------------------------------------

    @workflow.query
    def state(self) -> MonitoringState:
        return self._state

    # -- support person and plan --------------------------------------------------
    # Each Update takes one input (services/domain/update_inputs.py); `one_input` still takes the
    # separate arguments older histories hold. Who may act, and at which step: MONITORING.

    @workflow.update
    @answered_once
    @procedure.one_input
    async def appoint_support_person(self, act: AppointmentInput) -> MonitoringState:
        self._validate_appoint_support_person(act)
        appointee = act.appointee
        self._state.support_people.append(
            SupportPerson(
                username=appointee.username,
                display_name=appointee.display_name,
                area_code=appointee.area_code,
                appointed_by=act.actor.username,
                appointed_at=workflow.now(),
                note=act.form.note,
            )
        )
        data = {"username": appointee.username, "display_name": appointee.display_name, "note": act.form.note}
        return await self._answer(MonitoringAction.appoint_support_person, act.actor, data)

    @appoint_support_person.validator
    @answered_once
    @procedure.one_input
    def _validate_appoint_support_person(self, act: AppointmentInput) -> None:
        self._check(act.monitoring_id, MonitoringAction.appoint_support_person, act.actor)
        appointee = act.appointee
        # Any of the village's 四支队伍 (DOMAIN.md "Support"), not only its cadres.
        if appointee.role not in FOUR_TEAMS or not area_contains(appointee.area_code, self._state.village_code):
            raise refuse(
                "Invalid", "帮扶责任人须为本村四支队伍（村干部、驻村工作队、帮扶干部、网格员）的账号", field="username"
            )
        current = self._state.support_person
        if current is not None and current.username == appointee.username:
            raise refuse("AlreadyRecorded", "该账号已是本户的帮扶责任人")

    @workflow.update
    @answered_once
    @procedure.one_input
    async def submit_plan(self, act: PeriodInput[PlanDraft]) -> MonitoringState:
        self._validate_submit_plan(act)
        draft = act.form
        plan_no = len(self._state.plans) + 1
        first_id = len(self._state.measures()) + 1
        measures = [
            MeasureRecord(**m.model_dump(), measure_id=first_id + i, plan_no=plan_no, status=MeasureStatus.proposed)
            for i, m in enumerate(draft.measures)
        ]
        self._state.plans.append(
            PlanRecord(
                plan_no=plan_no,
                status=PlanStatus.submitted,
                notes=draft.notes,
                measures=measures,
                drafted_by=act.actor.username,
                submitted_at=workflow.now(),
            )
        )
        return await self._answer(
            MonitoringAction.submit_plan, act.actor, {"plan_no": plan_no, **draft.model_dump(mode="json")}
        )

    @submit_plan.validator
    @answered_once
    @procedure.one_input
    def _validate_submit_plan(self, act: PeriodInput[PlanDraft]) -> None:
        self._check(act.monitoring_id, MonitoringAction.submit_plan, act.actor)
        current = self._state.current_plan
        if current is not None and current.status == PlanStatus.submitted:
            raise refuse(
                "WrongStep",
                f"第{current.plan_no}版帮扶计划正在等待镇审核，审核后才能提交新计划",
                current_step="plan_review",
            )
        if self._state.labour_capacity == LabourCapacity.none and lacks_social_protection(act.form.measures):
            raise refuse("Invalid", "该户无劳动能力，帮扶计划须包含综合保障（低保、特困等兜底）措施", field="measures")

    @workflow.update
    @answered_once
    @procedure.one_input
    async def review_plan(self, act: PeriodItemInput[TownshipReview]) -> MonitoringState:
        plan = self._plan_awaiting_review(act)
        review = act.form
        plan.review, plan.reviewed_by, plan.reviewed_at = review, act.actor.username, workflow.now()
        if review.decision == "approve":
            for earlier in self._state.plans:
                if earlier.status == PlanStatus.approved:
                    earlier.status = PlanStatus.superseded
                    _withdraw_undelivered(earlier)
            plan.status = PlanStatus.approved
            for measure in plan.measures:
                measure.status = MeasureStatus.in_progress
            self._state.plan_revision_due = False
        else:
            plan.status = PlanStatus.returned
            _withdraw_undelivered(plan)
        return await self._answer(MonitoringAction.review_plan, act.actor, {"plan_no": act.item, **review.model_dump()})

    @review_plan.validator
    @answered_once
    @procedure.one_input
    def _validate_review_plan(self, act: PeriodItemInput[TownshipReview]) -> None:
        self._plan_awaiting_review(act)

    @workflow.update
    @answered_once
    @procedure.one_input
    async def deliver_measure(self, act: PeriodItemInput[MeasureDelivery]) -> MonitoringState:
        measure = self._deliverable_measure(act)
        measure.status, measure.delivery, measure.delivered_by = MeasureStatus.delivered, act.form, act.actor.username
        data = {"measure_id": act.item, **act.form.model_dump(mode="json")}
        return await self._answer(MonitoringAction.deliver_measure, act.actor, data)

    @deliver_measure.validator
    @answered_once
    @procedure.one_input
    def _validate_deliver_measure(self, act: PeriodItemInput[MeasureDelivery]) -> None:
        self._deliverable_measure(act)

    # -- visits and new risks -------------------------------------------------------

    @workflow.update
    @answered_once
    @procedure.one_input
    async def record_visit(self, act: PeriodInput[Visit]) -> MonitoringState:
        self._validate_record_visit(act)
        await self._advance_calendar()  # a visit on a period's first day may come before its timer
        self._validate_record_visit(act)
        actor, visit = act.actor, act.form
        task = apply_visit(self._state, self._policy, visit)
        risk = self._open_risk("visit", actor, visit.new_risks, visit.new_risk_note) if visit.new_risks else None
        data = {"visit_no": self._state.visits_recorded, "period": task.period, **visit.model_dump(mode="json")}
        recorded = await self._answer(MonitoringAction.record_visit, actor, data)
        if risk is None:
            return recorded
        return await self._report_risk(risk, actor)

    @record_visit.validator
    @answered_once
    @procedure.one_input
    def _validate_record_visit(self, act: PeriodInput[Visit]) -> None:
        self._check(act.monitoring_id, MonitoringAction.record_visit, act.actor)
        procedure.check_dates(act.form)
        if problem := visit_problem(self._state, self._policy, act.form, workflow.now()):
            raise refuse("Invalid", problem, field="visited_on")

    def _open_risk(
        self, source: str, actor: Actor, risks: list[Any], note: str, case_id: str | None = None
    ) -> RiskRecord:
        """Records a new risk; it ends any exit under way (the risk is not eliminated)."""
        risk_id = len(self._state.risks) + 1
        risk = RiskRecord(
            risk_id=risk_id,
            source=source,
            risk_types=risks,
            note=note,
            found_at=workflow.now(),
            found_by=actor.username,
            # A new case for a visit's risk gets an id chosen here: the case's own "opened" signal then matches it.
            case_id=case_id or f"{self._state.monitoring_id}r{risk_id}",
        )
        self._state.risks.append(risk)
        exit_ = self._state.open_exit
        if exit_ is not None:
            self._close_exit(exit_, ExitOutcome.withdrawn_new_risk)
        return risk

    async def _report_risk(self, risk: RiskRecord, actor: Actor) -> MonitoringState:
        """Opens a fresh identification for a risk found at a visit, or joins the open one."""
        labels = "、".join(RISK_TYPE_LABELS[r] for r in risk.risk_types)
        lead = RiskLead(
            household_code=self._state.household_code,
            village_code=self._state.village_code,
            case_id=str(risk.case_id),
            channel=Channel.cadre_screening,
            note=f"监测走访发现新风险：{labels}。{risk.note}".strip(),
            reported_by=actor,
        )
        case_id = await workflow.execute_activity_method(
            MonitoringIntake.open_identification_for_risk,
            lead,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=procedure.RECORD_RETRY,
        )
        risk.case_id = case_id
        return await self._record("open_identification", self._system(), {"risk_id": risk.risk_id, "case_id": case_id})

    @workflow.signal(name=IDENTIFICATION_OPENED)
    async def identification_opened(self, case: IdentificationSummary) -> None:
        """A case opened for the household (any channel): an open risk until it ends."""
        await workflow.wait_condition(lambda: self._started)
        known = {r.case_id for r in self._state.risks} | {c.case_id for c in self._state.cases}
        if not self._state.is_monitored or case.case_id in known:
            return
        self._open_risk("lead", self._system(), [], "识别案件已发起", case_id=case.case_id)
        await self._record("identification_opened", self._system(), {"case_id": case.case_id})

    @workflow.signal(name=IDENTIFICATION_CONCLUDED)
    async def identification_concluded(self, handover: MonitoringStart) -> None:
        """A case of the household ended. Its result updates the monitoring; a monitoring
        target whose risk had been eliminated starts a new monitoring period."""
        await workflow.wait_condition(lambda: self._started)
        case = handover.identification
        if case.case_id in {c.case_id for c in self._state.cases}:
            return
        confirmed = case.outcome == Outcome.monitoring_target
        if not self._state.is_monitored:
            if confirmed and self._reentry is None:
                self._reentry = handover
            return
        now = workflow.now()
        for risk in self._state.risks:
            if risk.case_id == case.case_id and risk.is_open:
                risk.closed_at, risk.confirmed = now, confirmed
        self._state.cases.append(case)
        if confirmed:
            for field, value in _facts_of(case).items():
                setattr(self._state, field, value)
            self._state.clock_started_at = now
            self._state.plan_revision_due = bool(self._state.plans)
        await self._record(
            "identification_concluded",
            self._system(),
            {"case_id": case.case_id, "outcome": case.outcome, "confirmed": confirmed},
        )

    # -- exit (风险消除) ---------------------------------------------------------------
    # The village procedure's decisions are shared with the identification (procedure.VillageProcedure).

    @workflow.update
    @answered_once
    @procedure.one_input
    async def propose_exit(self, act: PeriodInput[ExitProposal]) -> MonitoringState:
        self._validate_propose_exit(act)
        self._state.exits.append(
            ExitProcedure(
                exit_no=len(self._state.exits) + 1,
                step=ExitStep.home_verification,
                proposal=act.form,
                proposed_by=act.actor.username,
                proposed_at=workflow.now(),
            )
        )
        return await self._answer(MonitoringAction.propose_exit, act.actor, act.form)

    @propose_exit.validator
    @answered_once
    @procedure.one_input
    def _validate_propose_exit(self, act: PeriodInput[ExitProposal]) -> None:
        self._check(act.monitoring_id, MonitoringAction.propose_exit, act.actor)
        if self._state.open_exit is not None:
            raise refuse("WrongStep", "风险消除程序正在办理中", current_step=self._state.open_exit.step)
        assessment = assess_exit(self._state, self._policy, workflow.now())
        if not assessment.eligible:
            raise refuse(
                "NotEligible",
                "尚不符合风险消除条件：" + "；".join(u.message for u in assessment.unmet),
                unmet=[u.model_dump() for u in assessment.unmet],
                social_protection=assessment.social_protection,
            )

    @workflow.update
    @answered_once
    @procedure.one_input
    async def verify_exit(self, act: PeriodInput[ExitVerification]) -> MonitoringState:
        self._validate_verify_exit(act)
        found = act.form
        exit_ = self._exit()
        exit_.verification = found
        for field in ("labour_capacity", "able_workers", "living_conditions", "per_capita_net_income"):
            setattr(self._state, field, getattr(found, field))
        exit_.unmet = verification_unmet(found, self._policy)
        if exit_.unmet:
            self._close_exit(exit_, ExitOutcome.verification_failed)
        else:
            exit_.step = ExitStep.democratic_review
        return await self._answer(MonitoringAction.verify_exit, act.actor, found)

    @verify_exit.validator
    @answered_once
    @procedure.one_input
    def _validate_verify_exit(self, act: PeriodInput[ExitVerification]) -> None:
        self._check(act.monitoring_id, MonitoringAction.verify_exit, act.actor)
        procedure.check_dates(act.form)
        procedure.check_verifiers(self._policy, act.form.verifiers)

    @workflow.update
    @answered_once
    @procedure.one_input
    async def review_exit(self, act: PeriodInput[DemocraticReview]) -> MonitoringState:
        self._check(act.monitoring_id, MonitoringAction.review_exit, act.actor)
        self._village.review(act.form)
        return await self._answer(MonitoringAction.review_exit, act.actor, act.form)

    @review_exit.validator
    @answered_once
    @procedure.one_input
    def _validate_review_exit(self, act: PeriodInput[DemocraticReview]) -> None:
        self._check(act.monitoring_id, MonitoringAction.review_exit, act.actor)
        self._village.check_review(act.form)

    @workflow.update
    @answered_once
    @procedure.one_input
    async def file_exit_objection(self, act: PeriodInput[Objection]) -> MonitoringState:
        self._validate_file_exit_objection(act)
        self._village.file_objection(act.form, act.actor)
        return await self._answer(MonitoringAction.file_exit_objection, act.actor, act.form)

    @file_exit_objection.validator
    @answered_once
    @procedure.one_input
    def _validate_file_exit_objection(self, act: PeriodInput[Objection]) -> None:
        self._check(act.monitoring_id, MonitoringAction.file_exit_objection, act.actor)
        self._village.check_objection(act.form)

    @workflow.update
    @answered_once
    @procedure.one_input
    async def resolve_exit_objection(self, act: PeriodItemInput[ObjectionResolution]) -> MonitoringState:
        self._validate_resolve_exit_objection(act)
        self._village.resolve_objection(act.item, act.form, act.actor, verify_again=self._clear_exit_verification)
        data = {"objection_id": act.item, **act.form.model_dump(mode="json")}
        return await self._answer(MonitoringAction.resolve_exit_objection, act.actor, data)

    @resolve_exit_objection.validator
    @answered_once
    @procedure.one_input
    def _validate_resolve_exit_objection(self, act: PeriodItemInput[ObjectionResolution]) -> None:
        self._check(act.monitoring_id, MonitoringAction.resolve_exit_objection, act.actor)
        self._village.check_resolution(act.item)

    @workflow.update
    @answered_once
    @procedure.one_input
    async def review_exit_in_township(self, act: PeriodInput[TownshipReview]) -> MonitoringState:
        self._check(act.monitoring_id, MonitoringAction.review_exit_in_township, act.actor)
        self._village.review_in_township(act.form, act.actor, verify_again=self._clear_exit_verification)
        return await self._answer(MonitoringAction.review_exit_in_township, act.actor, act.form)

    @review_exit_in_township.validator
    @answered_once
    @procedure.one_input
    def _validate_review_exit_in_township(self, act: PeriodInput[TownshipReview]) -> None:
        self._check(act.monitoring_id, MonitoringAction.review_exit_in_township, act.actor)

    @workflow.update
    @answered_once
    @procedure.one_input
    async def decide_exit_in_county(self, act: PeriodInput[CountyDecision]) -> MonitoringState:
        self._check(act.monitoring_id, MonitoringAction.decide_exit_in_county, act.actor)
        self._village.decide_in_county(act.form, approved=self._mark_risk_eliminated)
        return await self._answer(MonitoringAction.decide_exit_in_county, act.actor, act.form)

    @decide_exit_in_county.validator
    @answered_once
    @procedure.one_input
    def _validate_decide_exit_in_county(self, act: PeriodInput[CountyDecision]) -> None:
        self._check(act.monitoring_id, MonitoringAction.decide_exit_in_county, act.actor)

    @workflow.update
    @answered_once
    @procedure.one_input
    async def reverse_exit(self, act: PeriodInput[ExitReversal]) -> MonitoringState:
        """回退: a wrong mark is undone; monitoring and its visits resume from now, and the
        exit rules count afresh."""
        self._validate_reverse_exit(act)
        now = workflow.now()
        exit_ = self._exit(open_only=False)
        exit_.reversal, exit_.reversed_by, exit_.reversed_at = act.form, act.actor.username, now
        self._state.status = HouseholdStatus.risk_not_eliminated
        self._state.risk_eliminated_at = None
        self._state.clock_started_at = self._state.visits_owed_from = now
        return await self._answer(MonitoringAction.reverse_exit, act.actor, act.form)

    @reverse_exit.validator
    @answered_once
    @procedure.one_input
    def _validate_reverse_exit(self, act: PeriodInput[ExitReversal]) -> None:
        self._check(act.monitoring_id, MonitoringAction.reverse_exit, act.actor)
        if self._reentry is not None:
            raise refuse("WrongStep", "该户已经重新识别为监测对象，正在开始新的监测期")

    def _mark_risk_eliminated(self) -> None:
        """The county approved the exit: the risk is eliminated, the period's open tasks end."""
        self._close_exit(self._exit(), ExitOutcome.risk_eliminated)
        self._state.status = HouseholdStatus.risk_eliminated
        self._state.risk_eliminated_at = workflow.now()
        cancel_open_tasks(self._state)

    def _clear_exit_verification(self) -> None:
        """An upheld objection or the township's return sends the exit back to verification: its finding
        is done again."""
        self._exit().verification = None

    # -- the clock -------------------------------------------------------------------

    async def _catch_up(self) -> None:
        """Does what time alone brings: visit periods, the notice's end, the exit rules."""
        await self._advance_calendar()
        exit_ = self._state.open_exit
        if (
            exit_ is not None
            and exit_.step == ExitStep.village_notice
            and procedure.notice_over(self._notice(), workflow.now())
        ):
            exit_.step = ExitStep.township_review
            await self._record("end_exit_notice", self._system(), {"exit_no": exit_.exit_no})
        before = self._state.assessment
        self._assess()
        if _unmet_codes(before) != _unmet_codes(self._state.assessment):
            await self._record_assessment()  # time alone changed it (e.g. the minimum months passed)

    async def _advance_calendar(self) -> None:
        for action, task in advance_calendar(self._state, self._policy, workflow.now()):
            await self._record(action, self._system(), task.model_dump(mode="json"))

    def _next_wake(self) -> datetime | None:
        now = workflow.now()
        moments = [current_period_end(self._state, self._policy, now)]
        if self._state.is_monitored:
            moments.append(monitored_long_enough_at(self._state, self._policy))
        exit_ = self._state.open_exit
        if exit_ is not None and exit_.step == ExitStep.village_notice:
            moments.append(self._notice().ends_at)
        future = [m for m in moments if m is not None and m > now]
        return min(future) if future else None

    # -- helpers -----------------------------------------------------------------------

    def _check(self, monitoring_id: str, action: MonitoringAction, actor: Actor) -> None:
        if monitoring_id != self._state.monitoring_id:  # an earlier period of the household
            raise refuse("WrongStep", "该监测期已结束，该户已开始新的监测期", current_step="superseded")
        spec = MONITORING.action(action)
        procedure.check_actor(spec, actor, self._state.village_code)
        if spec.assigned_only:
            person = self._state.support_person
            if person is None:
                raise refuse(
                    "WrongStep", "尚未任命帮扶责任人，请镇审核人员先任命", current_step="appoint_support_person"
                )
            if person.username != actor.username:
                raise refuse("Forbidden", f"只有本户的帮扶责任人（{person.display_name}）可以{spec.label}")
        monitored = self._state.is_monitored
        if monitored == (action == MonitoringAction.reverse_exit):
            status = self._state.status
            message = "该户已标注风险消除" if not monitored else "该户未标注风险消除，无需回退"
            raise refuse("WrongStep", f"{message}，不能{spec.label}", current_step=status)
        exit_ = self._state.open_exit
        procedure.check_at_step(MONITORING, spec, exit_.step if exit_ else ExitStep.closed)

    def _plan_awaiting_review(self, act: PeriodItemInput[TownshipReview]) -> PlanRecord:
        self._check(act.monitoring_id, MonitoringAction.review_plan, act.actor)
        plan = next((p for p in self._state.plans if p.plan_no == act.item), None)
        if plan is None:
            raise refuse("NotFound", "没有这份帮扶计划", plan_no=act.item)
        if plan.status != PlanStatus.submitted:
            raise refuse("AlreadyRecorded", "该帮扶计划已审核", plan_no=act.item)
        return plan

    def _deliverable_measure(self, act: PeriodItemInput[MeasureDelivery]) -> MeasureRecord:
        self._check(act.monitoring_id, MonitoringAction.deliver_measure, act.actor)
        measure_id, delivery = act.item, act.form
        measure = self._state.measure(measure_id)
        if measure is None:
            raise refuse("NotFound", "没有这项帮扶措施", measure_id=measure_id)
        if measure.status == MeasureStatus.delivered:
            raise refuse("AlreadyRecorded", "该措施已登记落实", measure_id=measure_id)
        if measure.status != MeasureStatus.in_progress:
            raise refuse("WrongStep", "该措施不在实施中（计划未批准或已撤回）", current_step=measure.status)
        procedure.check_dates(delivery)
        if delivery.delivered_on < measure.starts_on:
            raise refuse("Invalid", "落实日期不能早于措施开始日期", field="delivered_on")
        return measure

    def _exit(self, open_only: bool = True) -> ExitProcedure:
        exit_ = self._state.open_exit if open_only else self._state.exit
        assert exit_ is not None, "checked by the validator"
        return exit_

    def _notice(self) -> NoticePeriod:
        return self._village.notice()

    def _move_exit_to(self, step: str) -> None:
        self._exit().step = ExitStep(step)

    def _close_exit(self, exit_: ExitProcedure, outcome: ExitOutcome) -> None:
        exit_.step, exit_.outcome, exit_.closed_at = ExitStep.closed, outcome, workflow.now()

    def _system(self) -> Actor:
        return Actor.system(self._state.county_code)

    def _assess(self) -> bool:
        """Re-evaluates the exit rules (while monitored); True when eligibility changed."""
        if not self._state.is_monitored:
            return False
        before = self._state.assessment
        self._state.assessment = assess_exit(self._state, self._policy, workflow.now())
        return (before.eligible if before else False) != self._state.assessment.eligible

    async def _record_assessment(self) -> None:
        assessment = self._state.assessment
        assert assessment is not None
        action = "exit_criteria_met" if assessment.eligible else "exit_assessment"
        await self._record(action, self._system(), assessment)

    async def _record(
        self, action: str, actor: Actor, data: BaseModel | dict[str, Any], refusable: bool = False
    ) -> MonitoringState:
        """Writes the change just made (audit + read model); a change that makes the exit
        possible, or no longer possible, is recorded as a second, system event. A change PostgreSQL
        refuses raises procedure.EventRefused, or, if `refusable`, is taken back and refused."""
        self._changes += 1
        flipped = self._assess()
        try:
            recorded = await self._recorder.record(self._state, action, actor, data)
        except procedure.EventRefused as refused:
            if not refusable:
                raise  # the workflow's own change: a bug, fails the workflow task
            self._recorder.take_back(self._state, refused)
            label = MONITORING.action(MonitoringAction(action)).label
            await self._record(
                "record_refused", self._system(), procedure.needs_attention(self._state, action, label, actor, refused)
            )
            raise refuse_unrecordable() from None
        if flipped:
            await self._record_assessment()
        return recorded

    async def _answer(
        self, action: MonitoringAction, actor: Actor, data: BaseModel | dict[str, Any]
    ) -> MonitoringState:
        """Records an update's change and answers the new state. If PostgreSQL refuses what it
        carried, it is taken back (nothing changes), the period is flagged (`needs_attention`) and
        the update is refused (Unrecordable → 422); the workflow goes on serving other updates."""
        procedure.attend_to(self._state, action)
        return await self._record(action, actor, data, refusable=True)


def _facts_of(case: IdentificationSummary) -> dict[str, Any]:
    """The household facts a monitoring-target identification established."""
    return {
        "category": case.category,
        "risk_types": list(case.risk_types),
        "labour_capacity": case.labour_capacity,
        "able_workers": case.able_workers,
        "living_conditions": case.living_conditions,
        "per_capita_net_income": case.per_capita_net_income,
    }


def _unmet_codes(assessment: Any) -> list[str]:
    return [u.code for u in assessment.unmet] if assessment is not None else []


def _withdraw_undelivered(plan: PlanRecord) -> None:
    for measure in plan.measures:
        if measure.status != MeasureStatus.delivered:
            measure.status = MeasureStatus.withdrawn
