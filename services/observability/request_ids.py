"""The request id: one per API request (the caller's `X-Request-ID`, or a new one), carried in a
context variable so every log line of the request, and of the workflow steps and activities it
causes (services/observability/temporal_headers.py), names it."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from services.domain.personal_data import redact_personal_numbers

HEADER = "X-Request-ID"

# A caller's id is kept only if it cannot carry anything but an id (no log injection): letters,
# digits and a few separators, as proxies and load balancers make them; and nothing shaped like
# an ID number or a phone number, which would then be in every log line of the request.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,64}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def accepted_or_new(offered: str | None) -> str:
    if offered is not None and _ACCEPTABLE.fullmatch(offered) and redact_personal_numbers(offered) == offered:
        return offered
    return uuid.uuid4().hex
