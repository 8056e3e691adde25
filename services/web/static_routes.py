"""The workbench's own script and style, served by the service itself (the county's network may
have no internet). Every file's name carries its version, so browsers may keep it for a year."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from services.web.pages import HERE, PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATIC = HERE / "static"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Only these files: a name from the request never reaches the file system.
SERVED = {p.name: p for p in STATIC.iterdir() if p.suffix in _TYPES}


@router.get("/static/{name}")
async def static_file(name: str) -> Response:
    path = SERVED.get(name)
    if path is None:
        return Response("没有这个文件", status_code=404, media_type="text/plain; charset=utf-8")
    return FileResponse(
        path, media_type=_TYPES[path.suffix], headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )
