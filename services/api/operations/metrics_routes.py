"""GET /metrics: Prometheus' text format, the API process's request metrics and the domain gauges
read at scrape time. Who may read it: with METRICS_TOKEN set, a scraper sending it as a bearer
token (from anywhere); without, only a client on this machine (loopback), so a deployment that
opens the API to the network does not open its metrics with it.

Not in the OpenAPI document: it is the scraper's, not an API operation for people, and answers
text; its refusals have the one error shape."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from services.api.deps import Resources, client_address
from services.api.errors import ApiError
from services.api.operations.domain_gauges import domain_registry

router = APIRouter()


def _allowed(request: Request, token: str | None) -> None:
    if token is not None:
        offered = request.headers.get("Authorization", "")
        if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
            raise ApiError(401, "metrics_token_required", "读取运行指标需要提供正确的指标访问令牌")
        return
    try:
        local = ipaddress.ip_address(client_address(request)).is_loopback
    except ValueError:
        local = False
    if not local:
        raise ApiError(403, "metrics_local_only", "运行指标仅允许本机读取；如需远程采集，请配置指标访问令牌")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, resources: Resources) -> Response:
    secret = resources.settings.metrics_token
    _allowed(request, secret.get_secret_value() if secret else None)
    domain = await domain_registry(resources.engine)
    return Response(generate_latest(REGISTRY) + generate_latest(domain), media_type=CONTENT_TYPE_LATEST)
