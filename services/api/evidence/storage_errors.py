"""The evidence store's failures as answers a cadre can act on; what failed goes to the log."""

from __future__ import annotations

import logging

from services.api.errors import RETRY_AFTER_SECONDS, ApiError

log = logging.getLogger(__name__)


UPLOAD_NOT_KEPT = "证明材料存储暂时不可用，文件未保存，请稍后重新上传"
DOWNLOAD_LATER = "证明材料存储暂时不可用，文件仍在，请稍后再下载"


def storage_unavailable(error: Exception, message: str) -> ApiError:
    log.error("evidence store unavailable: %s", error)
    refusal = ApiError(503, "evidence_storage_unavailable", message)
    refusal.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return refusal


def file_missing(error: Exception) -> ApiError:
    log.error("evidence file missing from the store: %s", error)
    return ApiError(
        404,
        "evidence_file_missing",
        "该证明材料的文件在存储中找不到（可能已被删除），请联系县级管理员从备份恢复，或重新上传",
    )
