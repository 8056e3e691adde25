"""When a monitored household's risk counts as eliminated (DOMAIN.md, "Exit and re-entry").

Evaluated from the records after every change and at every period's end: monitored
long enough, measures delivered, income above the line at every recent visit, 三保障
and water secured, no open risk, and someone in the household able to work. A
household where no one can work is never marked risk-eliminated: it stays monitored
under social protection (兜底保障), and the assessment says so.
"""

from __future__ import annotations

from datetime import datetime

from services.domain.identification.forms import LivingConditions
from services.domain.monitoring.forms import ExitVerification
from services.domain.monitoring.state import ExitAssessment, MonitoringState, UnmetCriterion
from services.domain.monitoring.visit_calendar import income_window
from services.domain.monitoring.vocabulary import MeasureStatus, VisitTaskStatus
from services.domain.months import add_months, local_date
from services.domain.policy import PolicyBody
from services.domain.vocabulary import LabourCapacity

NO_LABOUR = UnmetCriterion(
    code="no_labour",
    message="家中无有劳动能力的成员：按政策不标注风险消除，继续在兜底保障下监测帮扶",
)


def assess_exit(state: MonitoringState, policy: PolicyBody, now: datetime) -> ExitAssessment:
    unmet: list[UnmetCriterion] = []
    no_labour = _lacks_labour(state.labour_capacity, state.able_workers)
    if no_labour:
        unmet.append(NO_LABOUR)
    clock = local_date(state.clock_started_at)
    if now < monitored_long_enough_at(state, policy):
        unmet.append(
            UnmetCriterion(
                code="too_soon",
                message=f"自{clock}起监测未满{policy.exit_min_monitoring_months}个月"
                f"（{local_date(monitored_long_enough_at(state, policy))}满）",
            )
        )
    delivered = [
        m
        for m in state.measures()
        if m.status == MeasureStatus.delivered and m.delivery is not None and m.delivery.delivered_on >= clock
    ]
    if len(delivered) < policy.exit_min_delivered_measures:
        unmet.append(
            UnmetCriterion(
                code="measures",
                message=f"自{clock}起已落实帮扶措施{len(delivered)}项，至少需要{policy.exit_min_delivered_measures}项",
            )
        )
    line = policy.income_line_on(local_date(now), "exit")
    if not _income_held(state, policy, line.yuan):
        unmet.append(
            UnmetCriterion(
                code="income",
                message=f"近{income_window(policy)}期走访不全，或走访收入未持续高于{line}",
            )
        )
    unmet += living_conditions_unmet(state.living_conditions)
    if state.open_risks:
        unmet.append(UnmetCriterion(code="open_risk", message="有新发现的风险正在识别认定中"))
    return ExitAssessment(eligible=not unmet, social_protection=no_labour, unmet=unmet, assessed_at=now)


def monitored_long_enough_at(state: MonitoringState, policy: PolicyBody) -> datetime:
    return add_months(state.clock_started_at, policy.exit_min_monitoring_months)


def verification_unmet(found: ExitVerification, policy: PolicyBody) -> list[UnmetCriterion]:
    """What the exit's home verification found against eliminating the risk."""
    unmet = [NO_LABOUR] if _lacks_labour(found.labour_capacity, found.able_workers) else []
    line = policy.income_line_on(found.visited_on, "exit")
    if found.per_capita_net_income <= line.yuan:
        unmet.append(
            UnmetCriterion(
                code="income",
                message=f"核实的年人均纯收入{found.per_capita_net_income:g}元未高于{line}",
            )
        )
    unmet += living_conditions_unmet(found.living_conditions)
    if not found.expenses_resolved:
        unmet.append(UnmetCriterion(code="expenses", message="刚性支出问题尚未解决"))
    return unmet


def living_conditions_unmet(conditions: LivingConditions | None) -> list[UnmetCriterion]:
    if conditions is None:
        return [UnmetCriterion(code="living_conditions", message="尚无三保障和饮水安全情况记录")]
    missing = [
        field.description for name, field in LivingConditions.model_fields.items() if not getattr(conditions, name)
    ]
    if not missing:
        return []
    return [UnmetCriterion(code="living_conditions", message="尚未保障：" + "、".join(str(m) for m in missing))]


def _lacks_labour(capacity: LabourCapacity | None, able_workers: int | None) -> bool:
    return capacity == LabourCapacity.none or able_workers == 0


def _income_held(state: MonitoringState, policy: PolicyBody, line_yuan: float) -> bool:
    """The latest visit of each of the last periods since the clock started was above the line in
    force at the assessment (a newer year's line holds for visits of the year before too).
    The current period counts once it has a visit; a missed period breaks the run."""
    counted = [
        t
        for t in state.visit_tasks
        if t.due_at > state.clock_started_at and t.status in (VisitTaskStatus.done, VisitTaskStatus.overdue)
    ]
    recent = counted[-income_window(policy) :]
    return len(recent) == income_window(policy) and all(
        t.status == VisitTaskStatus.done and t.per_capita_net_income is not None and t.per_capita_net_income > line_yuan
        for t in recent
    )
