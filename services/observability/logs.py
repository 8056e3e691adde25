"""Structured logs: one JSON object per line, with the request id of the request, workflow step or
activity that wrote it. The worker calls `use_json_logs()`; the API's uvicorn reads
`services/observability/uvicorn_logging.json`, which uses the same formatter.

Only the record's own message goes out, with a fixed set of context fields: never a record's
arbitrary extras, which could hold a request's data."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from services.observability.request_ids import request_id

# Context the SDKs attach to records (temporalio's `temporal_activity` / `temporal_workflow`):
# ids and types only, which carry no personal data.
_TEMPORAL_CONTEXT = {
    "temporal_activity": ("activity_type", "activity_id", "workflow_id", "workflow_type", "attempt"),
    "temporal_workflow": ("workflow_type", "workflow_id", "run_id"),
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = getattr(record, "request_id", None) or request_id.get()
        if current:
            line["request_id"] = current
        for attribute, keys in _TEMPORAL_CONTEXT.items():
            context = getattr(record, attribute, None)
            if isinstance(context, dict):
                line |= {key: context[key] for key in keys if key in context}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def use_json_logs(level: int = logging.INFO) -> None:
    """The root logger writes JSON lines to stderr (replacing what was configured before)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
