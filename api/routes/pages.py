"""The resident's pages: order help, follow an order, rate it (static files over the API)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api.params import OrderId

PAGES = Path(__file__).resolve().parent.parent / "pages"

router = APIRouter(include_in_schema=False)
static = StaticFiles(directory=PAGES / "static")


@router.get("/")
async def order_form() -> FileResponse:
    return FileResponse(PAGES / "index.html")


@router.get("/orders/{order_id}")
async def order_page(order_id: OrderId) -> FileResponse:
    return FileResponse(PAGES / "order.html")
