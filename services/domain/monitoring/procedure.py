"""Support and exit of a monitored household (帮扶、风险消除) as one table (DOMAIN.md, "Support"
and "Exit and re-entry"): each action, who takes it, and the exit's steps, described once.

The exit follows the same village procedure as the identification, without the authorisation,
the cross-check and the announcement: the county's approval marks the risk eliminated."""

from __future__ import annotations

from services.domain.identification.forms import (
    CountyDecision,
    DemocraticReview,
    Objection,
    ObjectionResolution,
    TownshipReview,
)
from services.domain.monitoring.forms import (
    ExitProposal,
    ExitReversal,
    ExitVerification,
    MeasureDelivery,
    PlanDraft,
    SupportAppointment,
    Visit,
)
from services.domain.monitoring.vocabulary import ExitStep, MonitoringAction
from services.domain.procedure import ActionSpec, Procedure, StepSpec
from services.domain.vocabulary import FOUR_TEAMS, Role

_Step, _Action = StepSpec[ExitStep, MonitoringAction], ActionSpec[ExitStep, MonitoringAction]
_VILLAGE, _TOWNSHIP, _COUNTY = (Role.village_cadre,), (Role.township_approver,), (Role.county_officer,)
_M = MonitoringAction
# Visits and the support person's work: any of the village's 四支队伍 (the support person need not be a cadre).
_TEAMS = FOUR_TEAMS

MONITORING: Procedure[ExitStep, MonitoringAction] = Procedure(
    subject="风险消除程序",
    steps=(
        _Step(ExitStep.home_verification, "入户核实", _M.verify_exit),
        _Step(ExitStep.democratic_review, "民主评议", _M.review_exit),
        _Step(ExitStep.village_notice, "村级公示"),  # waits on time: the policy's `notice_days`
        _Step(ExitStep.township_review, "镇审核", _M.review_exit_in_township),
        _Step(ExitStep.county_decision, "县级审定", _M.decide_exit_in_county),
        _Step(ExitStep.closed, "已办结"),
    ),
    actions=(
        # The appointee is named in the form; the route looks the account up (hand-written route).
        _Action(
            _M.appoint_support_person,
            _TOWNSHIP,
            "任命帮扶责任人",
            SupportAppointment,
            "support-person",
            "任命帮扶责任人（镇审核）",
        ),
        _Action(
            _M.submit_plan,
            _TEAMS,
            "提交帮扶计划",
            PlanDraft,
            "plans",
            "提交帮扶计划（一户一策）",
            assigned_only=True,
        ),
        _Action(
            _M.review_plan,
            _TOWNSHIP,
            "审核帮扶计划",
            TownshipReview,
            "plans/{plan_no}/review",
            "审核帮扶计划（镇审核）",
        ),
        _Action(
            _M.deliver_measure,
            _TEAMS,
            "登记措施落实",
            MeasureDelivery,
            "measures/{measure_id}/delivery",
            "登记措施落实",
            assigned_only=True,
        ),
        _Action(_M.record_visit, _TEAMS, "录入走访", Visit, "visits", "录入走访"),
        _Action(
            _M.propose_exit, _TEAMS, "提出风险消除", ExitProposal, "exit/proposal", "提出风险消除", assigned_only=True
        ),
        _Action(
            _M.verify_exit,
            _VILLAGE,
            "录入入户核实",
            ExitVerification,
            "exit/home-verification",
            "风险消除：入户核实",
            frozenset({ExitStep.home_verification}),
        ),
        _Action(
            _M.review_exit,
            _VILLAGE,
            "录入民主评议",
            DemocraticReview,
            "exit/democratic-review",
            "风险消除：民主评议",
            frozenset({ExitStep.democratic_review}),
        ),
        _Action(
            _M.file_exit_objection,
            _VILLAGE,
            "登记公示异议",
            Objection,
            "exit/objections",
            "风险消除：登记公示异议",
            frozenset({ExitStep.village_notice}),
        ),
        _Action(
            _M.resolve_exit_objection,
            _VILLAGE,
            "录入异议核实结论",
            ObjectionResolution,
            "exit/objections/{objection_id}/resolution",
            "风险消除：异议核实结论",
            frozenset({ExitStep.village_notice}),
        ),
        _Action(
            _M.review_exit_in_township,
            _TOWNSHIP,
            "镇审核",
            TownshipReview,
            "exit/township-review",
            "风险消除：镇审核",
            frozenset({ExitStep.township_review}),
        ),
        _Action(
            _M.decide_exit_in_county,
            _COUNTY,
            "县级审定",
            CountyDecision,
            "exit/county-decision",
            "风险消除：县级审定",
            frozenset({ExitStep.county_decision}),
        ),
        _Action(
            _M.reverse_exit, _COUNTY, "回退风险消除标注", ExitReversal, "exit-reversal", "回退风险消除标注（县级）"
        ),
    ),
)

EXIT_STEP_LABELS = MONITORING.labels
