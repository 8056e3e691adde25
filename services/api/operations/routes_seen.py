"""The route template a request matched (`/api/v1/cases/{case_id}`), for metric labels and span
names: bounded in number and free of the values in paths."""

from __future__ import annotations

from starlette.routing import BaseRoute
from starlette.types import Scope

UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None) if isinstance(route, BaseRoute) else None
    return path or UNMATCHED
