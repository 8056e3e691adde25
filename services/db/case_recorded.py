"""The notification that a case's event was written to the read model: the record activity sends it
(services/workers/identification/records.py), the API's waiting requests hear it
(services/api/case_changes.py). Sent at commit, its payload the case id (nothing personal)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.functions import Function

CHANNEL = "case_recorded"


def notify(case_id: Any) -> Function[Any]:
    """The SQL expression that sends the notification for `case_id` (a value or a column)."""
    return func.pg_notify(CHANNEL, case_id)
