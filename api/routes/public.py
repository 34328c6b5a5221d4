"""Public pages and figures: totals for publicity, and checking a certificate's code.

Nothing here needs a sign-in, and nothing here names a resident. The pages are rendered on
the server (no script at all), Chinese first, in the residents' stylesheet.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api import report_schemas as out
from api import schemas
from api.deps import DatabaseDep, SettingsDep
from api.params import CertificateCode
from api.stores import public, records
from api.stores.errors import NotFound

router = APIRouter(tags=["public"], responses=schemas.ERRORS)
pages = APIRouter(include_in_schema=False)


@router.get("/api/public/totals", response_model=out.PublicTotals)
async def public_totals(db: DatabaseDep, settings: SettingsDep) -> out.PublicTotals:
    """Orders completed, verified hours, volunteers serving, follow-up rate, the share
    satisfied after follow-up, and the latest verified services (day, township, category)."""
    return await db.run(public.totals, timezone=settings.county_timezone)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(title)}</title><link rel="stylesheet" href="/static/style.css">'
        f"</head><body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@pages.get("/public/")
async def public_page(db: DatabaseDep, settings: SettingsDep) -> HTMLResponse:
    t = await db.run(public.totals, timezone=settings.county_timezone)
    figures = [
        ("累计办结 Orders completed", f"{t.orders_completed}"),
        ("核实服务时长 Verified hours", f"{t.verified_hours:g} 小时"),
        ("参与志愿者 Volunteers", f"{t.volunteers_serving}"),
        ("回访率 Follow-up rate", _percent(t.follow_up_rate)),
        ("回访满意率 Satisfied after follow-up", _percent(t.satisfied_share)),
    ]
    rows = "".join(
        f"<li>{escape(r.completed_on)} · {escape(r.township)} · {escape(r.category)}"
        + (f" · {r.hours:g} 小时" if r.hours else "")
        + "</li>"
        for r in t.recent
    )
    body = (
        f'<p class="lead">{escape(settings.center_name)}</p><dl>'
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in figures)
        + "</dl><h2>最近办结的服务 Recent services</h2>"
        + (f"<ul>{rows}</ul>" if rows else "<p>暂无。</p>")
    )
    return _page("志愿服务公示 Volunteer service totals", body)


@pages.get("/verify/{code}")
async def verify_page(
    code: CertificateCode, db: DatabaseDep, settings: SettingsDep
) -> HTMLResponse:
    try:
        c = await db.run(records.check_certificate, code, secret=settings.signing_secret)
    except NotFound:
        body = (
            '<p role="alert"><strong>无效：</strong>此验证码不是本中心出具的证明。'
            " Not a valid code.</p>"
        )
        return _page("志愿服务记录证明查验", body)
    body = (
        "<p><strong>有效：</strong>本中心出具的志愿服务记录证明。 Valid.</p><dl>"
        f"<dt>姓名 Name</dt><dd>{escape(c.name)}</dd>"
        f"<dt>核实服务时长 Verified hours</dt><dd>{c.verified_hours:g} 小时</dd>"
        f"<dt>服务期间 Period</dt><dd>{escape(c.period_from)} 至 {escape(c.period_to)}</dd>"
        f"<dt>出具日期 Issued</dt><dd>{escape(c.issued_on)}</dd></dl>"
    )
    return _page("志愿服务记录证明查验", body)
