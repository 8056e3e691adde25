"""The exchange file format with the province's monitoring platform (docs/province-exchange.md).

An export batch is a JSON Lines file, UTF-8 without BOM, one object per line, LF endings:
a header line, one line per record, a trailer line with the count and the SHA-256 of every
line before it. The platform answers with an acknowledgement naming the batch and that
checksum. What it sends us (its warnings, its roster of monitoring targets) is one JSON
document each, described by the models below."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.domain.form_fields import FormDate, Text
from services.domain.personal_data import IdNumber

FORMAT = "fpfp-province-exchange"
VERSION = 1
# Warnings in one list: each opens or joins its case while the request waits (about 0.2 s each here).
MAX_WARNINGS = 200


class RecordKind(StrEnum):
    household = "household"
    member = "member"
    monitoring = "monitoring"  # category and risks of one monitoring period
    measure = "measure"
    visit = "visit"
    status_change = "status_change"


@dataclass(frozen=True)
class ExchangeRecord:
    """One record: its data as JSON text, and a hash of that text (equal content, equal hash).
    PostgreSQL writes both for the bulky kinds (its jsonb text), `record` below for the others."""

    kind: RecordKind
    key: str
    data_json: str
    content_hash: str


def record(kind: RecordKind, key: str, data: dict[str, Any]) -> ExchangeRecord:
    data_json = _line(data)
    return ExchangeRecord(kind, key, data_json.decode(), hashlib.sha256(data_json).hexdigest())


def _line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def batch_file(
    county_code: str, batch_no: int, created_at: datetime, records: Sequence[ExchangeRecord]
) -> tuple[bytes, str]:
    """The batch's bytes and their checksum (the SHA-256 of every line before the trailer)."""
    header = {
        "format": FORMAT,
        "version": VERSION,
        "county_code": county_code,
        "batch_no": batch_no,
        "created_at": created_at.isoformat(),
        "record_count": len(records),
    }
    # The data is spliced in as the JSON text it already is: a batch of a million records is not parsed again.
    lines = [_line(header)] + [
        _line({"seq": seq, "kind": r.kind, "key": r.key, "op": "upsert"})[:-1] + f',"data":{r.data_json}}}'.encode()
        for seq, r in enumerate(records, start=1)
    ]
    body = b"".join(line + b"\n" for line in lines)
    checksum = hashlib.sha256(body).hexdigest()
    trailer = _line({"end": True, "batch_no": batch_no, "record_count": len(records), "sha256": checksum})
    return body + trailer + b"\n", checksum


def batch_file_name(county_code: str, batch_no: int) -> str:
    return f"{county_code}-{batch_no:06d}.jsonl"


class _Incoming(BaseModel):
    model_config = ConfigDict(extra="forbid")


PlatformId = Annotated[str, Text(100, min_length=1)]
HouseholdCode = Annotated[str, Text(20, min_length=1)]


class Acknowledgement(_Incoming):
    """The platform's receipt of one batch."""

    batch_no: int = Field(ge=1, le=2_147_483_647, description="批次号")
    sha256: Annotated[str, Text(64, min_length=64)] = Field(description="批次文件校验值（文件尾行的 sha256）")
    record_count: int = Field(ge=0, le=10_000_000, description="平台接收的记录数")
    receipt_id: PlatformId = Field(description="平台回执编号")
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"batch_no": 1, "sha256": "0" * 64, "record_count": 120, "receipt_id": "SX-20261204-0001"}]
        }
    )


class PlatformWarning(_Incoming):
    warning_id: PlatformId = Field(description="平台预警编号（同一县内唯一）")
    household_code: HouseholdCode | None = Field(default=None, description="户编码（与身份证号至少填一项）")
    id_number: IdNumber | None = Field(default=None, description="家庭成员身份证号")
    reason: Annotated[str, Text(500, min_length=1)] = Field(description="预警原因")
    issued_on: FormDate = Field(description="预警日期")

    @model_validator(mode="after")
    def _names_a_household(self) -> PlatformWarning:
        if not (self.household_code or self.id_number):
            raise ValueError("户编码与身份证号至少填写一项")
        return self


class WarningList(_Incoming):
    """平台监测分析预警名单."""

    county_code: Annotated[str, Text(12, min_length=12)] = Field(description="县级区划代码")
    list_id: PlatformId = Field(description="名单编号")
    warnings: list[PlatformWarning] = Field(min_length=1, max_length=MAX_WARNINGS)
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "county_code": "610824000000",
                    "list_id": "SX-YJ-202612-01",
                    "warnings": [
                        {
                            "warning_id": "SX-YJ-202612-01-0001",
                            "household_code": "610824100201000003",
                            "reason": "家庭年人均纯收入下降超过30%",
                            "issued_on": "2026-12-01",
                        }
                    ],
                }
            ]
        }
    )


class PlatformStatus(StrEnum):
    risk_not_eliminated = "risk_not_eliminated"
    risk_eliminated = "risk_eliminated"


class RosterEntry(_Incoming):
    household_code: HouseholdCode = Field(description="户编码")
    head_name: Annotated[str, Text(50, min_length=1)] = Field(description="户主姓名")
    status: PlatformStatus = Field(description="平台上的监测状态")


class Roster(_Incoming):
    """平台监测对象名单: every monitoring target the platform holds for the county."""

    county_code: Annotated[str, Text(12, min_length=12)] = Field(description="县级区划代码")
    roster_id: PlatformId = Field(description="名单编号")
    as_of: FormDate = Field(description="名单截止日期")
    households: list[RosterEntry] = Field(max_length=50_000)  # the 4 MB body limit holds about 40,000
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "county_code": "610824000000",
                    "roster_id": "SX-MD-20261201",
                    "as_of": "2026-12-01",
                    "households": [
                        {"household_code": "610824100201000003", "head_name": "张三", "status": "risk_not_eliminated"}
                    ],
                }
            ]
        }
    )
