"""An evidence file as the answer: only its sniffed type (JPEG, PNG, PDF), which the browser must
not second-guess (nosniff), in a sandbox without scripts, never kept by a shared cache; a PDF is
saved rather than opened in the page (its viewer could run its scripts)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Response

from services.db.evidence import Evidence
from services.storage.evidence_store import EvidenceStore

SHOWN_INLINE = frozenset({"image/jpeg", "image/png"})


async def evidence_file(store: EvidenceStore, row: Evidence) -> Response:
    disposition = "inline" if row.media_type in SHOWN_INLINE else "attachment"
    return Response(
        await store.get(row.storage_key),
        media_type=row.media_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(row.file_name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
