"""The body guard on the import upload path (services/api/request_guards.py): the body is passed on
as it arrives, never held whole, and cut off with the 413 once it passes the limit, even when no
Content-Length announced it. A small Starlette app reading the form stands behind the guard, with
a file limit of 64 KB (and the multipart allowance beside it) so the test sends kilobytes, not a gigabyte."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.api.request_guards import IMPORT_UPLOAD_PATH, MULTIPART_ALLOWANCE, BodyGuard, size_text

LIMIT = 64 * 1024
BOUNDARY = "guard-test"
HEADERS = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def _guarded(events: list[str]) -> httpx.AsyncClient:
    async def upload(request: Request) -> JSONResponse:
        events.append("route reads")
        async with request.form() as form:
            file = form["file"]
            assert not isinstance(file, str)
            return JSONResponse({"size": file.size}, status_code=201)

    app = Starlette(
        routes=[Route(IMPORT_UPLOAD_PATH, upload, methods=["POST"]), Route("/other", upload, methods=["POST"])]
    )
    guard = BodyGuard(app, import_max_bytes=LIMIT)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://guard.test")


async def _body(size: int, events: list[str]) -> AsyncIterator[bytes]:
    """A multipart body with one file of `size` bytes, sent in 8 KB chunks without a Content-Length."""
    yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'.encode()
    for start in range(0, size, 8192):
        events.append("client sends")
        yield b"x" * min(8192, size - start)
    events.append("client done")
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def test_the_upload_streams_through_and_is_cut_off_past_its_limit() -> None:
    events: list[str] = []
    async with _guarded(events) as http:
        taken = await http.post(IMPORT_UPLOAD_PATH, content=_body(48 * 1024, events), headers=HEADERS)
        assert taken.status_code == 201 and taken.json() == {"size": 48 * 1024}
        # The route began reading before the client had sent the whole body: nothing was held first.
        assert events.index("route reads") < events.index("client done")

        events.clear()
        cut = await http.post(IMPORT_UPLOAD_PATH, content=_body(1024 * 1024, events), headers=HEADERS)
        assert cut.status_code == 413 and cut.json()["detail"] == {
            "code": "body_too_large",
            "message": "导入文件不能超过64KB",
        }
        assert "client done" not in events  # the rest of the body was never asked for
        assert events.count("client sends") <= (LIMIT + MULTIPART_ALLOWANCE) // 8192 + 1

        declared = await http.post(
            IMPORT_UPLOAD_PATH, content=b"x" * (LIMIT + MULTIPART_ALLOWANCE + 1), headers=HEADERS
        )
        assert declared.status_code == 413

        # Elsewhere a multipart body is held and kept to the 4 MB limit (and this guard's 64 KB
        # import limit does not apply): the route reads only once the client is done.
        events.clear()
        other = await http.post("/other", content=_body(96 * 1024, events), headers=HEADERS)
        assert other.status_code == 201 and events.index("client done") < events.index("route reads")


def test_a_limit_is_named_in_the_largest_whole_unit() -> None:
    assert [size_text(n) for n in (1 << 30, 4 << 20, 1536 << 10, 1024, 1000)] == [
        "1GB",
        "4MB",
        "1536KB",
        "1KB",
        "1000字节",
    ]
