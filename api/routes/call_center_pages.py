"""The call-center workbench (回访工作台): the follow-up queue, claims, the call and its result.

One page over the JSON API (``/api/follow-ups``): the page itself carries no personal data;
the script reads the resident's contact from the task detail only once the agent holds it.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.web.render import PagesDep

router = APIRouter(include_in_schema=False)


@router.get("/call-center/")
async def workbench(pages: PagesDep) -> HTMLResponse:
    return pages.render("call_center/index.html", app="call-center")


@router.get("/call-center/orders/new")
async def order_for_caller(pages: PagesDep) -> HTMLResponse:
    """代居民下单: an agent or admin orders for a caller (hotline) or a walk-in."""
    return pages.render("call_center/new.html", app="call-center")


@router.get("/call-center/call-backs")
async def call_backs(pages: PagesDep) -> HTMLResponse:
    """来电回拨: callers of the keypad line waiting for an agent (pressed 0, or left a message)."""
    return pages.render("call_center/call_backs.html", app="call-center")
