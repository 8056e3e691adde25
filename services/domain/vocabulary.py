"""The procedure's vocabulary: roles, steps, channels, outcomes and their Chinese labels.

Identifiers are English; every label shown to cadres or households is Chinese. What each step
and action is called, who takes it and where, is the procedure's table
(services/domain/identification/procedure.py).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    village_cadre = "village_cadre"
    township_approver = "township_approver"
    county_officer = "county_officer"
    admin = "admin"
    # The rest of the 四支队伍 (with the village cadres), each working in one village.
    village_team = "village_team"  # 驻村第一书记和工作队
    support_cadre = "support_cadre"  # 帮扶干部
    grid_worker = "grid_worker"  # 网格员
    # Not an account's role: a task any of the village's 四支队伍 may take (a visit, a support person's work).
    four_teams = "four_teams"


ROLE_LABELS = {
    Role.village_cadre: "村干部",
    Role.township_approver: "镇审核人员",
    Role.county_officer: "县乡村振兴局",
    Role.admin: "系统管理员",
    Role.village_team: "驻村工作队（第一书记）",
    Role.support_cadre: "帮扶干部",
    Role.grid_worker: "网格员",
    Role.four_teams: "四支队伍",
}

# The 四支队伍 (DOMAIN.md): they visit 脱贫户 and monitoring targets, record leads, and any of them
# may be a household's support person (帮扶责任人) or contact person (帮扶联系人).
FOUR_TEAMS = (Role.village_cadre, Role.village_team, Role.support_cadre, Role.grid_worker)


def task_roles(role: Role | str) -> frozenset[Role]:
    """The task roles a person of `role` acts on: their own, and the 四支队伍's tasks if they are one of them."""
    return frozenset({Role(role), Role.four_teams}) if role in FOUR_TEAMS else frozenset({Role(role)})


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
    resend_cross_check = "resend_cross_check"
    start_fast_track = "start_fast_track"


# Roles that may open a case (a lead) for a household inside their area, or add a lead to it.
CASE_OPENING_ROLES = frozenset({*FOUR_TEAMS, Role.township_approver, Role.county_officer})


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


class DepartmentKind(StrEnum):
    """Every kind of department system a county may register: the five that answer
    cross-checks (`Department`) and those that push early warnings."""

    real_estate = "real_estate"
    vehicles = "vehicles"
    market_entities = "market_entities"
    public_payroll = "public_payroll"
    social_insurance = "social_insurance"
    medical_insurance = "medical_insurance"
    civil_affairs = "civil_affairs"
    disabled_persons_federation = "disabled_persons_federation"
    emergency_management = "emergency_management"
    education = "education"
    housing = "housing"
    water_resources = "water_resources"


DEPARTMENT_KIND_LABELS = {
    **{DepartmentKind(d.value): label for d, label in DEPARTMENT_LABELS.items()},
    DepartmentKind.medical_insurance: "医疗保障",
    DepartmentKind.civil_affairs: "民政",
    DepartmentKind.disabled_persons_federation: "残联",
    DepartmentKind.emergency_management: "应急管理",
    DepartmentKind.education: "教育",
    DepartmentKind.housing: "住房和城乡建设",
    DepartmentKind.water_resources: "水利",
}


class CrossCheckStatus(StrEnum):
    """Where one department's part of a cross-check round stands."""

    not_configured = "not_configured"  # no such department registered for the county: record by hand
    sending = "sending"  # being delivered, retried with backoff
    awaiting = "awaiting"  # the department accepted it; its answer is due by `respond_by`
    # Accepted, but no answer after the department's re-ask time: asked again (same request id),
    # shown to the county officer before it is overdue.
    silent = "silent"
    overdue = "overdue"  # `respond_by` passed without an answer: a task for the county officer
    answered = "answered"  # the department's result arrived
    recorded_by_hand = "recorded_by_hand"  # the county officer recorded it, with a reason


