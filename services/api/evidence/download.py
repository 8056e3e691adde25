"""An evidence file as the answer, streamed from the store: only its sniffed type (JPEG, PNG, PDF),
which the browser must not second-guess (nosniff), in a sandbox without scripts, never kept by a
shared cache; a PDF is saved rather than opened in the page (its viewer could run its scripts)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from services.api.evidence.storage_errors import DOWNLOAD_LATER, file_missing, storage_unavailable
from services.db.evidence import Evidence
from services.storage.evidence_store import EvidenceStore
from services.storage.stored import EvidenceFileMissing, EvidenceStorageUnavailable

SHOWN_INLINE = frozenset({"image/jpeg", "image/png"})


async def evidence_file(store: EvidenceStore, row: Evidence) -> Response:
    try:
        stored = await store.open(row.storage_key)
    except EvidenceFileMissing as error:
        raise file_missing(error) from error
    except EvidenceStorageUnavailable as error:
        raise storage_unavailable(error, DOWNLOAD_LATER) from error
    disposition = "inline" if row.media_type in SHOWN_INLINE else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(row.file_name)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    }
    if stored.size >= 0:
        headers["Content-Length"] = str(stored.size)
    # The file closes when the last chunk is sent, or after the answer if the reader went away.
    return StreamingResponse(
        stored.chunks, media_type=row.media_type, headers=headers, background=BackgroundTask(stored.close)
    )
