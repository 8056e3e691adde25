"""How every process talks to Temporal: one data converter, one connect function.

Payloads are pydantic-serialised and then AES-GCM encrypted, because case
payloads carry ID numbers (cross-check findings, household members); the
Temporal server and its UI only ever see ciphertext. Failures too: their
messages and stack traces are moved into an encoded attribute and encrypted
with the payloads (the UI shows "Encoded failure" and the failure's type), so
no error text reaches Temporal in the clear, whatever failed (activities
already name their errors without values: services/workers/activity_failures.py).

A payload is zlib-compressed before it is encrypted when that makes it smaller (marked by the
`compression` metadata; payloads written before, without it, still decode): case payloads are
JSON that compresses 3-5 times, and history bytes are what the Temporal server stores and
replays. Compression lets a payload's length vary with its content; reading anything from that
would take both writing chosen text into a case and watching the Temporal database's payload
sizes, which only its operators can.
"""

from __future__ import annotations

import base64
import functools
import os
import zlib
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from opentelemetry.sdk.trace import TracerProvider
from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec
from temporalio.runtime import Runtime

from services.observability.temporal_headers import RequestIdsToTemporal
from services.observability.tracing import tracing_interceptors
from services.settings import Settings

ENCODING = b"binary/encrypted-aesgcm"
_KEY_ID = b"v1"
_ZLIB = b"zlib"
# Below this a payload (a bare id, a small answer) gains nothing worth the compression's header.
_COMPRESS_FROM_BYTES = 256


class EncryptionCodec(PayloadCodec):
    def __init__(self, key: bytes) -> None:
        self._aes = AESGCM(key)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encode_one(p.SerializeToString()) for p in payloads]

    def _encode_one(self, plain: bytes) -> Payload:
        metadata = {"encoding": ENCODING, "encryption-key-id": _KEY_ID}
        if len(plain) >= _COMPRESS_FROM_BYTES:
            compressed = zlib.compress(plain, 6)
            if len(compressed) < len(plain):
                metadata["compression"] = _ZLIB
                plain = compressed
        return Payload(metadata=metadata, data=self._encrypt(plain))

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(self._decode_each(payloads))

    def _decode_each(self, payloads: Iterable[Payload]) -> Iterable[Payload]:
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                yield p
                continue
            plain = self._decrypt(p.data)
            if p.metadata.get("compression") == _ZLIB:
                plain = zlib.decompress(plain)
            decoded = Payload()
            decoded.ParseFromString(plain)
            yield decoded

    def _encrypt(self, data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aes.encrypt(nonce, data, None)

    def _decrypt(self, data: bytes) -> bytes:
        return self._aes.decrypt(data[:12], data[12:], None)


# One cache of pydantic type adapters for the process, bounded as the SDK's own (LRU).
_TYPE_ADAPTERS = functools.lru_cache(maxsize=1024)(TypeAdapter)


class SharedAdaptersPayloadConverter(PydanticPayloadConverter):
    """The SDK's pydantic payload converter, its type adapters shared by every instance. The worker
    builds a payload converter for each workflow run, whose adapter cache then started empty: every
    run built an adapter for each type it decoded, which inside the workflow sandbox is slow
    (measured: 3 % of the worker's CPU, bench/profile_identification.py). An adapter is immutable."""

    def __init__(self) -> None:
        super().__init__()
        for converter in self.converters.values():
            if isinstance(converter, PydanticJSONPlainPayloadConverter):
                converter._type_adapter = _TYPE_ADAPTERS


def data_converter(settings: Settings) -> DataConverter:
    key = base64.b64decode(settings.payload_encryption_key)
    return DataConverter(
        payload_converter_class=SharedAdaptersPayloadConverter,
        payload_codec=EncryptionCodec(key),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(settings: Settings, tracing: TracerProvider | None = None, runtime: Runtime | None = None) -> Client:
    """The client carries the request id in Temporal headers (the worker takes its interceptors
    from its client), and the trace context when `tracing`; `runtime` exports the SDK's metrics."""
    return await Client.connect(
        settings.require_temporal_address(),
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        interceptors=[RequestIdsToTemporal(), *tracing_interceptors(tracing)],
        runtime=runtime,
    )
