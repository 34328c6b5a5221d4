"""The admin console (项目监管入屏端), ``/console/``: pages over the same JSON API as everyone.

Each page is a template on the desk layout; its script (``static/js/console.js``) signs the
admin in and does every read and action through the API routes.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep
from api.params import OrderId, VolunteerId
from api.web.render import PagesDep

router = APIRouter(prefix="/console", include_in_schema=False)

APP = "console"
# Pages whose template takes nothing but the reader's language.
SIMPLE = (
    "orders",
    "escalations",
    "complaints",
    "volunteers",
    "applications",
    "units",
    "staff",
    "catalog",
)


@router.get("/")
async def board(pages: PagesDep) -> HTMLResponse:
    return pages.render("console/board.html", app=APP)


@router.get("/orders/{order_id}")
async def order(order_id: OrderId, pages: PagesDep, settings: SettingsDep) -> HTMLResponse:
    return pages.render(
        "console/order.html",
        app=APP,
        temporal_ui=settings.temporal_ui_url,
        open_call_size=settings.open_call_size,
    )


@router.get("/volunteers/new")
async def new_volunteer(pages: PagesDep) -> HTMLResponse:
    return pages.render("console/volunteer.html", app=APP, editing=False)


@router.get("/volunteers/{volunteer_id}")
async def edit_volunteer(volunteer_id: VolunteerId, pages: PagesDep) -> HTMLResponse:
    return pages.render("console/volunteer.html", app=APP, editing=True)


def _simple(name: str) -> None:
    async def page(pages: PagesDep) -> HTMLResponse:
        return pages.render(f"console/{name}.html", app=APP)

    router.add_api_route(f"/{name}", page, methods=["GET"], name=f"console_{name}")


for _name in SIMPLE:
    _simple(_name)
