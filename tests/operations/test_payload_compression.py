"""The payload codec compresses what compression shrinks before encrypting it, and still reads the
payloads written before compression (no `compression` metadata): saved histories replay."""

from __future__ import annotations

import json
import os

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from services.temporal_client import ENCODING, EncryptionCodec

KEY = os.urandom(32)


def _json_payload(value: object) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value, ensure_ascii=False).encode())


async def test_a_case_sized_payload_is_stored_compressed_and_read_back_whole() -> None:
    members = [{"name": f"成员{i}", "id_number": f"61082419800101{i:04d}", "relation": "子女"} for i in range(40)]
    plain = _json_payload({"members": members, "note": "入户核实：家中两人长期患病，务工收入下降。"})
    codec = EncryptionCodec(KEY)

    (stored,) = await codec.encode([plain])

    assert stored.metadata["encoding"] == ENCODING and stored.metadata["compression"] == b"zlib"
    assert len(stored.data) < len(plain.SerializeToString()) / 3
    assert b"61082419800101" not in stored.data
    assert await codec.decode([stored]) == [plain]


async def test_a_small_payload_is_not_compressed() -> None:
    plain = _json_payload("identification-610824100201000003")
    (stored,) = await EncryptionCodec(KEY).encode([plain])
    assert "compression" not in stored.metadata
    assert await EncryptionCodec(KEY).decode([stored]) == [plain]


async def test_a_payload_encrypted_before_compression_existed_still_decodes() -> None:
    codec = EncryptionCodec(KEY)
    plain = _json_payload({"text": "x" * 5000})
    written_before = Payload(
        metadata={"encoding": ENCODING, "encryption-key-id": b"v1"}, data=codec._encrypt(plain.SerializeToString())
    )
    assert await codec.decode([written_before]) == [plain]


async def test_a_changed_compressed_payload_is_refused() -> None:
    codec = EncryptionCodec(KEY)
    (stored,) = await codec.encode([_json_payload({"text": "y" * 5000})])
    stored.data = stored.data[:-1] + bytes([stored.data[-1] ^ 1])
    with pytest.raises(InvalidTag):
        await codec.decode([stored])
