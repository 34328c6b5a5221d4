"""Every business failure a workflow can raise has its HTTP status, in the one mapping."""

from __future__ import annotations

from api.errors import STATUS_BY_TYPE
from api.main import create_app
from core.settings import Settings
from tests.api.auth_app import caller
from workflows.errors import BUSINESS_ERRORS


def test_every_business_error_maps_to_a_client_error() -> None:
    assert set(STATUS_BY_TYPE) == BUSINESS_ERRORS
    assert all(400 <= status < 500 for status in STATUS_BY_TYPE.values())


async def test_a_method_a_path_does_not_have_is_405_naming_every_method_it_documents() -> None:
    app = create_app(Settings(environment="test", database_url="sqlite:///unused.db"))
    documented = app.openapi()["paths"]
    async with caller(app) as api:
        for method, url, template in (
            ("DELETE", "/api/units/7", "/api/units/{unit_id}"),  # GET and PATCH: two routes
            ("OPTIONS", "/api/orders", "/api/orders"),
            (
                "PUT",
                "/api/volunteers/7/certificate.pdf",
                "/api/volunteers/{volunteer_id}/certificate.pdf",
            ),
        ):
            answer = await api.request(method, url)
            assert (answer.status_code, answer.json()["code"]) == (405, "MethodNotAllowed")
            allowed = {m.strip().lower() for m in answer.headers["allow"].split(",")}
            assert allowed == set(documented[template]), (method, url)
        unknown = await api.get("/api/no-such-thing")
        assert (unknown.status_code, unknown.json()["code"]) == (404, "NotFound")