CROSS_CHECK_STATUS_LABELS = {
    CrossCheckStatus.not_configured: "未配置比对部门，需手工录入",
    CrossCheckStatus.sending: "发送中",
    CrossCheckStatus.awaiting: "等待部门反馈",
    CrossCheckStatus.silent: "部门已受理但久未反馈，已自动重新询问",
    CrossCheckStatus.overdue: "部门逾期未反馈",
    CrossCheckStatus.answered: "部门已反馈",
    CrossCheckStatus.recorded_by_hand: "已手工录入",
}
# A department's result is still accepted in these states.
AWAITING_RESULT = frozenset(
    {CrossCheckStatus.sending, CrossCheckStatus.awaiting, CrossCheckStatus.silent, CrossCheckStatus.overdue}
)
# Sent, or accepted, and not answered yet: the deadline watch makes these overdue at `respond_by`.
UNANSWERED = frozenset({CrossCheckStatus.sending, CrossCheckStatus.awaiting, CrossCheckStatus.silent})
# These put a task in the county officer's list: re-send, or record by hand.
NEEDS_OFFICER = frozenset({CrossCheckStatus.not_configured, CrossCheckStatus.overdue})
# The county officer's cross-check list: the tasks, and departments silent before their deadline.
OFFICER_SEES = NEEDS_OFFICER | {CrossCheckStatus.silent}
# A department's answer that its case has not taken after several tries (the worker still retries).
ANSWER_NEEDS_ATTENTION = "needs_attention"
ANSWER_NEEDS_ATTENTION_LABEL = "部门已反馈，但案件暂时无法接收，系统正在持续重试，请关注"
SETTLED = frozenset({CrossCheckStatus.answered, CrossCheckStatus.recorded_by_hand})


class WarningKind(StrEnum):
    medical_expense = "medical_expense"
    disability = "disability"
    disaster = "disaster"
    accident = "accident"
    unemployment = "unemployment"
    other = "other"
    # Kinds of the departments that joined later, each sent by its own department only
    # (services/domain/departments/early_warning.py::DEPARTMENT_WARNING_KINDS).
    school_dropout = "school_dropout"
    unsafe_housing = "unsafe_housing"
    water_supply_cut = "water_supply_cut"
    assistance_ended = "assistance_ended"
    temporary_assistance = "temporary_assistance"


WARNING_KIND_LABELS = {
    WarningKind.medical_expense: "医疗自付费用较高",
    WarningKind.disability: "新增残疾",
    WarningKind.disaster: "受灾",
    WarningKind.accident: "意外事故",
    WarningKind.unemployment: "失业",
    WarningKind.other: "其他",
    WarningKind.school_dropout: "学生辍学",
    WarningKind.unsafe_housing: "住房鉴定为危房",
    WarningKind.water_supply_cut: "供水中断",
    WarningKind.assistance_ended: "低保或特困供养停发",
    WarningKind.temporary_assistance: "申请临时救助",
}


class WarningDelivery(StrEnum):
    """How far a warning that became a lead has got to its case (the worker's forwarder delivers it)."""

    pending = "pending"
    delivered = "delivered"
    needs_attention = "needs_attention"  # its case has not taken it after several tries; still retried
    refused = "refused"  # the case refused its content for good (PostgreSQL cannot store it); not retried


WARNING_DELIVERY_LABELS = {
    WarningDelivery.pending: "正在送达案件",
    WarningDelivery.delivered: "已送达案件",
    WarningDelivery.needs_attention: "案件暂时无法接收该预警，系统正在持续重试，请关注",
    WarningDelivery.refused: "预警内容无法保存到案件，已停止送达，请人工核查",
}


class WarningOutcome(StrEnum):
    opened = "opened"
    joined = "joined"
    below_threshold = "below_threshold"
    unknown_person = "unknown_person"
    duplicate = "duplicate"
    invalid = "invalid"
