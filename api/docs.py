"""``/docs`` (Swagger UI, vendored: no CDN, no inline script) and ``/openapi.json``.

Both answer only when ``settings.docs_on`` (off in production unless ``DOCS_ENABLED=true``),
and 404 otherwise, like any unknown path. "Authorize" in /docs signs staff in through the
OAuth2 password flow at ``/api/auth/token``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import SettingsDep

SWAGGER = "/static/vendor/swagger-ui"
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Four orders (四单) API</title>
<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER}/swagger-ui-bundle.js"></script>
<script src="/static/js/docs.js"></script>
</body>
</html>
"""


def _only_when_on(settings: SettingsDep) -> None:
    if not settings.docs_on:
        raise HTTPException(status_code=404)


router = APIRouter(include_in_schema=False, dependencies=[Depends(_only_when_on)])


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs")
async def docs() -> HTMLResponse:
    return HTMLResponse(PAGE)
