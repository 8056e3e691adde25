"""Whose payloads a decode shows: Temporal's codec protocol names no workflow, so the decoded
payloads themselves say where they belong. Every area or household code in them (under the
keys the service's payloads use) must lie inside the reader's area, or nothing is shown: a
county officer reads their own county's cases, not another county's."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from temporalio.api.common.v1 import Payload

from services.domain.areas import area_contains

_AREA_KEYS = frozenset({"county_code", "township_code", "village_code", "household_code", "area_code"})


def _codes(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in _AREA_KEYS and isinstance(inner, str) and inner.isdigit():
                yield inner
            else:
                yield from _codes(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _codes(inner)


def outside(area_code: str, payloads: Iterable[Payload]) -> bool:
    """Whether any JSON payload names an area or household outside `area_code`."""
    for payload in payloads:
        if payload.metadata.get("encoding") != b"json/plain":
            continue
        try:
            content = json.loads(payload.data)
        except ValueError:
            continue
        if any(not area_contains(area_code, code) for code in _codes(content)):
            return True
    return False
