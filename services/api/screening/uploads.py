"""An import file uploaded as multipart/form-data: parsed only after the caller's role is checked,
the file spooled to a temporary file as it arrives (Starlette keeps 1 MB in memory, the rest on
disk), then hashed and stored part by part: memory stays flat whatever the file's size."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from services.api.errors import invalid
from services.api.request_guards import size_text
from services.api.screening.imports import PART_BYTES
from services.api.screening.schemas import ImportAbout
from services.domain.screening.import_rows import ImportKind, ImportMode

FIELDS = ("kind", "mode", "screen_year")
# The request body as the OpenAPI document describes it (the route reads the form itself).
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["kind", "mode", "file"],
                    "properties": {
                        "kind": {"type": "string", "enum": [k.value for k in ImportKind]},
                        "mode": {"type": "string", "enum": [m.value for m in ImportMode]},
                        "screen_year": {"type": "integer", "minimum": 2000, "maximum": 2100},
                        "file": {"type": "string", "format": "binary", "description": ".csv 或 .xlsx 文件"},
                    },
                    "additionalProperties": False,
                },
                "examples": {
                    "收入": {
                        "value": {"kind": "incomes", "mode": "row_by_row", "screen_year": 2026, "file": "(收入.csv)"}
                    }
                },
            }
        },
    }
}


async def read_upload(request: Request, max_bytes: int) -> tuple[ImportAbout, UploadFile]:
    """The upload's fields checked (422 naming the field, as for a JSON body) and its file; the
    caller closes the request (its temporary file goes)."""
    try:
        form: FormData = await request.form(max_files=1, max_fields=len(FIELDS), max_part_size=1024)
    except HTTPException:  # Starlette's answer to a broken multipart body
        raise invalid("请求", "上传内容不是有效的 multipart/form-data") from None
    names = set(form.keys())
    if unknown := names - {*FIELDS, "file"}:
        raise invalid(sorted(unknown)[0], "不认识的字段，请删除")
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise invalid("file", "请选择要导入的文件（.csv 或 .xlsx）")
    if file.size is not None and file.size > max_bytes:
        raise invalid("file", f"文件不能超过{size_text(max_bytes)}")
    values: dict[str, Any] = {name: form.get(name) for name in FIELDS if form.get(name) not in (None, "")}
    try:
        about = ImportAbout.model_validate({**values, "file_name": file.filename or ""})
    except ValidationError as error:
        # The file's name is the file part's: a problem with it names the field `file`.
        errors = [{**e, "loc": ("body", "file" if e["loc"] == ("file_name",) else e["loc"][0])} for e in error.errors()]
        raise RequestValidationError(errors) from None
    return about, file


async def file_digest(file: UploadFile) -> str:
    digest = hashlib.sha256()
    async for chunk in file_parts(file):
        digest.update(chunk)
    return digest.hexdigest()


async def file_parts(file: UploadFile) -> AsyncIterator[bytes]:
    await file.seek(0)
    while chunk := await file.read(PART_BYTES):
        yield chunk
