"""The Signature Version 4 signer against the example AWS publishes for S3 (GET Object with a Range,
in "Signature Calculations for the Authorization Header"): s3rver does not check V4 signatures,
so this is what shows that MinIO, OSS or AWS would accept ours. And the settings that choose S3."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from services.settings import Settings
from services.storage.sigv4 import EMPTY_SHA256, Credentials, authorization_headers

# AWS's example account, request and answer, as published.
EXAMPLE = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1")
EXAMPLE_SIGNATURE = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"


def test_the_signature_of_aws_published_example() -> None:
    url = httpx.URL("https://examplebucket.s3.amazonaws.com/test.txt")
    signed = authorization_headers(
        "GET", url, {"Range": "bytes=0-9"}, EMPTY_SHA256, EXAMPLE, datetime(2013, 5, 24, tzinfo=UTC)
    )
    assert signed["x-amz-date"] == "20130524T000000Z" and signed["x-amz-content-sha256"] == EMPTY_SHA256
    assert signed["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        f"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature={EXAMPLE_SIGNATURE}"
    )
    # Any change to what is signed changes the signature: the key, the range, the day, the secret.
    for changed in (
        ("GET", httpx.URL("https://examplebucket.s3.amazonaws.com/test.txu"), {"Range": "bytes=0-9"}, EXAMPLE),
        ("GET", url, {"Range": "bytes=0-8"}, EXAMPLE),
        ("PUT", url, {"Range": "bytes=0-9"}, EXAMPLE),
        ("GET", url, {"Range": "bytes=0-9"}, Credentials(EXAMPLE.access_key, "other", EXAMPLE.region)),
    ):
        method, other_url, headers, credentials = changed
        again = authorization_headers(
            method, other_url, headers, EMPTY_SHA256, credentials, datetime(2013, 5, 24, tzinfo=UTC)
        )
        assert EXAMPLE_SIGNATURE not in again["authorization"], changed


def test_s3_settings_are_complete_or_refused() -> None:
    complete = {
        "evidence_store": "s3",
        "evidence_s3_endpoint": "https://minio.county.example:9000",
        "evidence_s3_bucket": "evidence",
        "evidence_s3_access_key": "key",
        "evidence_s3_secret_key": "a-secret-of-the-county",
    }
    chosen = Settings(environment="test", **complete)
    assert chosen.evidence_s3_region == "us-east-1" and "a-secret-of-the-county" not in repr(chosen)
    for needed in list(complete)[1:]:  # each of the four, missing
        with pytest.raises(ValidationError, match=needed.upper()):
            Settings(environment="test", **{k: v for k, v in complete.items() if k != needed})
    for field, wrong in (("evidence_s3_bucket", "Not_A_Bucket"), ("evidence_s3_endpoint", "minio:9000")):
        with pytest.raises(ValidationError, match=field):
            Settings(environment="test", **{**complete, field: wrong})
