"""The evidence store: writing and reading back files of a phone photo's size and of the largest
allowed, in an S3-compatible bucket (s3rver, a real server on this machine, as the tests start it)
against the local disk (the baseline), in the same run, rounds alternating; and what reading holds
in memory (Python's allocations, tracemalloc), which streaming keeps near one chunk whatever the size.

    uv run python bench/evidence_store.py [--rounds 5] [--files 10]

Figures go to bench/results/evidence_store.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.settings import Settings  # noqa: E402
from services.storage.evidence_store import EvidenceStore, evidence_store  # noqa: E402
from tests.evidence.s3rver import running_s3rver, s3_settings  # noqa: E402

SIZES = {"photo_300KB": 300 * 1024, "largest_20MB": 20 * 1024 * 1024}


def _key() -> str:
    return f"610824100201/{uuid.uuid4().hex}.jpg"


async def _drained(store: EvidenceStore, key: str) -> int:
    stored = await store.open(key)
    try:
        return sum([len(chunk) async for chunk in stored.chunks])
    finally:
        await stored.close()


async def _round(store: EvidenceStore, content: bytes, files: int) -> dict[str, float]:
    """Milliseconds per file to write, then to read back, `files` files one after another."""
    keys = [_key() for _ in range(files)]
    started = time.perf_counter()
    for key in keys:
        await store.put(key, content)
    written = time.perf_counter()
    for key in keys:
        assert await _drained(store, key) == len(content)
    read = time.perf_counter()
    for key in keys:
        await store.delete(key)
    return {"put_ms": (written - started) * 1000 / files, "read_ms": (read - written) * 1000 / files}


async def _read_peak(store: EvidenceStore, content: bytes) -> int:
    """Bytes Python allocated at most while one file was read to the end (the file written before)."""
    key = _key()
    await store.put(key, content)
    tracemalloc.start()
    try:
        await _drained(store, key)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        await store.delete(key)


async def measure(stores: dict[str, EvidenceStore], rounds: int, files: int) -> dict[str, Any]:
    samples: dict[str, dict[str, list[dict[str, float]]]] = {s: {n: [] for n in SIZES} for s in stores}
    for number in range(rounds):
        order = list(stores) if number % 2 == 0 else list(reversed(stores))
        for size_name, size in SIZES.items():
            content = b"\xff\xd8\xff" + os.urandom(size - 3)
            for store_name in order:
                samples[store_name][size_name].append(await _round(stores[store_name], content, files))
    medians = {
        store: {
            size: {f: round(statistics.median(s[f] for s in runs), 1) for f in ("put_ms", "read_ms")}
            for size, runs in by_size.items()
        }
        for store, by_size in samples.items()
    }
    ratios = {
        size: {f: round(medians["s3"][size][f] / medians["local"][size][f], 2) for f in ("put_ms", "read_ms")}
        for size in SIZES
    }
    peaks = {
        store: {size: await _read_peak(stores[store], b"\xff\xd8\xff" + os.urandom(n - 3)) for size, n in SIZES.items()}
        for store in stores
    }
    return {"median_ms_per_file": medians, "s3_over_local": ratios, "read_peak_bytes": peaks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as folder:
        base = Settings(environment="test", evidence_dir=str(Path(folder) / "local"))
        with running_s3rver(Path(folder) / "s3rver" / "data") as endpoint:
            stores = {"local": evidence_store(base), "s3": evidence_store(s3_settings(base, endpoint))}
            result = asyncio.run(measure(stores, args.rounds, args.files))
    result |= {"rounds": args.rounds, "files_per_round": args.files, "load_average": os.getloadavg()}
    out = ROOT / "bench" / "results" / "evidence_store.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
