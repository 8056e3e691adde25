"""What a household's self-report waits for: the township's acceptance, and once its days have
passed, the county's follow-up (county officers may then answer it themselves)."""

from __future__ import annotations

from services.domain.self_reports.model import ApplicationStatus, SelfReportState
from services.domain.tasks import ESCALATION, SELF_REPORT_ACCEPTANCE, TaskSpec
from services.domain.vocabulary import Role

# The action of the staff's decision (accept or reject): claims on these tasks are checked against it.
DECIDE_SELF_REPORT = "decide_self_report"


def self_report_tasks(state: SelfReportState) -> list[TaskSpec]:
    if state.status != ApplicationStatus.pending:
        return []
    tasks = [
        TaskSpec(
            key=f"{state.application_id}:acceptance",
            step=SELF_REPORT_ACCEPTANCE,
            action=DECIDE_SELF_REPORT,
            role=Role.township_approver,
            area_code=state.township_code,
            due_at=state.due_at,
            escalated_at=state.escalated_at,
            title="受理农户申报",
        )
    ]
    if state.escalated_at is not None:
        tasks.append(
            TaskSpec(
                key=f"{state.application_id}:{ESCALATION}",
                step=ESCALATION,
                action=DECIDE_SELF_REPORT,
                subject="self_report",
                role=Role.county_officer,
                area_code=state.county_code,
                # Already late: it was due when the township's days ran out.
                due_at=state.due_at,
                escalated_at=state.escalated_at,
                title="超期督办：农户申报超过受理时限未受理",
            )
        )
    return tasks
