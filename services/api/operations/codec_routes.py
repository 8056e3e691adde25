"""The codec server for the Temporal UI and CLI (Temporal's "codec server" protocol): payloads
in, payloads out, through the service's own encryption codec (services/temporal_client.py), so
that a county officer can read a case's inputs and results in the Temporal UI.

Only county officers (县乡村振兴局), of the county the payloads belong to (codec_areas.py): the
payloads hold ID numbers, whole, of the county's households; every decode is audited. The UI calls from the browser, so these paths answer CORS
for the configured UI origin only (CODEC_CORS_ORIGIN; services/api/operations/codec_cors.py).

    temporal workflow show -w identification-… --codec-endpoint http://127.0.0.1:8000/codec \
        --codec-auth "Bearer $COUNTY"
"""

from __future__ import annotations

import base64
import binascii
import zlib

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload

from services.api.access import require_role
from services.api.deps import CurrentAccount, Resources, SessionDep
from services.api.errors import forbidden, invalid
from services.api.operations.codec_areas import outside
from services.api.operations.codec_schemas import CodecPayload, CodecPayloads
from services.db.audit import append_audit
from services.domain.vocabulary import Role
from services.temporal_client import EncryptionCodec

router = APIRouter(prefix="/codec", tags=["codec 流程数据解密（Temporal UI）"])


def _codec(resources: Resources) -> EncryptionCodec:
    return EncryptionCodec(base64.b64decode(resources.settings.payload_encryption_key))


def _payloads(body: CodecPayloads) -> list[Payload]:
    try:
        return [p.to_payload() for p in body.payloads]
    except (binascii.Error, ValueError):
        raise invalid("payloads", "不是有效的 Base64 编码") from None


@router.post("/decode", summary="解密流程数据（Temporal UI / CLI 的 codec 接口；县乡村振兴局）")
async def decode(
    body: CodecPayloads, account: CurrentAccount, resources: Resources, session: SessionDep
) -> CodecPayloads:
    require_role(account, Role.county_officer)  # after the body's checks: a malformed body is 422 for anyone
    try:
        decoded = await _codec(resources).decode(_payloads(body))
    except (InvalidTag, DecodeError, IndexError, zlib.error):
        raise invalid("payloads", "无法解密：数据已损坏，或不是用本服务的密钥加密的") from None
    if outside(account.area_code, decoded):
        raise forbidden("超出您的管辖区域")
    await append_audit(
        session,
        account,
        "decode_payloads",
        "temporal_payloads",
        resources.settings.temporal_namespace,
        {"payloads": len(decoded)},
    )
    await session.commit()
    return CodecPayloads(payloads=[CodecPayload.of(p) for p in decoded])


@router.post("/encode", summary="加密流程数据（Temporal CLI 的 codec 接口；县乡村振兴局）")
async def encode(body: CodecPayloads, account: CurrentAccount, resources: Resources) -> CodecPayloads:
    require_role(account, Role.county_officer)
    encoded = await _codec(resources).encode(_payloads(body))
    return CodecPayloads(payloads=[CodecPayload.of(p) for p in encoded])
