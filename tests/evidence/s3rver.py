"""s3rver, a real S3-compatible server (Node, from the npm registry, pinned by tools/s3rver's
package-lock.json): installed with `npm ci` when missing, started on a free port with its own data
folder and the evidence bucket. It checks each request's access key, but not a Signature Version 4
signature itself (its own documentation says V4 checking is incomplete): the signer is checked
against AWS's published example instead (tests/evidence/test_sigv4.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from services.devstack.servers import free_port
from services.settings import Settings
from services.storage.sigv4 import EMPTY_SHA256, Credentials, authorization_headers

TOOL = Path(__file__).resolve().parents[2] / "tools" / "s3rver"
SERVER = TOOL / "node_modules" / "s3rver" / "bin" / "s3rver.js"
BUCKET = "evidence"
# The one account s3rver knows: any other access key is refused (InvalidAccessKeyId).
ACCESS_KEY = SECRET_KEY = "S3RVER"


def installed() -> Path:
    if not SERVER.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--quiet"], cwd=TOOL, check=True)
    return SERVER


@contextmanager
def running_s3rver(data: Path) -> Iterator[str]:
    """The endpoint (http://127.0.0.1:port) of a fresh s3rver with the bucket `evidence`."""
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [shutil.which("node") or "node", str(installed()), "-d", str(data), "-a", "127.0.0.1", "-p", str(port)]
    log = (data.parent / "s3rver.log").open("wb")
    process = subprocess.Popen(
        [*command, "--no-vhost-buckets", "--configure-bucket", BUCKET], stdout=log, stderr=subprocess.STDOUT
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"s3rver did not start; see {log.name}") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def s3_settings(settings: Settings, endpoint: str, **overrides: str) -> Settings:
    values = {
        "evidence_store": "s3",
        "evidence_s3_endpoint": endpoint,
        "evidence_s3_bucket": BUCKET,
        "evidence_s3_access_key": ACCESS_KEY,
        "evidence_s3_secret_key": SECRET_KEY,
        **overrides,
    }
    return Settings.model_validate({**settings.model_dump(), **values})


async def stored_keys(settings: Settings) -> set[str]:
    """Every key the store holds: the files under EVIDENCE_DIR, or the bucket's objects (one
    ListObjectsV2 page: the tests keep far fewer than its 1,000)."""
    if settings.evidence_store == "local":
        directory = Path(settings.evidence_dir)
        return {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
    assert settings.evidence_s3_endpoint and settings.evidence_s3_secret_key and settings.evidence_s3_access_key
    url = httpx.URL(f"{settings.evidence_s3_endpoint}/{settings.evidence_s3_bucket}?list-type=2")
    credentials = Credentials(
        settings.evidence_s3_access_key, settings.evidence_s3_secret_key.get_secret_value(), settings.evidence_s3_region
    )
    async with httpx.AsyncClient() as http:
        answer = await http.get(url, headers=authorization_headers("GET", url, {}, EMPTY_SHA256, credentials))
    answer.raise_for_status()
    listing = ElementTree.fromstring(answer.content)
    assert not any(e.text == "true" for e in listing.iter() if e.tag.endswith("IsTruncated"))
    return {e.text or "" for e in listing.iter() if e.tag.endswith("}Key") or e.tag == "Key"}
