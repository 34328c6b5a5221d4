"""How the Temporal client is secured: plain, TLS with the system's roots, or a private CA."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from temporalio.service import TLSConfig

from core.settings import Settings
from core.temporal import tls_config

pytestmark = pytest.mark.unit


def test_plain_by_default_and_tls_when_asked_or_with_an_api_key() -> None:
    assert tls_config(Settings()) is False
    assert tls_config(Settings(temporal_tls=True)) is True
    assert tls_config(Settings(temporal_api_key=SecretStr("key"))) is True


def test_a_private_ca_and_client_certificate_are_read_from_files(tmp_path: Path) -> None:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_bytes(f"--{name}--".encode())
    config = tls_config(
        Settings(
            temporal_tls_ca_path=tmp_path / "ca.pem",
            temporal_tls_cert_path=tmp_path / "client.pem",
            temporal_tls_key_path=tmp_path / "client.key",
        )
    )
    assert isinstance(config, TLSConfig)
    assert (config.server_root_ca_cert, config.client_cert, config.client_private_key) == (
        b"--ca.pem--",
        b"--client.pem--",
        b"--client.key--",
    )


def test_a_client_certificate_needs_its_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="together"):
        Settings(temporal_tls_cert_path=tmp_path / "client.pem")
