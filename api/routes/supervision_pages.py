"""The supervision screen (项目监管入屏端) of the admin console: ``/console/supervision``.

One page over ``GET /api/reports/overview``: live counts, the trend, the 72-hour on-time
rate, ratings before and after the follow-up verified them, overdue orders by township,
drawn with the vendored Apache ECharts (``static/vendor/echarts``).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.web.render import TEMPLATES, PagesDep

router = APIRouter(include_in_schema=False)
# The console's own layout (its navigation) when the console is in this tree.
CONSOLE = TEMPLATES / "console" / "layout.html"


@router.get("/console/supervision")
async def supervision(pages: PagesDep) -> HTMLResponse:
    layout = "console/layout.html" if CONSOLE.exists() else "desk.html"
    return pages.render("console/supervision.html", app="console", layout=layout)
