"""The forms a reader may fill in on a case now (the step's own first), each field with the
case's policy rule beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.db.tables import Account, PolicyVersion
from services.domain.identification.procedure import IDENTIFICATION
from services.domain.policy import DEFAULT_POLICY
from services.domain.procedure import ActionSpec
from services.domain.vocabulary import Action, Step
from services.web.cross_check_form import cross_check_fields
from services.web.forms import FormField, UnsupportedForm, form_fields

_NOT_AFTER_TODAY = "不能晚于今天（北京时间）"


@dataclass
class CaseForm:
    spec: ActionSpec[Step, Action]
    fields: list[FormField]
    main: bool  # the action that completes the current step


def policy_rules(action: Action, policy: dict[str, Any]) -> dict[str, str]:
    """What the case's policy version asks of each field, in the words of the rules."""
    vote = policy.get("vote_rule") or {}
    quorum = f"{vote.get('quorum_numerator', 2)}/{vote.get('quorum_denominator', 3)}"
    rules: dict[Action, dict[str, str]] = {
        Action.verify_home: {
            "visited_on": _NOT_AFTER_TODAY,
            "verifiers": f"每行填一人；按政策至少{policy.get('min_verifiers', 2)}人入户，姓名不能重复",
            "income": "近12个月收入；年人均纯收入 =（收入合计 − 合规自付支出）÷ 家庭人口数，与当年监测标准比较",
            "able_workers": "不能超过家庭人口数；无劳动能力时填 0",
            "proposed_category": "系统按监测标准测算类别；与测算结果不一致时须填写理由",
            "risk_types": "至少选一项",
        },
        Action.record_authorisation: {
            "signed_on": _NOT_AFTER_TODAY,
            "decision": "户主拒绝签署《承诺授权书》的，识别终止",
        },
        Action.record_review: {
            "held_on": _NOT_AFTER_TODAY,
            "attendees": f"每行一人并选身份，至少一名村民代表；到会人数须达到应到人数的{quorum}",
            "votes_for": "同意票须超过到会人数的一半，评议才通过",
        },
        Action.file_objection: {
            "received_on": f"公示期（{policy.get('notice_days', 5):g}天）内收到的异议；{_NOT_AFTER_TODAY}",
        },
        Action.review_in_township: {
            "opinion": "退回时必填；退回不是否决，案件回到入户核查重新办理",
        },
        Action.decide_in_county: {"opinion": "不予认定时必填"},
        Action.announce: {"announced_on": _NOT_AFTER_TODAY},
        Action.start_fast_track: {"started_on": "案件发起以来的日期；" + _NOT_AFTER_TODAY},
    }
    return rules.get(action, {})


def _with_rules(fields: list[FormField], rules: dict[str, str]) -> list[FormField]:
    for f in fields:
        f.hint = rules.get(f.name, f.hint)
    return fields


def forms_for(reader: Account, view: dict[str, Any], policy: dict[str, Any]) -> list[CaseForm]:
    """Actions of the reader's role the case's step allows (numbered ones, like resolving an
    objection, and forms too deep for a page are left to the API)."""
    step = Step(view["step"])
    main = IDENTIFICATION.step(step).action
    found = []
    for spec in IDENTIFICATION.actions:
        if reader.role not in spec.roles or step not in spec.steps or spec.item is not None:
            continue
        try:
            fields = cross_check_fields(view) if spec.action == Action.record_cross_check else form_fields(spec.form)
        except UnsupportedForm:
            continue
        if not fields:  # every department's result is in: nothing left to record
            continue
        found.append(CaseForm(spec, _with_rules(fields, policy_rules(spec.action, policy)), spec.action == main))
    return sorted(found, key=lambda form: not form.main)


async def case_policy(session: AsyncSession, version: int) -> dict[str, Any]:
    """The case's own policy version (later versions apply to later cases only)."""
    row = await session.get(PolicyVersion, version)
    return {**DEFAULT_POLICY.model_dump(mode="json"), **(row.body if row else {})}


def objection_forms(reader: Account, view: dict[str, Any]) -> dict[str, list[FormField]]:
    """One resolution form per objection still open in the notice, keyed `resolve_objection-{number}`
    (the API's numbered route: the number travels as `?item=`)."""
    spec = IDENTIFICATION.action(Action.resolve_objection)
    if reader.role not in spec.roles or Step(view["step"]) not in spec.steps:
        return {}
    objections = (view.get("notice") or {}).get("objections") or []
    return {
        f"{spec.action}-{o['objection_id']}": form_fields(spec.form) for o in objections if o.get("resolution") is None
    }
