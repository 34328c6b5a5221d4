"""Chinese by default; English when the reader asks, remembered; scripts get their catalog."""

from __future__ import annotations

import json
import re

import httpx

from api.database import Database
from core.settings import Settings
from tests.api.auth_app import app_on


def page_data(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


async def test_pages_are_chinese_until_the_reader_switches_and_the_choice_sticks(
    database: Database, settings: Settings
) -> None:
    transport = httpx.ASGITransport(app=app_on(database, settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as web:
        first = await web.get("/")
        assert '<html lang="zh-CN">' in first.text and "我要求助" in first.text
        assert 'href="/?lang=en"' in first.text
        assert page_data(first.text)["errors"]["RateLimited"] == "操作太频繁了，请稍等一会儿再试。"  # type: ignore[index]

        switched = await web.get("/", params={"lang": "en"})
        assert '<html lang="en">' in switched.text and "Ask for help" in switched.text
        assert "我要求助" not in switched.text
        data = page_data(switched.text)
        assert data["messages"]["待派单"] == "Waiting for a volunteer"  # type: ignore[index]
        assert data["errors"]["InvalidTransition"].startswith("That cannot be done now")  # type: ignore[index]
        assert data["tz_label"] == "Beijing time"

        # The cookie remembers it on the next page; asking for Chinese switches back.
        again = await web.get("/orders/0123456789abcdef")
        assert '<html lang="en">' in again.text
        back = await web.get("/", params={"lang": "zh-CN"})
        assert '<html lang="zh-CN">' in back.text

        # An unknown language is ignored, not an error.
        odd = await web.get("/", params={"lang": "xx"})
        assert odd.status_code == 200 and '<html lang="zh-CN">' in odd.text
