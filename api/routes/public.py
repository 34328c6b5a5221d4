"""Public pages and figures: totals for publicity, and checking a certificate's code.

Nothing here needs a sign-in, and nothing here names a resident. The pages are rendered on
the server from the shared templates (Chinese first, English switchable), with no script of
their own.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api import schemas
from api.deps import DatabaseDep, SettingsDep
from api.params import CertificateCode
from api.schemas import reports as out
from api.stores import public, records
from api.stores.errors import NotFound
from api.web.render import PagesDep

router = APIRouter(tags=["public"], responses=schemas.ERRORS)
pages = APIRouter(include_in_schema=False)


@router.get("/api/public/totals", response_model=out.PublicTotals)
async def public_totals(db: DatabaseDep, settings: SettingsDep) -> out.PublicTotals:
    """Orders completed, verified hours, volunteers serving, follow-up rate, the share
    satisfied after follow-up, and the latest verified services (day, township, category)."""
    return await db.run(public.totals, timezone=settings.county_timezone)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@pages.get("/public/")
async def public_page(db: DatabaseDep, settings: SettingsDep, page: PagesDep) -> HTMLResponse:
    totals = await db.run(public.totals, timezone=settings.county_timezone)
    return page.render(
        "public/totals.html",
        app="public",
        totals=totals,
        center=settings.center_name,
        percent=_percent,
    )


@pages.get("/verify/{code}")
async def verify_page(
    code: CertificateCode, db: DatabaseDep, settings: SettingsDep, page: PagesDep
) -> HTMLResponse:
    try:
        check = await db.run(records.check_certificate, code, secret=settings.signing_secret)
    except NotFound:
        return page.render("public/verify.html", app="public", status_code=404, check=None)
    return page.render("public/verify.html", app="public", check=check)
