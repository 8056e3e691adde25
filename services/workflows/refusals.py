"""How workflows refuse an update or an activity's request: a typed, non-retryable error whose
type the API maps to an HTTP answer (services/api/workflow_updates.py). The one refusal helper of
every workflow (identification, monitoring, self-report) and of their shared procedure.

Refusal types: WrongStep → 409, AlreadyRecorded → 409, NotOverdue → 409, NotEligible → 409,
Forbidden → 403, NotFound → 404, Invalid → 422; any other type (self-report's Duplicate,
Unavailable) is answered by its own caller.
"""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError


def refuse(kind: str, message: str, **details: Any) -> ApplicationError:
    return ApplicationError(message, details, type=kind, non_retryable=True)
