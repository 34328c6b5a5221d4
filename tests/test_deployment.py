"""docker-compose.yml cannot run here (no Docker engine); check it against the code instead."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.search_attributes import SEARCH_ATTRIBUTES
from core.settings import ROOT, Settings


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def env_of(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (service.get("environment") or {}).items()}


def test_services_of_the_production_shape(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in (
        "postgresql",
        "temporal",
        "temporal-ui",
        "api",
        "worker",
        "migrate",
        "proxy",
        "redis",
    ):
        assert name in services, name
    assert "auto-setup" in services["temporal"]["image"]  # a real server, not start-dev
    assert services["temporal"]["environment"]["DB"].startswith("postgres")
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["worker"]["deploy"]["replicas"] >= 2
    for name in ("postgresql", "temporal", "api"):
        assert "healthcheck" in services[name], name


def test_app_environment_is_what_the_settings_read(compose: dict[str, Any]) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    services = compose["services"]
    for name in ("api", "worker", "migrate"):
        env = env_of(services[name])
        unknown = set(env) - fields
        assert not unknown, f"{name} sets variables no setting reads: {unknown}"
        assert env["ENVIRONMENT"] == "production"
        assert "@postgresql:5432/" in env["DATABASE_URL"]
        host = env["TEMPORAL_ADDRESS"].split(":")[0]
        assert host in services
        # Every value must parse as the settings would read it.
        values = {k.lower(): re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", v) for k, v in env.items()}
        # A variable the operator must set (``${X:?...}``) gets a value of the right shape.
        values = {k: re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "s" * 40, v) for k, v in values.items()}
        values["database_url"] = "postgresql+psycopg2://u:p@postgresql:5432/fourorders"
        Settings.model_validate(values)


def test_search_attributes_registered_match_the_workflow(compose: dict[str, Any]) -> None:
    command = " ".join(compose["services"]["temporal-setup"]["command"])
    registered = dict(re.findall(r"(\w+)=(Keyword|Bool|Int)\b", command))
    expected = {k.name: k.indexed_value_type.name.title() for k in SEARCH_ATTRIBUTES}
    assert registered == expected


def test_ports_and_commands_exist(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "8000:8000" in services["proxy"]["ports"]
    assert services["worker"]["command"] == ["python", "worker.py"]
    assert (ROOT / "worker.py").exists()
    assert "api.main:app" in services["api"]["command"]
    conf = services["proxy"]["volumes"][0].split(":")[0]
    assert (ROOT / Path(conf)).exists()
    dockerfile = (ROOT / "Dockerfile").read_text()
    for folder in ("core", "workflows", "activities", "api", "migrations"):
        assert f"COPY {folder} {folder}" in dockerfile


def test_only_the_proxy_is_published_and_the_temporal_ui_is_not_open(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert set(published) == {"proxy"}
    # The Temporal UI: on the host's loopback, behind the proxy's password, read-only.
    assert "127.0.0.1:8233:8233" in published["proxy"]
    ui = env_of(services["temporal-ui"])
    assert ui["TEMPORAL_UI_DISABLE_WRITE_ACTIONS"] == "true"
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    ui_server = nginx[nginx.index("listen 8233") :]
    assert "auth_basic_user_file" in ui_server and "temporal-ui:8080" in ui_server
    # Rate limits are shared by the API replicas through Redis.
    assert env_of(services["api"])["RATE_LIMIT_STORAGE_URL"].startswith("redis://redis:")
    assert "${JWT_SECRET:?" in env_of(services["api"])["JWT_SECRET"]
