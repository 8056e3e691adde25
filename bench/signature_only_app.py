"""The benchmarks' baseline: the department endpoints' paths, doing only what every request
must do — read the body, check the department's signature — and answering 200.

    uvicorn bench.signature_only_app:app
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.demo_data import DEMO_DEPARTMENT_SECRETS
from services.departments.signing import fresh_timestamp, signed_by

app = FastAPI()
# The warning sender's secret first, so a batch costs the baseline one HMAC, as it costs the service.
_SECRETS = sorted(DEMO_DEPARTMENT_SECRETS.values(), key=lambda s: s != DEMO_DEPARTMENT_SECRETS["medical_insurance"])


async def _verified(request: Request) -> bool:
    body = await request.body()
    timestamp = fresh_timestamp(request.headers)
    return timestamp is not None and signed_by(_SECRETS, request.headers, body, timestamp) is not None


@app.post("/api/v1/callbacks/cross-checks/{request_id}")
async def callback(request_id: str, request: Request) -> Any:
    if not await _verified(request):
        return JSONResponse({"detail": "signature"}, status_code=401)
    return {"request_id": request_id, "status": "recorded"}


@app.post("/api/v1/early-warnings")
async def early_warnings(request: Request) -> Any:
    if not await _verified(request):
        return JSONResponse({"detail": "signature"}, status_code=401)
    return {"status": "received"}
