"""What a household reads: where its application and case stand, what comes next, and SMS notices.

Plain Chinese for villagers, never the officials' shorthand; no ID numbers, no other person's
data and no internal notes. Dates are shown in China Standard Time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.domain.identification.procedure import IDENTIFICATION
from services.domain.personal_data import redact_personal_numbers
from services.domain.self_reports.model import ApplicationStatus, NoticeKind, NoticeRequest
from services.domain.vocabulary import Outcome, Step

CHINA = timezone(timedelta(hours=8), "CST")
SMS_SIGNATURE = "【防返贫监测】"


def day(moment: datetime) -> str:
    local = moment.astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日"


# (where the case stands, what happens next), per step: the procedure's table words them.
CASE_STEP_TEXTS: dict[Step, tuple[str, str]] = {s.step: s.applicant for s in IDENTIFICATION.steps if s.applicant}

OUTCOME_TEXTS: dict[Outcome, str] = {
    Outcome.monitoring_target: "您家已纳入防返贫监测对象，镇村将安排帮扶责任人，制定帮扶措施。",
    Outcome.authorisation_refused: "因未签署《承诺授权书》，识别已终止。如情况有变化，可以重新申报。",
    Outcome.review_failed: "村民代表评议未通过，识别已终止。如有疑问请联系村委会。",
    Outcome.objection_upheld: "公示期间的异议经核实成立，识别已终止。如有疑问请联系村委会。",
    Outcome.returned_by_township: "镇里审核未通过，识别已终止。如有疑问请联系镇政府。",
    Outcome.rejected_by_county: "县里审定未通过，识别已终止。如有疑问请联系镇政府。",
}


def application_progress(
    status: ApplicationStatus, due_at: datetime, escalated: bool, rejection_reason: str | None
) -> tuple[str, str]:
    """(where it stands, what happens next) for an application not (yet) turned into a case."""
    if status == ApplicationStatus.pending:
        if escalated:
            return ("镇里未按时受理，已转县里督办", "县乡村振兴局已督促镇里尽快处理，请耐心等待。")
        return ("等待镇里受理", f"镇里会在{day(due_at)}前决定是否受理，受理后村干部会上门核查。")
    if status == ApplicationStatus.rejected:
        return ("镇里未予受理", f"理由：{rejection_reason}。如有疑问，请联系村委会或镇政府。")
    if status == ApplicationStatus.withdrawn:
        return ("您已撤回申报", "如有需要，可以重新申报。")
    return ("镇里已受理", "村干部会上门核查，请保持电话畅通。")


def notice_text(notice: NoticeRequest) -> str:
    """The SMS a household receives. Free text from officials is scrubbed of ID and phone numbers."""
    submitted = day(notice.submitted_at)
    if notice.kind == NoticeKind.accepted and notice.joined_open_case:
        body = f"您{submitted}提交的困难申报已由镇里受理，并入您家正在办理的识别，请保持电话畅通。"
    elif notice.kind == NoticeKind.accepted:
        body = f"您{submitted}提交的困难申报已由镇里受理，村干部会上门核查，请保持电话畅通。"
    elif notice.kind == NoticeKind.rejected:
        reason = redact_personal_numbers(notice.reason or "")
        body = f"您{submitted}提交的困难申报未予受理，理由：{reason}。如有疑问请联系村委会或镇政府。"
    else:
        assert notice.outcome is not None, "a case_decided notice carries the outcome"
        body = f"您{submitted}申报的识别结果：{OUTCOME_TEXTS[notice.outcome]}"
    return f"{SMS_SIGNATURE}{body}详情请在“一键申报”小程序中查看。"


def sign_in_code_text(code: str, minutes: int) -> str:
    return f"{SMS_SIGNATURE}您的登录验证码是{code}，{minutes}分钟内有效。请勿告诉他人。"
