"""The OpenAPI document describes what every endpoint answers and shows an example of every body.

A client generated from the document gets a typed answer for each success (no `{}` or bare
object), and a cadre reading the docs sees a filled-in form for each request body; each
example is a valid body, checked against the body's own model."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from services.api.app import app
from services.api.errors import ErrorAnswer, FieldProblem, validation_errors

SPEC = app.openapi()
SCHEMAS = SPEC["components"]["schemas"]


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in SPEC["paths"].items() for method, op in ops.items()]


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _is_typed(schema: dict[str, Any] | None) -> bool:
    """A schema a client can generate a type from: an object with its properties, a list of such, or text."""
    if schema is None:
        return False
    schema = _resolved(schema)
    if schema.get("type") == "array":
        return _is_typed(schema.get("items"))
    if schema.get("type") == "string":
        return True
    return bool(schema.get("properties")) and not schema.get("additionalProperties")


def _success_schemas(op: dict[str, Any]) -> list[dict[str, Any] | None]:
    return [
        media.get("schema")
        for status, answer in op["responses"].items()
        if status.startswith("2")
        for media in (answer.get("content") or {"none": {}}).values()
    ]


def test_every_success_answer_is_typed() -> None:
    untyped = {
        (method, path)
        for method, path, op in _operations()
        if not all(_is_typed(schema) for schema in _success_schemas(op))
    }
    assert untyped == set(), "endpoints answering an untyped object"


def test_the_typing_check_refuses_untyped_answers() -> None:
    assert not _is_typed({})
    assert not _is_typed({"type": "object", "additionalProperties": True})
    assert not _is_typed({"type": "array", "items": {"type": "object", "additionalProperties": True}})
    assert _is_typed({"$ref": "#/components/schemas/CaseView"})


def _body_examples(op: dict[str, Any]) -> list[Any]:
    # A JSON body, or a file upload (multipart: the evidence endpoints).
    content = op["requestBody"]["content"]
    media = content.get("application/json") or content["multipart/form-data"]
    schema = _resolved(media["schema"])
    return [*schema.get("examples", []), *media.get("examples", {}).values()]


def test_every_request_body_has_an_example() -> None:
    bare = {(method, path) for method, path, op in _operations() if "requestBody" in op and not _body_examples(op)}
    assert bare == set(), "request bodies without an example"


def _models_named(name: str) -> list[type[BaseModel]]:
    def every(cls: type[BaseModel]) -> list[type[BaseModel]]:
        return [cls, *(m for sub in cls.__subclasses__() for m in every(sub))]

    return list({m for m in every(BaseModel) if m.__name__ == name})


_BODY_MODELS = sorted(
    {
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        for method, path, op in _operations()
        if "application/json" in op.get("requestBody", {}).get("content", {})
    }
)


@pytest.mark.parametrize("name", _BODY_MODELS)
def test_every_example_is_a_valid_body(name: str) -> None:
    (model,) = _models_named(name)
    examples = model.model_json_schema()["examples"]
    for example in examples:
        model.model_validate(example)


def test_every_operation_documents_the_refusal_shape() -> None:
    undocumented = {
        (method, path)
        for method, path, op in _operations()
        if op["responses"].get("422", {}).get("content", {}).get("application/json", {}).get("schema")
        != {"$ref": "#/components/schemas/ErrorAnswer"}
    }
    assert undocumented == set()


def test_a_refusal_has_the_documented_shape() -> None:
    refusal = validation_errors(
        [{"type": "missing", "loc": ("body", "members", 0, "id_number"), "msg": "Field required"}]
    )
    answer = ErrorAnswer.model_validate_json(bytes(refusal.body))
    assert answer.detail.code == "invalid"
    assert answer.detail.errors == [FieldProblem(field="members[0].id_number", message="必填")]
