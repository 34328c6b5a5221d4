"""Security headers on every response (pages, JSON, errors, 404s, a crash), HSTS only in
production, and /docs with /openapi.json only where the docs are on."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from api.database import Database
from core.settings import Settings
from tests.api.auth_app import app_on, caller

EXPECTED = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def production(settings: Settings, **update: object) -> Settings:
    return Settings(
        environment="production",
        database_url=settings.database_url,
        jwt_secret=SecretStr("a-production-secret-of-forty-characters!"),
        **update,  # type: ignore[arg-type]
    )


async def every_kind_of_response(api: httpx.AsyncClient) -> list[httpx.Response]:
    return [
        await api.get("/"),
        await api.get("/static/css/app.css"),
        await api.get("/api/catalog"),
        await api.get("/no/such/page"),
        await api.get("/api/me"),
        await api.post("/api/auth/login", json={"username": "x"}),
        await api.get("/api/staff/1"),  # no such method
        await api.get("/boom"),
    ]


def with_a_crash(app: object) -> None:
    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)  # type: ignore[attr-defined]


async def test_every_response_carries_the_security_headers(
    database: Database, settings: Settings
) -> None:
    app = app_on(database, settings)
    with_a_crash(app)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
        responses = await every_kind_of_response(api)
    assert [r.status_code for r in responses] == [200, 200, 200, 404, 401, 422, 405, 500]
    for response in responses:
        assert {k: response.headers.get(k) for k in EXPECTED} == EXPECTED, response.url
        assert "strict-transport-security" not in response.headers


async def test_hsts_in_production_only(database: Database, settings: Settings) -> None:
    app = app_on(database, production(settings))
    with_a_crash(app)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
        responses = await every_kind_of_response(api)
    for response in responses:
        assert response.headers["strict-transport-security"] == (
            "max-age=31536000; includeSubDomains"
        )
        assert response.headers["content-security-policy"] == EXPECTED["content-security-policy"]


async def test_docs_are_served_from_our_own_files(database: Database, settings: Settings) -> None:
    async with caller(app_on(database, settings)) as api:
        page = await api.get("/docs")
        document = await api.get("/openapi.json")
        assets = [
            await api.get(path)
            for path in (
                "/static/vendor/swagger-ui/swagger-ui.css",
                "/static/vendor/swagger-ui/swagger-ui-bundle.js",
                "/static/js/docs.js",
            )
        ]
        redoc = await api.get("/redoc")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # No inline script, nothing from another origin.
    assert "<script>" not in page.text and "//" not in page.text
    for src in ("swagger-ui.css", "swagger-ui-bundle.js", "/static/js/docs.js"):
        assert src in page.text
    assert all(a.status_code == 200 for a in assets)
    assert redoc.status_code == 404
    schemes = document.json()["components"]["securitySchemes"]
    assert schemes == {
        "OAuth2PasswordBearer": {
            "type": "oauth2",
            "flows": {"password": {"scopes": {}, "tokenUrl": "/api/auth/token"}},
        }
    }
    assert "/api/auth/sms-code" in document.json()["paths"]


@pytest.mark.parametrize(
    ("environment", "docs_enabled", "served"),
    [
        ("test", None, True),
        ("development", None, True),
        ("development", False, False),
        ("production", None, False),
        ("production", True, True),
    ],
)
async def test_docs_only_where_they_are_on(
    database: Database,
    settings: Settings,
    environment: str,
    docs_enabled: bool | None,
    served: bool,
) -> None:
    if environment == "production":
        chosen = production(settings, docs_enabled=docs_enabled)
    else:
        chosen = settings.model_copy(
            update={"environment": environment, "docs_enabled": docs_enabled}
        )
    async with caller(app_on(database, chosen)) as api:
        answers = [await api.get("/docs"), await api.get("/openapi.json")]
        unknown = await api.get("/no/such/page")
    assert [a.status_code for a in answers] == ([200, 200] if served else [404, 404])
    if not served:  # indistinguishable from any unknown path
        assert all(a.json() == unknown.json() for a in answers)
