"""How workflows refuse an update or an activity's request: a typed, non-retryable error whose
type the API maps to an HTTP answer (services/api/workflow_updates.py). The one refusal helper of
every workflow (identification, monitoring, self-report) and of their shared procedure.

Refusal types: WrongStep → 409, AlreadyRecorded → 409, NotOverdue → 409, NotEligible → 409,
Forbidden → 403, NotFound → 404, Invalid → 422, Unrecordable → 422 (PostgreSQL refused what the
action carried: the action changed nothing); any other type (self-report's Duplicate,
Unavailable) is answered by its own caller.
"""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError

# The type of the non-retryable error a record activity raises when PostgreSQL refuses its data for
# good (services/workers/activity_failures.py), and of the refusal a workflow answers it with.
UNRECORDABLE = "Unrecordable"
UNRECORDABLE_MESSAGE = "提交的内容中有系统无法保存的字符或数值，本次操作未生效，请检查后重新填写"


def refuse(kind: str, message: str, **details: Any) -> ApplicationError:
    return ApplicationError(message, details, type=kind, non_retryable=True)


def refuse_unrecordable() -> ApplicationError:
    return refuse(UNRECORDABLE, UNRECORDABLE_MESSAGE)
