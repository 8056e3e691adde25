"""Runtime settings, read from environment variables (and an optional `.env`).

The same variable names are used by the embedded development stack, by
docker-compose.yml and by the tests, so one list describes every deployment.
"""

from __future__ import annotations

import base64
import logging
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only secrets: usable on a laptop, refused in production.
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_PAYLOAD_KEY = base64.b64encode(b"dev-only-payload-key-32-bytes!!!").decode()
DEV_DEPARTMENT_SECRET_KEY = base64.b64encode(b"dev-only-department-key-32bytes!").decode()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"

    # PostgreSQL, asyncpg dialect: postgresql+asyncpg://user:pass@host:5432/db
    database_url: str | None = None
    # Temporal frontend, host:port.
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_task_queue: str = "identification"

    # Signs bearer tokens (HS256).
    jwt_secret: str = DEV_JWT_SECRET
    access_token_minutes: int = Field(default=480, gt=0, le=24 * 60)
    # 32-byte AES key, base64: encrypts Temporal payloads (they carry ID numbers).
    payload_encryption_key: str = DEV_PAYLOAD_KEY
    # 32-byte AES key, base64: encrypts the departments' shared secrets in PostgreSQL.
    department_secret_key: str = DEV_DEPARTMENT_SECRET_KEY

    # Where the service is reachable, for links in printed output and callbacks.
    public_base_url: str = "http://127.0.0.1:8000"

    # Household sign-in (mini-program). "log" writes codes and notices to the log instead of
    # sending them: development only. "http" posts them, signed, to an SMS gateway.
    sms_provider: Literal["log", "http"] = "log"
    sms_gateway_url: str | None = None
    sms_gateway_secret: str | None = None
    # "development" turns a wx.login code into a stable made-up openid; "wechat" asks WeChat.
    wechat_provider: Literal["development", "wechat"] = "development"
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"
    sms_code_seconds: int = Field(default=300, gt=0, le=1800)
    sms_resend_seconds: int = Field(default=60, ge=0, le=600)
    sms_code_attempts: int = Field(default=5, ge=1, le=20)
    sms_codes_per_phone_hour: int = Field(default=5, ge=1, le=100)
    sms_codes_per_address_hour: int = Field(default=20, ge=1, le=10000)
    applicant_token_minutes: int = Field(default=24 * 60, gt=0, le=30 * 24 * 60)

    # Evidence files (证明材料): kept under this directory (created when first needed), each at most
    # this many bytes (uploads are held in memory while checked: at most 20 MB).
    evidence_dir: str = "var/evidence"
    evidence_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=20 * 1024 * 1024)
    # "s3": kept instead in one bucket of an S3-compatible service (MinIO, OSS, COS, OBS, AWS), at
    # EVIDENCE_S3_ENDPOINT/EVIDENCE_S3_BUCKET/{key} (path-style), signed with Signature Version 4.
    evidence_store: Literal["local", "s3"] = "local"
    evidence_s3_endpoint: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")
    evidence_s3_bucket: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    evidence_s3_region: str = Field(default="us-east-1", pattern=r"^[a-z0-9-]{1,32}$")
    evidence_s3_access_key: str | None = None
    evidence_s3_secret_key: SecretStr | None = None

    # Screening import files (全农户排查) uploaded as multipart: streamed to a temporary file and
    # stored in 1 MB parts, so this bounds disk and database, not memory. The body guard cuts an
    # upload off once it passes this (plus the multipart framing), before it is spooled whole.
    import_max_bytes: int = Field(default=1024 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)

    # Lets a published policy go below the rules' floors (a notice of seconds, one verifier):
    # switched on explicitly by the demo (./scripts/run) and the tests; production refuses it.
    development_policies: bool = False

    # Staff sign-in failures (等保 2.0): after this many in a row an account name, or after this many
    # from one client address (across names), is locked for SIGN_IN_LOCK_MINUTES, doubled with each
    # further failure, up to a day.
    sign_in_failures_per_account: int = Field(default=5, ge=1, le=100)
    sign_in_failures_per_address: int = Field(default=30, ge=1, le=10000)
    sign_in_lock_minutes: int = Field(default=5, ge=1, le=24 * 60)

    # Operations (README "Operations: metrics, logs, traces"). GET /metrics: with a token, scrapers
    # send it as a bearer token; without, only clients on this machine may read it.
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    # The worker's Temporal SDK metrics (Prometheus) are served on host:port; unset: not served.
    worker_metrics_address: str | None = None
    # OpenTelemetry traces go to this OTLP/HTTP endpoint (e.g. http://collector:4318); unset: no tracing.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "fanpin-monitoring"
    # The Temporal UI's origin, allowed to call the codec endpoint from the browser (CORS).
    codec_cors_origin: str | None = "http://127.0.0.1:8233"

    @field_validator(
        "metrics_token",
        "otel_exporter_otlp_endpoint",
        "worker_metrics_address",
        "evidence_s3_endpoint",
        "evidence_s3_bucket",
        "evidence_s3_access_key",
        "evidence_s3_secret_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value  # docker-compose passes an unset variable as ""

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        unsafe = [
            name
            for name, value, dev in (
                ("JWT_SECRET", self.jwt_secret, DEV_JWT_SECRET),
                ("PAYLOAD_ENCRYPTION_KEY", self.payload_encryption_key, DEV_PAYLOAD_KEY),
                ("DEPARTMENT_SECRET_KEY", self.department_secret_key, DEV_DEPARTMENT_SECRET_KEY),
            )
            if value == dev
        ]
        if unsafe and self.environment == "production":
            raise ValueError(f"set {', '.join(unsafe)} for production; the development defaults are public")
        if unsafe and self.environment == "development":
            logging.getLogger(__name__).warning("using development defaults for %s", ", ".join(unsafe))
        if self.environment == "production" and (self.sms_provider == "log" or self.wechat_provider == "development"):
            raise ValueError(
                "set SMS_PROVIDER=http and WECHAT_PROVIDER=wechat for production; "
                "the development adapters write sign-in codes to the log"
            )
        if self.environment == "production" and self.development_policies:
            raise ValueError("DEVELOPMENT_POLICIES is for demos and tests: production policies keep the rules' floors")
        if self.evidence_store == "s3" and not (
            self.evidence_s3_endpoint
            and self.evidence_s3_bucket
            and self.evidence_s3_access_key
            and self.evidence_s3_secret_key
        ):
            raise ValueError(
                "EVIDENCE_STORE=s3 needs EVIDENCE_S3_ENDPOINT, EVIDENCE_S3_BUCKET, "
                "EVIDENCE_S3_ACCESS_KEY and EVIDENCE_S3_SECRET_KEY"
            )
        if self.environment == "production" and (self.evidence_s3_endpoint or "").startswith("http://"):
            logging.getLogger(__name__).warning(
                "EVIDENCE_S3_ENDPOINT is plain http: evidence files (ID numbers, signatures) cross the network unencrypted"
            )
        if self.sms_provider == "http" and not (self.sms_gateway_url and self.sms_gateway_secret):
            raise ValueError("SMS_PROVIDER=http needs SMS_GATEWAY_URL and SMS_GATEWAY_SECRET")
        if self.wechat_provider == "wechat" and not (self.wechat_app_id and self.wechat_app_secret):
            raise ValueError("WECHAT_PROVIDER=wechat needs WECHAT_APP_ID and WECHAT_APP_SECRET")
        for name, key in (
            ("PAYLOAD_ENCRYPTION_KEY", self.payload_encryption_key),
            ("DEPARTMENT_SECRET_KEY", self.department_secret_key),
        ):
            if len(base64.b64decode(key)) != 32:
                raise ValueError(f"{name} must be 32 bytes, base64-encoded")
        if len(self.jwt_secret) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters")
        return self

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("DATABASE_URL is not set (the dev stack sets it for you: ./scripts/run)")
        return self.database_url

    def require_temporal_address(self) -> str:
        if not self.temporal_address:
            raise RuntimeError("TEMPORAL_ADDRESS is not set (the dev stack sets it for you: ./scripts/run)")
        return self.temporal_address


# Variables the code reads; docker-compose.yml must provide the required ones.
REQUIRED_ENV = (
    "DATABASE_URL",
    "TEMPORAL_ADDRESS",
    "JWT_SECRET",
    "PAYLOAD_ENCRYPTION_KEY",
    "DEPARTMENT_SECRET_KEY",
    "ENVIRONMENT",
)


@lru_cache
def get_settings() -> Settings:
    return Settings()
