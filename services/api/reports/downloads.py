"""How a download is answered and documented: an Excel workbook streamed as it is written, a
refusal in the one JSON error shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from fastapi.responses import StreamingResponse

from services.api.errors import ERROR_RESPONSES, ERROR_SCHEMA

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A refusal is JSON, like everywhere else, though the answer is a file or a page.
JSON_REFUSAL = {
    "description": ERROR_RESPONSES[422]["description"],
    "content": {"application/json": {"schema": ERROR_SCHEMA}},
}
XLSX_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Excel 工作簿（.xlsx）",
        "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
    },
    422: JSON_REFUSAL,
}


def workbook_answer(chunks: AsyncIterator[bytes], filename: str) -> StreamingResponse:
    return StreamingResponse(
        chunks, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"}
    )
