"""How every process talks to Temporal: one data converter, one connect function.

Payloads are pydantic-serialised and then AES-GCM encrypted, because case
payloads carry ID numbers (cross-check findings, household members); the
Temporal server and its UI only ever see ciphertext. Failures too: their
messages and stack traces are moved into an encoded attribute and encrypted
with the payloads (the UI shows "Encoded failure" and the failure's type), so
no error text reaches Temporal in the clear, whatever failed (activities
already name their errors without values: services/workers/activity_failures.py).
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from opentelemetry.sdk.trace import TracerProvider
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec
from temporalio.runtime import Runtime

from services.observability.temporal_headers import RequestIdsToTemporal
from services.observability.tracing import tracing_interceptors
from services.settings import Settings

ENCODING = b"binary/encrypted-aesgcm"
_KEY_ID = b"v1"


class EncryptionCodec(PayloadCodec):
    def __init__(self, key: bytes) -> None:
        self._aes = AESGCM(key)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [
            Payload(
                metadata={"encoding": ENCODING, "encryption-key-id": _KEY_ID},
                data=self._encrypt(p.SerializeToString()),
            )
            for p in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(self._decode_each(payloads))

    def _decode_each(self, payloads: Iterable[Payload]) -> Iterable[Payload]:
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                yield p
                continue
            decoded = Payload()
            decoded.ParseFromString(self._decrypt(p.data))
            yield decoded

    def _encrypt(self, data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aes.encrypt(nonce, data, None)

    def _decrypt(self, data: bytes) -> bytes:
        return self._aes.decrypt(data[:12], data[12:], None)


def data_converter(settings: Settings) -> DataConverter:
    key = base64.b64decode(settings.payload_encryption_key)
    return dataclasses.replace(
        pydantic_data_converter,
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
