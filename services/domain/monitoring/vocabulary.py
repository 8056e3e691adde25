"""Vocabulary of support and exit (帮扶、风险消除): actions, steps, statuses and their Chinese labels.

Who takes each action, and what the exit's steps are called: services/domain/monitoring/procedure.py."""

from __future__ import annotations

from enum import StrEnum


class MeasureKind(StrEnum):
    """靖边's measure families."""

    industry = "industry"
    employment = "employment"
    finance = "finance"
    social_security = "social_security"
    social_assistance = "social_assistance"
    motivation_and_skills = "motivation_and_skills"


MEASURE_KIND_LABELS = {
    MeasureKind.industry: "产业帮扶",
    MeasureKind.employment: "就业帮扶",
    MeasureKind.finance: "金融帮扶",
    MeasureKind.social_security: "综合保障",
    MeasureKind.social_assistance: "社会帮扶",
    MeasureKind.motivation_and_skills: "扶志扶智",
}


class MeasureStatus(StrEnum):
    proposed = "proposed"
    in_progress = "in_progress"
    delivered = "delivered"
    withdrawn = "withdrawn"


MEASURE_STATUS_LABELS = {
    MeasureStatus.proposed: "待审核",
    MeasureStatus.in_progress: "实施中",
    MeasureStatus.delivered: "已落实",
    MeasureStatus.withdrawn: "已撤回",
}


class PlanStatus(StrEnum):
    submitted = "submitted"
    approved = "approved"
    returned = "returned"
    superseded = "superseded"


PLAN_STATUS_LABELS = {
    PlanStatus.submitted: "待镇审核",
    PlanStatus.approved: "已批准",
    PlanStatus.returned: "已退回",
    PlanStatus.superseded: "已被新计划替代",
}


class VisitTaskStatus(StrEnum):
    open = "open"
    done = "done"
    overdue = "overdue"
    cancelled = "cancelled"


VISIT_TASK_STATUS_LABELS = {
    VisitTaskStatus.open: "待走访",
    VisitTaskStatus.done: "已走访",
    VisitTaskStatus.overdue: "逾期未走访（已提醒镇审核）",
    VisitTaskStatus.cancelled: "已取消（风险已消除）",
}


class ExitStep(StrEnum):
    home_verification = "home_verification"
    democratic_review = "democratic_review"
    village_notice = "village_notice"
    township_review = "township_review"
    county_decision = "county_decision"
    closed = "closed"


class ExitOutcome(StrEnum):
    risk_eliminated = "risk_eliminated"
    verification_failed = "verification_failed"
    review_failed = "review_failed"
    objection_upheld = "objection_upheld"
    returned_by_township = "returned_by_township"
    rejected_by_county = "rejected_by_county"
    withdrawn_new_risk = "withdrawn_new_risk"


EXIT_OUTCOME_LABELS = {
    ExitOutcome.risk_eliminated: "已标注风险消除",
    ExitOutcome.verification_failed: "入户核实不符合风险消除条件",
    ExitOutcome.review_failed: "民主评议未通过",
    ExitOutcome.objection_upheld: "公示异议成立，终止风险消除",
    ExitOutcome.returned_by_township: "镇审核退回",
    ExitOutcome.rejected_by_county: "县级审定未通过",
    ExitOutcome.withdrawn_new_risk: "出现新风险，终止风险消除",
}


class MonitoringAction(StrEnum):
    appoint_support_person = "appoint_support_person"
    submit_plan = "submit_plan"
    review_plan = "review_plan"
    deliver_measure = "deliver_measure"
    record_visit = "record_visit"
    propose_exit = "propose_exit"
    verify_exit = "verify_exit"
    review_exit = "review_exit"
    file_exit_objection = "file_exit_objection"
    resolve_exit_objection = "resolve_exit_objection"
    review_exit_in_township = "review_exit_in_township"
    decide_exit_in_county = "decide_exit_in_county"
    reverse_exit = "reverse_exit"


class TaskKind(StrEnum):
    appoint_support_person = "appoint_support_person"
    draft_plan = "draft_plan"
    review_plan = "review_plan"
    deliver_measures = "deliver_measures"
    visit = "visit"
    visit_overdue = "visit_overdue"
    propose_exit = "propose_exit"
    exit_step = "exit_step"


TASK_LABELS = {
    TaskKind.appoint_support_person: "任命帮扶责任人",
    TaskKind.draft_plan: "制定帮扶计划（一户一策）",
    TaskKind.review_plan: "审核帮扶计划",
    TaskKind.deliver_measures: "落实帮扶措施",
    TaskKind.visit: "本期走访",
    TaskKind.visit_overdue: "上期未走访，请督促走访",
    TaskKind.propose_exit: "已满足风险消除条件，请提出风险消除",
    TaskKind.exit_step: "风险消除程序",
}
