"""The resident's pages: order help, follow an order, rate it (templates over the JSON API)."""

from __future__ import annotations

import re
from typing import Final

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.web.render import STATIC, PagesDep

router = APIRouter(include_in_schema=False)
static = StaticFiles(directory=STATIC)

# The shape of a public order id (api.params.OrderId). The page takes any path so that a
# mistyped address gets a page a person can read, not the API's 422.
PUBLIC_ID: Final = re.compile(r"[A-Za-z0-9_-]{8,32}")


@router.get("/")
async def home(pages: PagesDep) -> HTMLResponse:
    """Sign-in, then 我的求助 and the way to a new request."""
    return pages.render("resident/index.html", app="resident")


@router.get("/orders/new")
async def order_form(pages: PagesDep) -> HTMLResponse:
    return pages.render("resident/new.html", app="resident")


@router.get("/orders/{order_id}")
async def order_page(order_id: str, pages: PagesDep) -> HTMLResponse:
    # Whether the order exists (and is the reader's) only the API can say, with the token the
    # script holds; an id that cannot exist is answered here.
    if not PUBLIC_ID.fullmatch(order_id):
        return pages.render("resident/not_found.html", app="resident", status_code=404)
    return pages.render("resident/order.html", app="resident")
