"""The county officer's hand-entered cross-check results (手工录入信息比对结果) as a page form: one
row per department still waiting, its findings typed one per line. The API's model nests three
lists deep (results → findings → matches), deeper than a form drawn from a model goes, so this
form reads the rows into the model's body itself and names each problem by its row and line."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from starlette.datastructures import FormData

from services.api.identification.views import review_input
from services.domain.identification.forms import CrossCheckEntry
from services.web.form_posts import Problems, validated
from services.web.forms import FormField

FINDINGS_FORMAT = "身份证号 类别 说明 数值"
_RULES = {
    "reason": "须说明为何手工录入（如：部门逾期未反馈，已线下调取结果），记入办理记录",
    "status": "只填本次录入的部门，其余留空；已录入的部门不能再录",
    "completed_at": "部门出具结果的时间（北京时间）",
    "findings": f"每行一项，以空格分隔：{FINDINGS_FORMAT}（数值可省略）；同一人多项写多行；查无记录则留空",
}
_STATUS_CHOICES = [("completed", "比对完成（已取得结果）"), ("failed", "比对失败（部门无法查询）")]
_LOCAL_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")
# A row is named by its department, not its place: a department that answers while the officer types
# leaves the list, and a row named by place would then be recorded as the next department's.
_POSTED_ROW = re.compile(r"results\[([A-Za-z0-9_]{1,50})\]\.status")


def waiting_departments(view: dict[str, Any]) -> list[tuple[str, str]]:
    """(department, label with its status) of each department whose result is still missing."""
    found = review_input(view)
    departments = found["departments"]
    return [
        (code, f"{departments[code]['label']}（{departments[code]['status_label']}）")
        for code in found["pending_departments"]
    ]


def cross_check_fields(view: dict[str, Any]) -> list[FormField]:
    """The form's fields: one row per waiting department (none: nothing left to record)."""
    rows = [
        [
            FormField(f"results[{code}].status", label, "choice", choices=_STATUS_CHOICES, hint=_RULES["status"]),
            FormField(f"results[{code}].completed_at", "结果出具时间", "datetime", hint=_RULES["completed_at"]),
            FormField(f"results[{code}].findings", "比对发现", "lines", max_length=1000, hint=_RULES["findings"]),
        ]
        for code, label in waiting_departments(view)
    ]
    if not rows:
        return []
    return [
        FormField("results", "各部门比对结果", "rows", required=True, rows=rows),
        FormField("reason", "手工录入的原因", "textarea", required=True, max_length=1000, hint=_RULES["reason"]),
    ]


def read_cross_check(view: dict[str, Any], posted: FormData) -> BaseModel | Problems:
    """The posted rows as a `CrossCheckEntry`, or their problems named by the page's fields (a
    finding's problem beside its department's findings, with the line it came from). A line that
    does not read is left out of the body, so the model's problems are reported beside it."""
    results: list[dict[str, Any]] = []
    rows_of: list[str] = []  # the page's row (its department) of each result
    lines_of: list[list[list[int]]] = []  # the typed lines of each result's findings' matches
    waiting = [department for department, _ in waiting_departments(view)]
    problems = _answered_since(view, posted, waiting)
    for department in waiting:
        status = posted.get(f"results[{department}].status") or ""
        if not status:
            continue
        findings, lines, wrong = _findings(str(posted.get(f"results[{department}].findings") or ""), department)
        problems += wrong
        result: dict[str, Any] = {"department": department, "status": status, "findings": findings}
        moment = str(posted.get(f"results[{department}].completed_at") or "").strip()
        if moment:  # the browser's local moment is the county's: Beijing time
            seconds = "" if moment.count(":") == 2 else ":00"
            result["completed_at"] = f"{moment}{seconds}+08:00" if _LOCAL_MOMENT.fullmatch(moment) else moment
        results.append(result)
        rows_of.append(department)
        lines_of.append(lines)
    reason = str(posted.get("reason") or "").strip()
    read = validated(CrossCheckEntry, {"results": results, **({"reason": reason} if reason else {})})
    if isinstance(read, list):
        return problems + [_by_row(problem, rows_of, lines_of) for problem in read]
    return problems or read


def _answered_since(view: dict[str, Any], posted: FormData, waiting: list[str]) -> Problems:
    """A result typed for a department that answered after the page was drawn: nothing is recorded,
    and the officer is told to look again (its own answer now stands on the page)."""
    typed = {found.group(1) for key in posted if (found := _POSTED_ROW.fullmatch(key)) and posted.get(key)}
    departments = review_input(view)["departments"]
    late = [departments.get(code, {}).get("label", code) for code in sorted(typed - set(waiting))]
    if not late:
        return []
    message = f"{'、'.join(late)}的比对结果已在您填写期间到达，本次未录入任何结果，请核对后重新提交"
    return [{"field": "results", "message": message}]


def _findings(text: str, row: str) -> tuple[list[dict[str, Any]], list[list[int]], Problems]:
    """Lines `身份证号 类别 说明 [数值]` grouped by person: the findings, the line numbers of each
    finding's matches, and a problem for each line that does not read."""
    by_person: dict[str, tuple[list[dict[str, Any]], list[int]]] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 3:
            problems.append({"field": f"results[{row}].findings", "message": f"第{number}行应为：{FINDINGS_FORMAT}"})
            continue
        match: dict[str, Any] = {"kind": parts[1], "description": " ".join(parts[2:])}
        if len(parts) > 3 and _is_number(parts[-1]):
            match = {"kind": parts[1], "description": " ".join(parts[2:-1]), "value": parts[-1]}
        matches, lines = by_person.setdefault(parts[0].upper(), ([], []))
        matches.append(match)
        lines.append(number)
    findings = [{"id_number": person, "matches": matches} for person, (matches, _) in by_person.items()]
    return findings, [lines for _, lines in by_person.values()], problems


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_PATH = re.compile(r"results\[(\d+)\](?:\.findings\[(\d+)\](?:\.matches\[(\d+)\])?)?")


def _by_row(problem: dict[str, str], rows_of: list[str], lines_of: list[list[list[int]]]) -> dict[str, str]:
    """A problem of the model's `results[k]…` renamed to the page's row; one inside a finding goes
    beside the row's findings, with its line."""
    found = _PATH.match(problem["field"])
    if not found:
        return problem
    result, finding, match = (int(n) if n is not None else None for n in found.groups())
    assert result is not None
    row = rows_of[result]
    rest = problem["field"][found.end() :]
    if finding is None:
        return {"field": f"results[{row}]{rest}", "message": problem["message"]}
    lines = lines_of[result][finding]
    line = lines[match] if match is not None else lines[0]
    return {"field": f"results[{row}].findings", "message": f"第{line}行：{problem['message']}"}
