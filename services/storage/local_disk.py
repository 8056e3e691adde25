"""Evidence on the local disk under `EVIDENCE_DIR`, one file per key, written to a temporary name,
synced, then renamed, so a reader never sees half a file."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from services.storage.stored import (
    CHUNK_BYTES,
    EvidenceFileMissing,
    EvidenceStorageUnavailable,
    StoredFile,
    checked_key,
)


class LocalDiskStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / checked_key(key)

    async def put(self, key: str, content: bytes) -> None:
        path = self._path(key)
        try:
            await asyncio.to_thread(self._write, path, content)
        except OSError as error:  # a full disk, a read-only mount: nothing kept
            raise EvidenceStorageUnavailable(f"write {key}: {type(error).__name__} {error.errno}") from error

    async def open(self, key: str) -> StoredFile:
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as error:
            raise EvidenceFileMissing(key) from error
        except OSError as error:
            raise EvidenceStorageUnavailable(f"read {key}: {type(error).__name__} {error.errno}") from error

        async def close() -> None:
            await asyncio.to_thread(handle.close)

        return StoredFile(os.fstat(handle.fileno()).st_size, _chunks(handle), close)

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


async def _chunks(handle: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)
