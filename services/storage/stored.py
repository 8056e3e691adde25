"""What every evidence store shares: the shape of a key, a file opened for reading (streamed, in
chunks), and the two ways reading or writing can fail that the API turns into Chinese answers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

# Keys are made by the service ("{village}/{uuid hex}.{ext}"); anything else never reaches a store.
_KEY = re.compile(r"^[0-9]{12}/[0-9a-f]{32}\.(jpg|png|pdf)$")
CHUNK_BYTES = 64 * 1024


def checked_key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError("not an evidence key")
    return key


class EvidenceFileMissing(Exception):
    """The store has no file under the key a row names (deleted by hand, lost, or a wrong restore)."""


class EvidenceStorageUnavailable(Exception):
    """The store could not be reached, or refused the request (full disk, wrong credentials, no
    bucket): nothing was written. The message is for the log (keys and status codes, no content)."""


@dataclass(frozen=True)
class StoredFile:
    """A file being read: its size, its bytes in chunks, and `close` (idempotent), which the
    reader calls when done or abandoned."""

    size: int
    chunks: AsyncIterator[bytes]
    close: Callable[[], Awaitable[None]]
