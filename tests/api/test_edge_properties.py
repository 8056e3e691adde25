"""Property tests of the edge: whatever a later layer cannot store or a person would not mean is
refused with a 422 (or 413) in the documented shape, naming what is wrong, and changes nothing.

The endpoints come from the app's OpenAPI document, so a new endpoint is covered without
editing this file: for every write endpoint, text fields get control characters and broken
characters, numbers get huge and non-finite values, dates impossible years, and the body
deep or huge JSON; for every endpoint, path and query parameters get control characters.
Each example poisons some of the fields at once and expects each of them named in `errors`.
The department endpoints take raw signed bodies (no schema): their bodies are fuzzed as
departments send them, signed.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from services.api.app import app as documented_app
from services.api.request_guards import MAX_BODY_BYTES, MAX_JSON_DEPTH
from services.db.engine import create_engine
from services.demo_case import ADMIN, COUNTY_OFFICER, SECOND_CADRE, VILLAGE_CADRE, CaseDriver
from services.demo_data import DEMO_DEPARTMENT_SECRETS, demo_id_number
from services.department_simulator.client import SimulatorClient
from services.departments.signing import signed_headers
from services.settings import Settings
from tests.applicants import Household, sms_log
from tests.conftest import api_for, new_household_body
from tests.departments.signed import authorised_case

SPEC = documented_app.openapi()
SCHEMAS = SPEC["components"]["schemas"]
WRITE_METHODS = ("post", "put", "patch", "delete")
# Raw-body endpoints (their bodies are signed bytes, read by the route itself) and how they are fuzzed here.
SIGNED_ENDPOINTS = {"/api/v1/early-warnings", "/api/v1/callbacks/cross-checks/{request_id}"}
# File uploads (multipart): their fields (kind, step, visit_no, note with a control character, the file
# by its content and size) are refused field by field in tests/evidence/test_evidence_api.py, and the
# import upload's (kind, mode, screen_year, an unknown field, the file's name and size) in
# tests/screening/test_import_upload.py.
UPLOAD_ENDPOINTS = {
    "/api/v1/cases/{case_id}/evidence",
    "/api/v1/monitoring/{monitoring_id}/evidence",
    "/api/v1/screening/imports/upload",
}
# A handful of examples per endpoint (each one request against the real app), the same on every run.
EXAMPLES = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FEW = settings(EXAMPLES, max_examples=3)

# -- what the document says ------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """A value inside a request body: where it is, and what kind of value the schema wants."""

    path: tuple[str | int, ...]
    kind: str  # text, number, integer, date, datetime
    schema: dict[str, Any] = field(compare=False, hash=False)

    @property
    def field(self) -> str:
        """As the error answer names it (services/api/errors.py)."""
        named = ""
        for part in self.path:
            named += f"[{part}]" if isinstance(part, int) else (f".{part}" if named else part)
        return named


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def leaves(schema: dict[str, Any], path: tuple[str | int, ...] = ()) -> list[Leaf]:
    schema = _resolve(schema)
    if "anyOf" in schema:
        return [leaf for option in schema["anyOf"] if option.get("type") != "null" for leaf in leaves(option, path)]
    if "enum" in schema or "const" in schema:
        return []
    kind = schema.get("type")
    if kind == "object":
        found = [leaf for name, sub in schema.get("properties", {}).items() for leaf in leaves(sub, (*path, name))]
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            names = _resolve(schema.get("propertyNames", {})).get("enum", ["key"])
            found += leaves(extra, (*path, names[0]))
        return found
    if kind == "array":
        return leaves(schema.get("items", {}), (*path, 0))
    if kind == "string":
        return [Leaf(path, {"date": "date", "date-time": "datetime"}.get(schema.get("format", ""), "text"), schema)]
    if kind in ("number", "integer"):
        return [Leaf(path, kind, schema)]
    return []


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    body: dict[str, Any] | None
    parameters: tuple[tuple[str, str], ...]  # (name, in)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def operations() -> list[Operation]:
    found = []
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            parameters = tuple((p["name"], p["in"]) for p in op.get("parameters", []) if p["in"] in ("path", "query"))
            found.append(Operation(method, path, _resolve(body) if body else None, parameters))
    return found


WRITES = [op for op in operations() if op.method in WRITE_METHODS]
FORMS = [op for op in WRITES if op.body is not None]
WITH_PARAMETERS = [op for op in operations() if op.parameters]


def test_the_document_bounds_every_value() -> None:
    """Every number of every request body has both bounds within what PostgreSQL and JSON hold,
    and every text a maximum length: a field added without them fails here."""
    unbounded = []
    for op in FORMS:
        for leaf in leaves(op.body or {}):
            if leaf.kind == "text" and "maxLength" not in leaf.schema:
                unbounded.append(f"{op} {leaf.field}: no maxLength")
            if leaf.kind in ("number", "integer"):
                low = leaf.schema.get("minimum", leaf.schema.get("exclusiveMinimum"))
                high = leaf.schema.get("maximum", leaf.schema.get("exclusiveMaximum"))
                limit = 2**31 - 1 if leaf.kind == "integer" else 1e13
                if low is None or high is None or not (-limit <= low and high <= limit):
                    unbounded.append(f"{op} {leaf.field}: bounds {low}..{high}")
    assert not unbounded, unbounded
    raw = {op.path for op in WRITES if op.body is None and op.path in SIGNED_ENDPOINTS}
    assert raw == SIGNED_ENDPOINTS, "a department endpoint is missing from the document"
    without_body = {op.path for op in WRITES if op.body is None} - SIGNED_ENDPOINTS - UPLOAD_ENDPOINTS
    # Both take no body at all: a withdrawal, and an export (what it holds is what changed).
    assert without_body == {
        "/api/v1/self-service/applications/{application_id}/withdrawal",
        "/api/v1/province/exports",
    }, "a write endpoint without a JSON body schema: say here how its body is fuzzed"


# -- poisons ------------------------------------------------------------------------------

SAFE = st.text(alphabet="张三李四村abc123", min_size=1, max_size=3)
# Characters no text field accepts: C0 and C1 controls (not tab or line breaks, which free text
# keeps), DEL, lone surrogates (a JSON escape decodes to one), noncharacters.
BAD = st.one_of(
    st.characters(categories=["Cc"], exclude_characters="\t\n\r"),
    st.characters(categories=["Cs"]),
    st.sampled_from(["\ufffe", "\uffff"]),
)
BAD_TEXT = st.builds(lambda a, bad, b: a + bad + b, SAFE, BAD, SAFE)
# No parameter holds any control character; a URL carries no surrogate (a server reads the
# bytes it cannot decode as U+FFFD).
BAD_PARAMETER = st.builds(
    lambda a, bad, b: a + bad + b,
    SAFE,
    st.one_of(st.characters(categories=["Cc"]), st.sampled_from(["\ufffe", "\uffff"])),
    SAFE,
)
# Beyond every number field's bounds (at most ±1e13, checked below) and every integer's (int4).
NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf, "NaN", "Infinity", "1e999", "-1e999"])
TOO_BIG = st.one_of(
    NOT_FINITE,
    st.floats(min_value=1e15, max_value=1e308),
    st.floats(min_value=-1e308, max_value=-1e15),
    st.integers(min_value=10**15, max_value=10**40),
    st.integers(min_value=-(10**40), max_value=-(10**15)),
)
TOO_BIG_INTEGER = st.one_of(
    NOT_FINITE,
    st.integers(min_value=2**31, max_value=10**40),
    st.integers(min_value=-(10**40), max_value=-(2**31)),
)
FAR_DAYS = st.one_of(st.dates(max_value=date(1999, 12, 31)), st.dates(min_value=date(2101, 1, 1)))


def poison(kind: str) -> st.SearchStrategy[Any]:
    if kind == "text":
        return BAD_TEXT
    if kind == "number":
        return TOO_BIG
    if kind == "integer":
        return TOO_BIG_INTEGER
    if kind == "date":
        return FAR_DAYS.map(date.isoformat)
    return FAR_DAYS.map(lambda d: datetime.combine(d, time(10), datetime.now().astimezone().tzinfo).isoformat())


def placed(body: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """`body` with `value` at `path`, building objects and lists on the way."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = body if isinstance(body, list) else []
        return [placed(items[0] if items else None, rest, value), *items[1:]]
    mapping = body if isinstance(body, dict) else {}
    return {**mapping, head: placed(mapping.get(head), rest, value)}


