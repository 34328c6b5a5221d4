"""The resident's pages: order help, follow an order, rate it (templates over the JSON API)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.params import OrderId
from api.web.render import STATIC, PagesDep

router = APIRouter(include_in_schema=False)
static = StaticFiles(directory=STATIC)


@router.get("/")
async def order_form(pages: PagesDep) -> HTMLResponse:
    return pages.render("resident/index.html", app="resident")


@router.get("/orders/{order_id}")
async def order_page(order_id: OrderId, pages: PagesDep) -> HTMLResponse:
    return pages.render("resident/order.html", app="resident")
