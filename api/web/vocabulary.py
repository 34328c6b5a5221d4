"""The words staff read for each order status: one vocabulary for every staff screen and file.

The console's pages read them from the page's data (in the reader's language); the exports
write them in Chinese. "已办结" is the closed order and nothing else: an order completed but
not yet reviewed and followed up is "已完成，待评价".
"""

from __future__ import annotations

from typing import Final

from api.web.error_text import N_

STATUS: Final[dict[str, str]] = {
    "pending": N_("待派单"),
    "dispatched": N_("已派单"),
    "accepted": N_("已接单"),
    "completed": N_("已完成，待评价"),
    "reviewed": N_("已评价，待回访"),
    "closed": N_("已办结"),
    "cancelled": N_("已取消"),
}
