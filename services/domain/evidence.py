"""证明材料: what a piece of evidence proves, and what kind of file it is, read from its bytes.

Only JPEG, PNG and PDF are kept: what a phone camera or a scanner makes, and nothing a browser
would run. The type comes from the file's first bytes (its magic number), never from the name or
the type the client declares, so a page renamed `.jpg` is refused."""

from __future__ import annotations

from enum import StrEnum


class EvidenceKind(StrEnum):
    commitment = "commitment"  # 承诺授权书 (signed)
    review_minutes = "review_minutes"  # 民主评议会议记录
    notice_photo = "notice_photo"  # 公示张贴照片
    visit_photo = "visit_photo"  # 走访照片
    other = "other"


EVIDENCE_KIND_LABELS = {
    EvidenceKind.commitment: "承诺授权书",
    EvidenceKind.review_minutes: "评议会议记录",
    EvidenceKind.notice_photo: "公示张贴照片",
    EvidenceKind.visit_photo: "走访照片",
    EvidenceKind.other: "其他材料",
}

NOTE_LENGTH = 200  # the note beside a file

# Magic numbers → (media type, file extension).
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
)
ALLOWED_TYPES = "JPEG、PNG 图片或 PDF 文件"


def sniffed_type(head: bytes) -> tuple[str, str] | None:
    """The (media type, extension) the bytes start with, or None for anything else."""
    for magic, media_type, extension in _SIGNATURES:
        if head.startswith(magic):
            return media_type, extension
    return None
