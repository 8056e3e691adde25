"""The procedure's vocabulary: roles, steps, channels, outcomes and their Chinese labels.

Identifiers are English; every label shown to cadres or households is Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    village_cadre = "village_cadre"
    township_approver = "township_approver"
    county_officer = "county_officer"
    admin = "admin"


ROLE_LABELS = {
    Role.village_cadre: "村干部",
    Role.township_approver: "镇审核人员",
    Role.county_officer: "县乡村振兴局",
    Role.admin: "系统管理员",
}


class Step(StrEnum):
    home_verification = "home_verification"
    authorisation = "authorisation"
    cross_check = "cross_check"
    democratic_review = "democratic_review"
    village_notice = "village_notice"
    township_review = "township_review"
    county_decision = "county_decision"
    announcement = "announcement"
    closed = "closed"


STEP_LABELS = {
    Step.home_verification: "入户核查",
    Step.authorisation: "承诺授权",
    Step.cross_check: "信息比对",
    Step.democratic_review: "民主评议",
    Step.village_notice: "村级公示",
    Step.township_review: "镇审核",
    Step.county_decision: "县级审定",
    Step.announcement: "结果公告",
    Step.closed: "已办结",
}


class Action(StrEnum):
    verify_home = "verify_home"
    record_authorisation = "record_authorisation"
    record_cross_check = "record_cross_check"
    record_review = "record_review"
    file_objection = "file_objection"
    resolve_objection = "resolve_objection"
    review_in_township = "review_in_township"
    decide_in_county = "decide_in_county"
    announce = "announce"
    add_lead = "add_lead"


@dataclass(frozen=True)
class ActionRule:
    step: Step
    role: Role
    label: str


# Who may take which action, and at which step (DOMAIN.md, "People and systems").
ACTION_RULES: dict[Action, ActionRule] = {
    Action.verify_home: ActionRule(Step.home_verification, Role.village_cadre, "录入入户核查"),
    Action.record_authorisation: ActionRule(Step.authorisation, Role.village_cadre, "录入承诺授权"),
    Action.record_cross_check: ActionRule(Step.cross_check, Role.county_officer, "录入信息比对结果"),
    Action.record_review: ActionRule(Step.democratic_review, Role.village_cadre, "录入民主评议"),
    Action.file_objection: ActionRule(Step.village_notice, Role.village_cadre, "登记公示异议"),
    Action.resolve_objection: ActionRule(Step.village_notice, Role.village_cadre, "录入异议核实结论"),
    Action.review_in_township: ActionRule(Step.township_review, Role.township_approver, "镇审核"),
    Action.decide_in_county: ActionRule(Step.county_decision, Role.county_officer, "县级审定"),
    Action.announce: ActionRule(Step.announcement, Role.township_approver, "结果公告"),
}

# Roles that may open a case (a lead) for a household inside their area, or add a lead to it.
CASE_OPENING_ROLES = frozenset({Role.village_cadre, Role.township_approver, Role.county_officer})


class Channel(StrEnum):
    self_report = "self_report"
    cadre_screening = "cadre_screening"
    department_warning = "department_warning"
    supervision_feedback = "supervision_feedback"
    platform_analysis = "platform_analysis"


CHANNEL_LABELS = {
    Channel.self_report: "农户自主申报",
    Channel.cadre_screening: "镇村干部排查",
    Channel.department_warning: "行业部门筛查预警",
    Channel.supervision_feedback: "各类监督渠道反馈",
    Channel.platform_analysis: "平台监测分析",
}


class Outcome(StrEnum):
    monitoring_target = "monitoring_target"
    authorisation_refused = "authorisation_refused"
    review_failed = "review_failed"
    objection_upheld = "objection_upheld"
    returned_by_township = "returned_by_township"
    rejected_by_county = "rejected_by_county"


OUTCOME_LABELS = {
    Outcome.monitoring_target: "已认定为监测对象",
    Outcome.authorisation_refused: "农户拒绝签署承诺授权书，终止识别",
    Outcome.review_failed: "民主评议未通过，终止识别",
    Outcome.objection_upheld: "公示异议成立，终止识别",
    Outcome.returned_by_township: "镇审核退回，终止识别",
    Outcome.rejected_by_county: "县级审定未通过，终止识别",
}


class RiskType(StrEnum):
    illness = "illness"
    disability = "disability"
    schooling = "schooling"
    disaster = "disaster"
    accident = "accident"
    business_failure = "business_failure"
    unstable_employment = "unstable_employment"
    lack_of_labour = "lack_of_labour"
    housing = "housing"
    water = "water"
    other = "other"


RISK_TYPE_LABELS = {
    RiskType.illness: "因病",
    RiskType.disability: "因残",
    RiskType.schooling: "因学",
    RiskType.disaster: "因灾",
    RiskType.accident: "因意外事故",
    RiskType.business_failure: "因产业项目失败",
    RiskType.unstable_employment: "因务工就业不稳",
    RiskType.lack_of_labour: "缺劳动力",
    RiskType.housing: "住房安全",
    RiskType.water: "饮水安全",
    RiskType.other: "其他",
}


class Category(StrEnum):
    unstable_formerly_poor = "unstable_formerly_poor"
    marginal = "marginal"
    sudden_hardship = "sudden_hardship"


CATEGORY_LABELS = {
    Category.unstable_formerly_poor: "脱贫不稳定户",
    Category.marginal: "边缘易致贫户",
    Category.sudden_hardship: "突发严重困难户",
}


class LabourCapacity(StrEnum):
    full = "full"
    partial = "partial"
    none = "none"


class HouseholdStatus(StrEnum):
    not_monitored = "not_monitored"
    risk_not_eliminated = "risk_not_eliminated"
    risk_eliminated = "risk_eliminated"


HOUSEHOLD_STATUS_LABELS = {
    HouseholdStatus.not_monitored: "非监测对象",
    HouseholdStatus.risk_not_eliminated: "风险未消除",
    HouseholdStatus.risk_eliminated: "风险已消除",
}


class Department(StrEnum):
    real_estate = "real_estate"
    vehicles = "vehicles"
    market_entities = "market_entities"
    public_payroll = "public_payroll"
    social_insurance = "social_insurance"


DEPARTMENT_LABELS = {
    Department.real_estate: "不动产登记",
    Department.vehicles: "公安交管",
    Department.market_entities: "市场监管",
    Department.public_payroll: "财政供养",
    Department.social_insurance: "人社社保",
}
