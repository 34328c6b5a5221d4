"""The per-address limits count the caller's real address: our nginx hands the API the
address it was called from, never an X-Forwarded-For list the caller could start itself
(the API trusts that header: ``--proxy-headers --forwarded-allow-ips "*"``, and uvicorn then
takes its first entry)."""

from __future__ import annotations

import re

import pytest

from core.settings import ROOT

pytestmark = pytest.mark.unit


def test_nginx_replaces_the_forwarded_for_header_with_the_callers_address() -> None:
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    api_server = nginx[: nginx.index("listen 8233")]
    assert re.findall(r"proxy_set_header\s+X-Forwarded-For\s+(\S+);", api_server) == [
        "$remote_addr"
    ]
    compose = (ROOT / "docker-compose.yml").read_text()
    assert '"--forwarded-allow-ips", "*"' in compose
