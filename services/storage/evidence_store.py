"""The evidence store: where the bytes of evidence files live, behind one small interface.

`LocalDiskStore` (the default) keeps them under `EVIDENCE_DIR`, one file per key, written to a
temporary name then renamed, so a reader never sees half a file. An S3-compatible store (MinIO,
OSS, COS) would implement the same two methods with `put_object`/`get_object` on one bucket, the
key unchanged; it is not built yet (README "Evidence")."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Protocol

from services.settings import Settings

_KEY = re.compile(r"^[0-9]{12}/[0-9a-f]{32}\.(jpg|png|pdf)$")


class EvidenceStore(Protocol):
    async def put(self, key: str, content: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None:
        """Forget a file no row refers to (its transaction failed); absent already is fine."""
        ...


class LocalDiskStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        # Keys are made by the service ("{village}/{uuid hex}.{ext}"); anything else never reaches the disk.
        if not _KEY.match(key):
            raise ValueError("not an evidence key")
        return self.directory / key

    async def put(self, key: str, content: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), content)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    @staticmethod
    def _write(path: Path, content: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".part")
        with open(partial, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)


def evidence_store(settings: Settings) -> EvidenceStore:
    return LocalDiskStore(Path(settings.evidence_dir))
