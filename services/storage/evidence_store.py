"""The evidence store: where the bytes of evidence files live, behind one small interface, chosen
by `EVIDENCE_STORE`: `local` (the default) keeps them under `EVIDENCE_DIR` (`LocalDiskStore`),
`s3` in one bucket of an S3-compatible service (`S3Store`), the keys the same in both."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from services.settings import Settings
from services.storage.local_disk import LocalDiskStore
from services.storage.s3_store import S3Store
from services.storage.sigv4 import Credentials
from services.storage.stored import StoredFile


class EvidenceStore(Protocol):
    async def put(self, key: str, content: bytes) -> None:
        """Keeps the file whole or not at all; `EvidenceStorageUnavailable` when nothing was kept."""
        ...

    async def open(self, key: str) -> StoredFile:
        """The file, to be read in chunks; `EvidenceFileMissing` when the store has none under `key`."""
        ...

    async def delete(self, key: str) -> None:
        """Forget a file no row refers to (its transaction failed); absent already is fine."""
        ...


def evidence_store(settings: Settings) -> EvidenceStore:
    if settings.evidence_store == "s3":
        endpoint, bucket = settings.evidence_s3_endpoint, settings.evidence_s3_bucket
        access_key, secret_key = settings.evidence_s3_access_key, settings.evidence_s3_secret_key
        # The settings refuse `s3` without its endpoint, bucket and keys.
        assert endpoint and bucket and access_key and secret_key
        credentials = Credentials(access_key, secret_key.get_secret_value(), settings.evidence_s3_region)
        return S3Store(endpoint, bucket, credentials)
    return LocalDiskStore(Path(settings.evidence_dir))
