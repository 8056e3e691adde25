"""How workflows refuse an update or an activity's request: a typed, non-retryable error whose
type the API maps to an HTTP answer (services/api/case_commands.py)."""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError


def refuse(kind: str, message: str, **details: Any) -> ApplicationError:
    return ApplicationError(message, details, type=kind, non_retryable=True)
