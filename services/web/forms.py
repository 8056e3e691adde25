"""HTML forms drawn from the API's own request models (their JSON schema), and the posted form
read back into the body the model validates. One description of each form, so the page asks for
exactly what the API takes, with the same Chinese labels, bounds and messages.

Field names are the paths the error model uses (`income.wage`, `attendees[2].role`), so a 422's
`errors` land beside the field they name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.datastructures import FormData

from services.api.errors import invalid
from services.domain.identification.forms import REVIEW_ROLE_LABELS
from services.domain.monitoring.vocabulary import MEASURE_KIND_LABELS
from services.domain.vocabulary import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    DEPARTMENT_LABELS,
    RISK_TYPE_LABELS,
)

# Choice labels by the enum's schema title; Literal choices by their value.
_ENUM_LABELS: dict[str, Mapping[Any, str]] = {
    "Category": CATEGORY_LABELS,
    "RiskType": RISK_TYPE_LABELS,
    "ReviewRole": REVIEW_ROLE_LABELS,
    "Department": DEPARTMENT_LABELS,
    "Channel": CHANNEL_LABELS,
    "MeasureKind": MEASURE_KIND_LABELS,
    "LabourCapacity": {"full": "有劳动能力", "partial": "部分劳动能力", "none": "无劳动能力"},
}
_VALUE_LABELS = {
    "signed": "已签署",
    "refused": "拒绝签署（识别终止）",
    "approve": "同意",
    "return": "退回重新核查",
    "reject": "不予认定",
    "upheld": "异议成立",
    "dismissed": "异议不成立",
    "reverify": "重新入户核查",
    "end": "终止识别",
}
# Fields whose schema carries no Chinese description.
_FIELD_LABELS = {
    "income": "家庭收入（近12个月，元）",
    "living_conditions": "两不愁三保障及饮水安全（已保障的请勾选）",
    "decision": "决定",
    "notes": "备注",
    "upheld_action": "异议成立时的处理",
}
# Rows offered for a list of records (attendees): enough for a village review, more are one click away.
ROWS_SHOWN = 12
LONG_TEXT = 200


class UnsupportedForm(Exception):
    """The model nests deeper than a page form goes (lists inside listed records)."""


@dataclass
class FormField:
    name: str  # the error model's path: income.wage, attendees[0].name
    label: str
    kind: str  # text, textarea, integer, number, date, datetime, checkbox, choice, choices, lines, group, rows
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    children: list[FormField] = field(default_factory=list)  # a group's fields
    rows: list[list[FormField]] = field(default_factory=list)  # a list of records, row by row
    hint: str = ""  # the policy's rule for it, set by the page


def form_fields(model: type[BaseModel]) -> list[FormField]:
    schema = model.model_json_schema()
    return _fields_of(schema, schema.get("$defs", {}), "")


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The property's own schema (refs followed) and whether it may be null."""
    nullable = False
    if "anyOf" in prop:
        options = [p for p in prop["anyOf"] if p.get("type") != "null"]
        nullable = len(options) < len(prop["anyOf"])
        prop = {**prop, **options[0]} if len(options) == 1 else prop
    if "$ref" in prop:
        target = defs[prop["$ref"].rsplit("/", 1)[1]]
        prop = {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop, nullable


def _choices(prop: dict[str, Any]) -> list[tuple[str, str]]:
    labels = _ENUM_LABELS.get(prop.get("title", ""), {})
    values = prop["enum"] if "enum" in prop else [prop["const"]]
    return [(str(v), labels.get(v) or _VALUE_LABELS.get(str(v), str(v))) for v in values]


def _fields_of(schema: dict[str, Any], defs: dict[str, Any], prefix: str) -> list[FormField]:
    required = set(schema.get("required", []))
    return [
        _field(f"{prefix}{name}", name, raw, defs, name in required)
        for name, raw in schema.get("properties", {}).items()
    ]


def _field(path: str, name: str, raw: dict[str, Any], defs: dict[str, Any], required: bool) -> FormField:
    prop, _ = _resolve(raw, defs)
    label = raw.get("description") or _FIELD_LABELS.get(name) or prop.get("description") or name
    if "properties" in prop:
        return FormField(path, label, "group", required, children=_fields_of(prop, defs, f"{path}."))
    if "enum" in prop or "const" in prop:
        return FormField(path, label, "choice", required, choices=_choices(prop))
    kind = prop.get("type")
    if kind == "array":
        item, _ = _resolve(prop.get("items", {}), defs)
        if "enum" in item:
            return FormField(path, label, "choices", required, choices=_choices(item))
        if "properties" in item:
            if any(_resolve(p, defs)[0].get("type") == "array" for p in item["properties"].values()):
                raise UnsupportedForm(path)
            rows = [_fields_of(item, defs, f"{path}[{i}].") for i in range(ROWS_SHOWN)]
            return FormField(path, label, "rows", required, rows=rows)
        return FormField(path, label, "lines", required, max_length=item.get("maxLength"))
    if kind in ("integer", "number"):
        return FormField(path, label, kind, required, minimum=prop.get("minimum"), maximum=prop.get("maximum"))
    if kind == "boolean":
        return FormField(path, label, "checkbox", required)
    if prop.get("format") == "date":
        return FormField(path, label, "date", required)
    length = prop.get("maxLength")
    return FormField(path, label, "textarea" if (length or 0) > LONG_TEXT else "text", required, max_length=length)


def form_body(fields: list[FormField], posted: FormData) -> dict[str, Any]:
    """The request body the posted form stands for: blanks left out (so the model's default, or
    its `必填`, applies), ticked boxes true, one line per list entry, filled rows only."""
    body: dict[str, Any] = {}
    for f in fields:
        key = f.name.rsplit(".", 1)[-1].split("]")[-1]
        if f.kind == "group":
            body[key] = form_body(f.children, posted)
        elif f.kind == "rows":
            rows = [form_body(row, posted) for row in f.rows]
            body[key] = [row for row in rows if any(v not in ("", None) for v in row.values())]
        elif f.kind == "checkbox":
            body[key] = f.name in posted
        elif f.kind == "choices":
            body[key] = [v for v in posted.getlist(f.name) if isinstance(v, str)]
        elif f.kind == "lines":
            text = posted.get(f.name)
            body[key] = [line.strip() for line in str(text or "").splitlines() if line.strip()]
        else:
            value = posted.get(f.name)
            if isinstance(value, str) and value.strip():
                body[key] = value.strip() if f.kind != "textarea" else value
    return body


_LAST_STEP = re.compile(r"(\[\d+\]|\.[^.\[\]]+)$")


def errors_by_field(fields: list[FormField], errors: list[dict[str, str]]) -> tuple[dict[str, list[str]], list[str]]:
    """Each error beside the field it names, or the nearest drawn one holding it (a list entry's
    beside its list); the rest for the form's top."""
    names = {f.name for f in _all(fields)}
    beside: dict[str, list[str]] = {}
    top: list[str] = []
    for error in errors:
        name = error.get("field", "")
        while name not in names and _LAST_STEP.search(name):
            name = _LAST_STEP.sub("", name)
        if name in names:
            beside.setdefault(name, []).append(error["message"])
        else:
            top.append(error["message"])  # the whole form's (a rule across fields)
    return beside, top


def _all(fields: list[FormField]) -> list[FormField]:
    found = []
    for f in fields:
        found.append(f)
        found.extend(_all(f.children))
        for row in f.rows:
            found.extend(_all(row))
    return found


def posted_values(posted: FormData) -> dict[str, Any]:
    """What was typed, to show again beside the errors (lists for repeated names)."""
    values: dict[str, Any] = {}
    for name in posted:
        many = [v for v in posted.getlist(name) if isinstance(v, str)]
        values[name] = many if len(many) > 1 else (many[0] if many else "")
    return values


def posted_number(posted: FormData, name: str, largest: int) -> int | None:
    """A whole number from 1 to `largest` typed in ASCII digits (a page's field outside the API's
    models: a visit's number, a task's version); None when left empty. Anything else, a "²" or a
    number past its column, is a 422 naming the field, never a 500."""
    value = posted.get(name) or None
    if value is None:
        return None
    text = value if isinstance(value, str) else ""
    number = int(text) if text.isascii() and text.isdigit() and len(text) <= len(str(largest)) else 0
    if not 0 < number <= largest:
        raise invalid(name, f"应为1到{largest}之间的整数")
    return number
