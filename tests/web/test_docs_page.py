"""/docs in Debian's Chromium with every request to another origin blocked: the vendored
Swagger UI renders every operation under our Content-Security-Policy, and its "Authorize"
signs a staff member in through /api/auth/token. The resident pages break no CSP rule."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from playwright.async_api import ConsoleMessage, Page, Route, expect

from api.database import Database
from tests.api.auth_app import add_staff
from tests.signin import STAFF_PASSWORD
from tests.web.conftest import SHOTS


async def only_our_server(page: Page, origin: str) -> tuple[list[str], list[str]]:
    """Block every request elsewhere; collect those and the browser's CSP complaints."""
    elsewhere: list[str] = []
    complaints: list[str] = []

    async def route(route: Route) -> None:
        if route.request.url.startswith(origin + "/"):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            complaints.append(message.text)

    on_error: Callable[[Exception], None] = lambda exc: complaints.append(str(exc))  # noqa: E731
    await page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", on_error)
    return elsewhere, complaints


async def test_docs_render_every_operation_offline_and_authorize_signs_staff_in(
    page: Page, live_url: str, database: Database
) -> None:
    elsewhere, complaints = await only_our_server(page, live_url)
    async with httpx.AsyncClient(base_url=live_url) as api:
        document = (await api.get("/openapi.json")).json()
    operations = sum(len(methods) for methods in document["paths"].values())
    _, username = await add_staff(database)

    await page.goto(live_url + "/docs")
    await expect(page.locator(".opblock")).to_have_count(operations)
    await expect(
        page.locator("#operations-sign-in-sms_login_api_auth_sms_login_post")
    ).to_be_visible()
    await page.screenshot(path=str(SHOTS / "docs.png"))

    await page.click("button.authorize")
    await page.fill("#oauth_username", username)
    await page.fill("#oauth_password", STAFF_PASSWORD)
    await page.click(".auth-btn-wrapper button.authorize")
    await expect(page.locator(".auth-container h6", has_text="Authorized")).to_be_visible()
    await page.click(".auth-btn-wrapper button.btn-done")

    me = page.locator("#operations-sign-in-me_api_me_get")
    await me.locator(".opblock-summary").click()
    await me.locator(".try-out__btn").click()
    await me.locator("button.execute").click()
    await expect(me.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    await expect(me.locator(".live-responses-table")).to_contain_text('"roles": [')

    assert elsewhere == []
    assert complaints == []


async def test_the_resident_pages_break_no_csp_rule(page: Page, live_url: str) -> None:
    elsewhere, complaints = await only_our_server(page, live_url)
    response = await page.goto(live_url + "/")
    assert (
        response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    )
    # The form's script ran: it filled the service menu from the API.
    await expect(page.locator("#item_code option[value='care.errands']")).to_have_count(1)
    await page.goto(live_url + "/orders/AAAAAAAAAAAAAAAA")
    await expect(page.locator("main")).to_be_visible()
    assert elsewhere == []
    assert [c for c in complaints if "Content Security Policy" in c] == []
