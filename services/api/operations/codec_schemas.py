"""The codec server's bodies, as the Temporal UI and CLI send and expect them: the JSON form of
`temporal.api.common.v1.Payloads` (bytes as base64)."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from temporalio.api.common.v1 import Payload

# Base64 text, bounded by the body limit (services/api/request_guards.py: 4 MB).
Base64 = Annotated[str, Field(max_length=4_000_000, pattern=r"^[A-Za-z0-9+/_-]*={0,2}$")]
MetadataKey = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]

_ENCRYPTED: dict[str, Any] = {
    "metadata": {
        "encoding": base64.b64encode(b"binary/encrypted-aesgcm").decode(),
        "encryption-key-id": base64.b64encode(b"v1").decode(),
    },
    "data": "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
}


class CodecPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    metadata: dict[MetadataKey, Base64] = Field(default_factory=dict, max_length=20)
    data: Base64 = ""

    def to_payload(self) -> Payload:
        return Payload(
            metadata={key: base64.b64decode(value) for key, value in self.metadata.items()},
            data=base64.b64decode(self.data),
        )

    @classmethod
    def of(cls, payload: Payload) -> CodecPayload:
        return cls(
            metadata={key: base64.b64encode(value).decode() for key, value in payload.metadata.items()},
            data=base64.b64encode(payload.data).decode(),
        )


class CodecPayloads(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"payloads": [_ENCRYPTED]}]})

    payloads: list[CodecPayload] = Field(max_length=1000)
