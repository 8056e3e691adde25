"""Liveness and readiness for a supervisor or load balancer (docker-compose health checks).

/healthz says the process answers; it checks nothing else, so a database outage never gets the
API restarted. /readyz says whether this API can serve requests now: PostgreSQL and Temporal
each answered within a couple of seconds; 503 (with which one failed) when not."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from services.api.deps import Resources
from services.api.errors import RETRY_AFTER_SECONDS, ApiError, ErrorAnswer

router = APIRouter(tags=["health 运行状态"])

# Seconds each dependency has to answer a readiness probe.
CHECK_SECONDS = 2.0

Check = Literal["ok", "unavailable"]


class Alive(BaseModel):
    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    status: Literal["ok"] = "ok"
    postgresql: Check
    temporal: Check


@router.get("/healthz", summary="存活检查（进程在运行）")
async def healthz() -> Alive:
    return Alive()


@router.get(
    "/readyz",
    summary="就绪检查（PostgreSQL 和 Temporal 均可用）",
    responses={
        503: {"model": ErrorAnswer, "description": "PostgreSQL 或 Temporal 暂时不可用；postgresql、temporal 指出是哪个"}
    },
)
async def readyz(resources: Resources) -> Ready:
    async def database() -> None:
        async with resources.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    postgresql, temporal = await asyncio.gather(
        _answered(database()), _answered(resources.temporal.service_client.check_health())
    )
    if postgresql == "ok" and temporal == "ok":
        return Ready(postgresql=postgresql, temporal=temporal)
    error = ApiError(503, "not_ready", "服务暂不可用：数据库或流程服务未响应", postgresql=postgresql, temporal=temporal)
    error.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    raise error


async def _answered(check: Awaitable[object]) -> Check:
    try:
        await asyncio.wait_for(check, CHECK_SECONDS)
    except Exception:  # any failure to answer means "not ready"; the reason is the dependency's own log
        return "unavailable"
    return "ok"
