"""What the evidence endpoints answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.domain.evidence import EvidenceKind


class EvidenceView(BaseModel):
    evidence_id: str
    household_code: str
    kind: EvidenceKind
    kind_label: str
    case_id: str | None = Field(description="所证明的识别案件")
    step: str | None = Field(description="所证明的环节（案件）")
    step_label: str | None
    monitoring_id: str | None = Field(description="所证明的监测期")
    visit_no: int | None = Field(description="所证明的走访（监测期内的序号）")
    note: str
    file_name: str
    media_type: str = Field(description="按文件内容识别：image/jpeg、image/png 或 application/pdf")
    size_bytes: int
    uploaded_by: str
    uploaded_at: datetime
    download_url: str = Field(description="下载地址（同样只限能查看该案件的人员）")


class EvidenceList(BaseModel):
    items: list[EvidenceView]
