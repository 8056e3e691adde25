"""The notification that a case's event was written to the read model: the record activity sends it
(services/workers/identification/records.py), the API's waiting requests hear it
(services/api/case_changes.py). Sent at commit. Its payload names the case, its `seq` and its step
(nothing personal), so a request waiting for the case to leave its step need not read the case at
every event of the step (a cross-check brings ten)."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from sqlalchemy import Text, cast, func
from sqlalchemy.sql.functions import Function

CHANNEL = "case_recorded"


class Announced(NamedTuple):
    """What a notification says of the case as of the event it announces."""

    seq: int
    step: str


def notify(case_id: Any, seq: Any, step: Any) -> Function[Any]:
    """The SQL expression that sends the notification (each argument a value or a column)."""
    payload = func.json_build_object("case_id", case_id, "seq", seq, "step", step)
    return func.pg_notify(CHANNEL, cast(payload, Text))


def heard(payload: str) -> tuple[str, Announced | None]:
    """A notification's case id and what it says of the case; a bare case id (as sent before the
    seq and step were) says only which case changed."""
    try:
        said = json.loads(payload)
        return str(said["case_id"]), Announced(int(said["seq"]), str(said["step"]))
    except (ValueError, TypeError, KeyError, OverflowError):  # not ours: a seq of 1e400 is an infinity
        return payload, None
