"""What a failed activity tells Temporal (and the worker's log): its error's kind, never its values.

Temporal stores a failed attempt's message and stack trace in the workflow's history, beside
the encrypted payloads (and the SDK logs the exception with its text). A database error's text
can hold the refused value or a failing row (services/db/failures.py), so every activity runs
behind `ActivityFailures`, which replaces whatever escapes it:

- an ApplicationError the code raised on purpose keeps its type, message, details and
  retryability (its message is ours), without the chain of causes behind it;
- a refusal by another workflow's Update (a case refusing a lead) is final: its ApplicationError;
- data PostgreSQL refuses for good becomes a non-retryable `Unrecordable` error, so the
  workflow stops trying and refuses the action (services/workflows/procedure.py);
- anything else (the database or a department away, a bug) stays retryable, named by
  `describe`: its types, SQLSTATE and schema names.
The original stack frames are kept (code lines, no values).
"""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from services.db import failures
from services.workflows.refusals import UNRECORDABLE


def sanitised(error: Exception) -> BaseException:
    if isinstance(error, CancelledError):
        return error  # Temporal's own cancellation: it must stay what it is
    if isinstance(error, WorkflowUpdateFailedError) and isinstance(error.cause, ApplicationError):
        error = error.cause
    if isinstance(error, ApplicationError):
        clean = ApplicationError(
            error.message,
            *error.details,
            type=error.type,
            non_retryable=error.non_retryable,
            next_retry_delay=error.next_retry_delay,
            category=error.category,
        )
    elif failures.incurable(error):
        clean = ApplicationError(
            f"PostgreSQL refused the data: {failures.describe(error)}", type=UNRECORDABLE, non_retryable=True
        )
    else:
        clean = ApplicationError(failures.describe(error), type=type(error).__name__)
    return clean.with_traceback(error.__traceback__)


class _SanitisingInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except Exception as error:
            raise sanitised(error) from None


class ActivityFailures(Interceptor):
    """Worker interceptor: every activity's failure is replaced by `sanitised(error)`."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _SanitisingInbound(next)
