"""What each entry of a case's timeline is called on the page."""

from __future__ import annotations

from services.domain.identification.procedure import IDENTIFICATION

_SYSTEM_EVENTS = {
    "open_case": "发起识别（录入风险线索）",
    "request_cross_check": "发出信息比对请求",
    "cross_check_accepted": "部门已接收比对请求",
    "receive_cross_check_result": "收到部门比对结果",
    "reask_cross_check": "再次询问部门比对结果",
    "cross_check_overdue": "部门比对逾期未反馈",
    "cross_check_not_configured": "部门未登记比对系统",
    "end_notice": "公示期满",
    "escalate": "超期上报",
    "record_refused": "数据库未能保存的操作",
}
_ACTIONS = {str(spec.action): spec.title for spec in IDENTIFICATION.actions}


def entry_label(action: str) -> str:
    return _ACTIONS.get(action) or _SYSTEM_EVENTS.get(action) or action
