"""Fixtures for contract tests against Twilio's OpenAPI description (Prism mock server).

A contract test sends the project's real Twilio requests, through the real twilio SDK, to
``prism mock`` of Twilio's published API description; Prism refuses any request the
description does not allow. Add one for a new Twilio-using module like this::

    def test_my_activity_requests_match_twilios_spec(prism_base_url: str) -> None:
        client, http = contract_client(prism_base_url)   # from tests.contract.helpers
        my_activity_send(client, ...)   # or build the activity's client with this base URL
        assert_accepted(http)

When Prism or the spec is missing the tests are skipped with a message saying how to install
them; set ``CONTRACT_TESTS_REQUIRED=1`` (as CI should) to make that a failure instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.contract.prism import INSTALL_HINT, PrismMock, load_spec, prism_path, spec_path


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CONTRACT_TESTS_REQUIRED", "") not in ("", "0"):
        pytest.fail(f"{reason} (CONTRACT_TESTS_REQUIRED is set)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def twilio_spec_path() -> Path:
    path = spec_path()
    if not path.is_file():
        _unavailable(
            f"Twilio's OpenAPI description is not at {path}: set TWILIO_OPENAPI_SPEC to a copy"
            " (tests/contract/twilio_spec/ has one)"
        )
    return path


@pytest.fixture(scope="session")
def twilio_spec(twilio_spec_path: Path) -> dict[str, Any]:
    return load_spec(twilio_spec_path)


@pytest.fixture(scope="session")
def prism_base_url(
    twilio_spec_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Base URL of ``prism mock --errors`` serving Twilio's API v2010 description."""
    prism = prism_path()
    if prism is None:
        _unavailable(f"Stoplight Prism is not installed: {INSTALL_HINT}")
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    mock = PrismMock(prism, twilio_spec_path, log).start()
    try:
        yield mock.base_url
    finally:
        mock.stop()
