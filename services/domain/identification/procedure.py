"""The identification procedure (识别认定) as one table (DOMAIN.md, "The procedure" and
"People and systems"): each step and each action on it, described once."""

from __future__ import annotations

from services.domain.identification.forms import (
    Announcement,
    Authorisation,
    CountyDecision,
    CrossCheckEntry,
    CrossCheckResend,
    DemocraticReview,
    FastTrack,
    HomeVerification,
    Lead,
    Objection,
    ObjectionResolution,
    TownshipReview,
)
from services.domain.procedure import ActionSpec, Procedure, StepSpec
from services.domain.vocabulary import CASE_OPENING_ROLES, Action, Role, Step

_Step, _Action = StepSpec[Step, Action], ActionSpec[Step, Action]
_VILLAGE, _TOWNSHIP, _COUNTY = (Role.village_cadre,), (Role.township_approver,), (Role.county_officer,)

# The department cross-check runs beside the democratic review and the notice (DOMAIN.md, step 4);
# after the notice the case waits at `cross_check` until every department has answered.
CROSS_CHECK_STEPS = frozenset({Step.democratic_review, Step.village_notice, Step.cross_check})
# Support may start before the identification ends (绿色通道), at any step up to the county's decision.
BEFORE_DECISION_STEPS = frozenset(
    {
        Step.home_verification,
        Step.authorisation,
        Step.cross_check,
        Step.democratic_review,
        Step.village_notice,
        Step.township_review,
        Step.county_decision,
    }
)

IDENTIFICATION: Procedure[Step, Action] = Procedure(
    subject="案件",
    steps=(
        _Step(
            Step.home_verification,
            "入户核查",
            Action.verify_home,
            days=2,
            applicant=("等待村干部上门核查", "村干部会到您家了解收入、支出和生活情况，请保持电话畅通。"),
        ),
        _Step(
            Step.authorisation,
            "承诺授权",
            Action.record_authorisation,
            days=1,
            applicant=("等待签署承诺授权书", "请户主签署《承诺授权书》，同意有关部门核对家庭信息。"),
        ),
        _Step(
            Step.cross_check,
            "等待信息比对结果",
            # Departments answer; a missed answer is a county officer's task of its own. The days are
            # a department's default time to answer.
            days=3,
            applicant=("正在核对家庭信息", "有关部门正在核对您家的房产、车辆、经营、工作和社保等信息。"),
        ),
        _Step(
            Step.democratic_review,
            "民主评议",
            Action.record_review,
            days=1,
            applicant=("等待村里民主评议", "村里将召开村民代表会议，评议您家的情况。"),
        ),
        _Step(
            Step.village_notice,
            "村级公示",  # waits on time: the policy's `notice_days`
            applicant=("评议结果正在村里公示", "公示期满且没有异议后，报镇里审核。"),
        ),
        _Step(
            Step.township_review,
            "镇审核",
            Action.review_in_township,
            days=1,
            applicant=("镇里正在审核", "镇里审核通过后，报县里审定。"),
        ),
        _Step(
            Step.county_decision,
            "县级审定",
            Action.decide_in_county,
            days=1,
            applicant=("县里正在审定", "县里审定后会把结果告诉您。"),
        ),
        _Step(
            Step.announcement,
            "结果公告",
            Action.announce,
            days=1,
            applicant=("县里已审定通过，等待公告", "镇里将在村里公告结果，之后会安排帮扶。"),
        ),
        _Step(Step.closed, "已办结"),
    ),
    actions=(
        _Action(
            Action.verify_home,
            _VILLAGE,
            "录入入户核查",
            HomeVerification,
            "home-verification",
            "入户核查",
            frozenset({Step.home_verification}),
        ),
        _Action(
            Action.record_authorisation,
            _VILLAGE,
            "录入承诺授权",
            Authorisation,
            "authorisation",
            "承诺授权",
            frozenset({Step.authorisation}),
        ),
        _Action(
            Action.record_cross_check,
            _COUNTY,
            "手工录入信息比对结果",
            CrossCheckEntry,
            "cross-check-results",
            "手工录入信息比对结果（须说明原因）",
            CROSS_CHECK_STEPS,
        ),
        _Action(
            Action.resend_cross_check,
            _COUNTY,
            "重新发送信息比对请求",
            CrossCheckResend,
            "cross-check-resends",
            "重新发送信息比对请求（部门逾期未反馈时）",
            CROSS_CHECK_STEPS,
        ),
        _Action(
            Action.record_review,
            _VILLAGE,
            "录入民主评议",
            DemocraticReview,
            "democratic-review",
            "民主评议",
            frozenset({Step.democratic_review}),
        ),
        _Action(
            Action.file_objection,
            _VILLAGE,
            "登记公示异议",
            Objection,
            "objections",
            "登记公示异议",
            frozenset({Step.village_notice}),
        ),
        _Action(
            Action.resolve_objection,
            _VILLAGE,
            "录入异议核实结论",
            ObjectionResolution,
            "objections/{objection_id}/resolution",
            "异议核实结论",
            frozenset({Step.village_notice}),
            item_max=1000,
        ),
        _Action(
            Action.review_in_township,
            _TOWNSHIP,
            "镇审核",
            TownshipReview,
            "township-review",
            "镇审核",
            frozenset({Step.township_review}),
        ),
        _Action(
            Action.decide_in_county,
            _COUNTY,
            "县级审定",
            CountyDecision,
            "county-decision",
            "县级审定",
            frozenset({Step.county_decision}),
        ),
        _Action(
            Action.announce,
            _TOWNSHIP,
            "结果公告",
            Announcement,
            "announcement",
            "结果公告",
            frozenset({Step.announcement}),
        ),
        _Action(
            Action.start_fast_track,
            _TOWNSHIP,
            "启动绿色通道（先帮后评）",
            FastTrack,
            "fast-track",
            "绿色通道：识别认定完成前先行帮扶（突发严重困难户）",
            BEFORE_DECISION_STEPS,
        ),
        # A further lead joins the open case at whatever step it stands; the service adds leads too.
        _Action(Action.add_lead, tuple(sorted(CASE_OPENING_ROLES)), "登记新线索", Lead, "leads", "新线索并入在办案件"),
    ),
)

STEP_LABELS = IDENTIFICATION.labels
ACTION_RULES = IDENTIFICATION.rules  # who takes each action (the task inbox reads it)