def encoded(body: Any) -> bytes:
    """JSON as a careless client sends it: NaN and Infinity literals, surrogates escaped."""
    return json.dumps(body, ensure_ascii=True, allow_nan=True).encode()


# -- the world the requests aim at --------------------------------------------------------


@dataclass
class World:
    driver: CaseDriver
    applicant: Household
    engine: AsyncEngine
    case_id: str
    task_id: int
    household: str
    request_id: str  # a department request that awaits its result (vehicles, silent)

    def url(self, op: Operation, **values: str) -> str:
        targets = {
            "case_id": self.case_id,
            "task_id": str(self.task_id),
            "username": SECOND_CADRE,
            "kind": "vehicles",
            "code": self.household,
            "village_code": "610824100201",
            "request_id": self.request_id,
            "application_id": "not-an-application",
            "monitoring_id": "m-none",
        }
        path = op.path
        for name in re.findall(r"{(\w+)}", path):
            path = path.replace(f"{{{name}}}", quote(values.get(name, targets.get(name, "1")), safe=""))
        return "http://api.test" + path

    async def headers(self, op: Operation) -> dict[str, str]:
        if op.path.startswith("/api/v1/self-service/"):
            return self.applicant.headers
        admin = op.path.startswith(("/api/v1/accounts", "/api/v1/policies", "/api/v1/departments"))
        return await self.driver.headers(ADMIN if admin else VILLAGE_CADRE)

    async def send(
        self, op: Operation, content: bytes | None = None, query: dict[str, str] | None = None, **path: str
    ) -> httpx.Response:
        headers = await self.headers(op) | {"Content-Type": "application/json"}
        return await self.driver.http.request(
            op.method.upper(), self.url(op, **path), content=content, params=query, headers=headers
        )

    async def snapshot(self) -> tuple[Any, ...]:
        """What a refused request must leave as it was: what the test's people did (their audit
        entries), every registry a write endpoint adds to, and the records the requests aim at."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text("""
                SELECT (SELECT count(*) FROM audit_entries WHERE actor_username = ANY(:people)),
                       (SELECT count(*) FROM households), (SELECT count(*) FROM accounts),
                       (SELECT max(version) FROM policy_versions), (SELECT count(*) FROM self_reports),
                       (SELECT max(updated_at) FROM departments),
                       (SELECT last_seq FROM case_records WHERE case_id = :case_id),
                       (SELECT version FROM tasks WHERE id = :task_id),
                       (SELECT updated_at FROM accounts WHERE username = :account),
                       (SELECT count(*) FROM cross_check_callbacks WHERE request_id = :request_id)
            """),
                    {
                        "people": [VILLAGE_CADRE, ADMIN, COUNTY_OFFICER, SECOND_CADRE],
                        "case_id": self.case_id,
                        "task_id": self.task_id,
                        "account": SECOND_CADRE,
                        "request_id": self.request_id,
                    },
                )
            ).one()
        return tuple(row)


@pytest_asyncio.fixture(scope="module")
async def world(
    driver: CaseDriver, settings: Settings, temporal: WorkflowEnvironment, simulator: SimulatorClient
) -> AsyncIterator[World]:
    case = await driver.open_case(await _household(driver))
    engine = create_engine(settings.require_database_url(), pool_size=1)
    async with engine.connect() as conn:
        task_id = (
            await conn.execute(
                text("SELECT id FROM tasks WHERE case_id = :c AND closed_at IS NULL"), {"c": case["case_id"]}
            )
        ).scalar_one()
    await simulator.behave("vehicles", silent=True)
    waiting = await authorised_case(driver, await _household(driver))
    try:
        with sms_log() as sms:
            async with api_for(settings, temporal.client, client_address="127.0.8.1") as mini:
                applicant = await Household(mini.http, sms).sign_in()
                yield World(
                    driver,
                    applicant,
                    engine,
                    case["case_id"],
                    task_id,
                    case["household_code"],
                    waiting["cross_check"]["requests"]["vehicles"]["request_id"],
                )
    finally:
        await simulator.behave("vehicles")
        await engine.dispose()


async def _household(driver: CaseDriver) -> str:
    answer = await driver.post(VILLAGE_CADRE, "/api/v1/households", new_household_body())
    assert answer.status_code == 201, answer.text
    return answer.json()["code"]


def assert_documented_refusal(answer: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, dict) and detail["code"] and detail["message"], detail
    if status == 422:
        assert detail["code"] == "invalid" and all(e["field"] and e["message"] for e in detail["errors"]), detail
    return detail


def named(detail: dict[str, Any]) -> set[str]:
    return {e["field"] for e in detail["errors"]}


# -- forms, parameters, bodies --------------------------------------------------------------


@pytest.mark.parametrize("op", FORMS, ids=str)
@EXAMPLES
@given(data=st.data())
async def test_every_form_refuses_what_cannot_be_kept(op: Operation, world: World, data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.sampled_from(leaves(op.body or {})), min_size=1, max_size=6, unique=True))
    body: Any = {}
    for leaf in chosen:
        body = placed(body, leaf.path, data.draw(poison(leaf.kind), label=leaf.field))
    before = await world.snapshot()
    detail = assert_documented_refusal(await world.send(op, encoded(body)))
    assert {leaf.field for leaf in chosen} <= named(detail), (body, detail)
    assert await world.snapshot() == before


@pytest.mark.parametrize("op", WITH_PARAMETERS, ids=str)
@EXAMPLES
@given(data=st.data())
async def test_every_parameter_refuses_control_characters(op: Operation, world: World, data: st.DataObject) -> None:
    name, where = data.draw(st.sampled_from(op.parameters))
    value = data.draw(BAD_PARAMETER, label=name)
    before = await world.snapshot()
    body = b"{}" if op.method in WRITE_METHODS else None
    answer = await (world.send(op, body, **{name: value}) if where == "path" else world.send(op, body, {name: value}))
    assert name in named(assert_documented_refusal(answer))
    assert await world.snapshot() == before


@pytest.mark.parametrize("op", WRITES, ids=str)
@FEW
@given(depth=st.integers(min_value=MAX_JSON_DEPTH + 1, max_value=100_000), opener=st.sampled_from("[{"))
async def test_every_write_refuses_deep_bodies(op: Operation, world: World, depth: int, opener: str) -> None:
    deep = "[" * depth + "]" * depth if opener == "[" else '{"a":' * depth + "1" + "}" * depth
    before = await world.snapshot()
    assert "嵌套" in assert_documented_refusal(await world.send(op, deep.encode()))["message"]
    assert await world.snapshot() == before


@pytest.mark.parametrize("op", WRITES, ids=str)
async def test_every_write_refuses_huge_bodies(op: Operation, world: World) -> None:
    before = await world.snapshot()
    assert_documented_refusal(await world.send(op, b'{"notes": "' + b"x" * MAX_BODY_BYTES + b'"}'), 413)
    assert await world.snapshot() == before


# -- what departments send, signed ------------------------------------------------------------


def _warning(warning_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "warning_id": warning_id,
        "id_number": demo_id_number("110101", date(1950, 1, 1), 7, True),
        "kind": "medical_expense",
        "amount": 28000.0,
        "occurred_on": "2026-11-20",
        "detail": "住院自付费用",
    } | fields


# Each bad warning as (what is wrong with it, the field its reason names).
BAD_WARNINGS = st.one_of(
    BAD_TEXT.map(lambda t: ({"detail": t}, "detail")),
    BAD_TEXT.map(lambda t: ({"warning_id": t}, "warning_id")),
    TOO_BIG.map(lambda n: ({"amount": n}, "amount")),
    FAR_DAYS.map(lambda d: ({"occurred_on": d.isoformat()}, "occurred_on")),
    BAD_TEXT.map(lambda t: ({t: 1}, "")),  # an unknown field, its name poisoned
)


@EXAMPLES
@given(bad=st.lists(BAD_WARNINGS, min_size=1, max_size=4))
async def test_each_bad_warning_is_refused_on_its_own(
    world: World, settings: Settings, bad: list[tuple[dict[str, Any], str]]
) -> None:
    """INTERFACES.md §3: every malformed warning gets its own `invalid` outcome with a reason naming
    what is wrong; the good one beside them gets its own outcome; each is kept as far as it can be stored."""
    tag = uuid.uuid4().hex[:12]
    warnings = [_warning(f"{tag}-good")] + [_warning(f"{tag}-{i}") | fields for i, (fields, _) in enumerate(bad)]
    raw = encoded({"department": "medical_insurance", "warnings": warnings})
    answer = await world.driver.http.post(
        f"{settings.public_base_url}/api/v1/early-warnings",
        content=raw,
        headers=signed_headers(DEMO_DEPARTMENT_SECRETS["medical_insurance"], raw),
    )
    assert answer.status_code == 200, answer.text
    outcomes = answer.json()["outcomes"]
    assert outcomes[0]["outcome"] == "unknown_person", outcomes
    for outcome, (_, bad_field) in zip(outcomes[1:], bad, strict=True):
        assert outcome["outcome"] == "invalid" and bad_field in outcome["reason"], outcome
    async with world.engine.connect() as conn:
        kept = (
            await conn.execute(text("SELECT count(*) FROM early_warnings WHERE warning_id LIKE :t"), {"t": f"{tag}-%"})
        ).scalar()
    assert kept == len(warnings) - sum(1 for fields, _ in bad if "warning_id" in fields)


MATCHES = st.one_of(
    BAD_TEXT.map(lambda t: ({"kind": "vehicle", "description": t, "value": 1}, "description")),
    BAD_TEXT.map(lambda t: ({"kind": t, "description": "小型轿车", "value": 1}, "kind")),
    TOO_BIG.map(lambda n: ({"kind": "vehicle", "description": "小型轿车", "value": n}, "value")),
)


@EXAMPLES
@given(match=MATCHES)
async def test_a_bad_cross_check_result_is_refused(
    world: World, settings: Settings, match: tuple[dict[str, Any], str]
) -> None:
    """INTERFACES.md §2: 422 naming the field, nothing stored, the request still awaits its result."""
    found, field = match
    body = {
        "request_id": world.request_id,
        "department": "vehicles",
        "status": "completed",
        "completed_at": "2026-12-01T10:00:00+08:00",
        "findings": [{"id_number": demo_id_number("610824", date(1960, 1, 1), 3, True), "matches": [found]}],
    }
    raw = encoded(body)
    before = await world.snapshot()
    answer = await world.driver.http.post(
        f"{settings.public_base_url}/api/v1/callbacks/cross-checks/{world.request_id}",
        content=raw,
        headers=signed_headers(DEMO_DEPARTMENT_SECRETS["vehicles"], raw),
    )
    assert f"findings[0].matches[0].{field}" in named(assert_documented_refusal(answer))
    assert await world.snapshot() == before
