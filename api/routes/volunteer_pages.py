"""The volunteer's app (``/volunteer/``): inbox, order, on-site review, record, the
application to volunteer; installable.

The manifest and the service worker are served under ``/volunteer/`` so the worker's default
scope is the app itself (no ``Service-Worker-Allowed`` widening); both go through the same
security-headers middleware as every page, so the CSP stays in force.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from api.params import OrderId
from api.stores import photos
from api.web import i18n
from api.web.render import STATIC, PagesDep

router = APIRouter(prefix="/volunteer", include_in_schema=False)

SERVICE_WORKER: Final = STATIC / "js" / "volunteer" / "sw.js"
ICONS: Final = "/static/img/volunteer"


@router.get("/")
async def inbox(pages: PagesDep) -> HTMLResponse:
    return pages.render("volunteer/inbox.html", app="volunteer")


@router.get("/orders/{order_id}")
async def order(order_id: OrderId, pages: PagesDep) -> HTMLResponse:
    # The photo limits, so the page refuses a big picture (or a tenth) before a slow upload.
    return pages.render(
        "volunteer/order.html",
        app="volunteer",
        photo_max_bytes=pages.settings.photo_max_bytes,
        photo_max_count=photos.MAX_PER_ORDER,
    )


@router.get("/apply")
async def apply(pages: PagesDep) -> HTMLResponse:
    # A resident signs in with their phone, then applies; an admin approves in the console.
    return pages.render("volunteer/apply.html", app="volunteer")


@router.get("/record")
async def record(pages: PagesDep) -> HTMLResponse:
    return pages.render("volunteer/record.html", app="volunteer")


@router.get("/manifest.webmanifest")
async def manifest(pages: PagesDep) -> JSONResponse:
    language = i18n.language(pages.lang)
    body: dict[str, Any] = {
        "name": language.gettext("志愿者接单"),
        "short_name": language.gettext("志愿者"),
        "description": language.gettext("接单、签到签退、完成服务、现场评价"),
        "lang": pages.lang,
        "start_url": "/volunteer/",
        "scope": "/volunteer/",
        "display": "standalone",
        "background_color": "#faf7f2",
        "theme_color": "#b71c1c",
        "icons": [
            {"src": f"{ICONS}/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": f"{ICONS}/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": f"{ICONS}/icon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JSONResponse(
        body,
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache", "Vary": "Cookie"},
    )


@router.get("/sw.js")
async def service_worker() -> FileResponse:
    # no-cache: a new shell reaches installed apps on their next visit.
    return FileResponse(
        Path(SERVICE_WORKER),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )
