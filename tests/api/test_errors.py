"""Every business failure a workflow can raise has its HTTP status, in the one mapping."""

from __future__ import annotations

from api.errors import STATUS_BY_TYPE
from workflows.errors import BUSINESS_ERRORS


def test_every_business_error_maps_to_a_client_error() -> None:
    assert set(STATUS_BY_TYPE) == BUSINESS_ERRORS
    assert all(400 <= status < 500 for status in STATUS_BY_TYPE.values())
