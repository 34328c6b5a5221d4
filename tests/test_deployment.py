"""docker-compose.yml cannot run here (no Docker engine); check it against the code instead."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from api.metrics import PREFIX, _families
from api.stores.metrics import LoopFigures
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
        settings_of(services[name])  # every value parses as the settings would read it


def settings_of(service: dict[str, Any]) -> Settings:
    values = {
        k.lower(): re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", v) for k, v in env_of(service).items()
    }
    # A variable the operator must set (``${X:?...}``) gets a value of the right shape.
    values = {
        k: re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", secrets.token_urlsafe(32), v) for k, v in values.items()
    }
    return Settings.model_validate(values)


def test_only_migrations_run_as_the_owner_of_the_tables(compose: dict[str, Any]) -> None:
    services = compose["services"]
    owner = services["postgresql"]["environment"]["POSTGRES_USER"]
    database = services["postgresql"]["environment"]["POSTGRES_DB"]
    migrate = settings_of(services["migrate"])
    assert migrate.migration_database_url is not None
    owner_url = make_url(migrate.migration_database_url)
    assert (owner_url.username, owner_url.host, owner_url.database) == (
        owner,
        "postgresql",
        database,
    )
    for name in ("api", "worker", "migrate"):
        app = make_url(settings_of(services[name]).database_url)
        # Another user, on the same database: the one core.migrate grants after migrating.
        assert app.username and app.username != owner, name
        assert (app.host, app.database) == ("postgresql", database), name
    # The API and the worker are never given the owner's password.
    for name in ("api", "worker"):
        env = env_of(services[name])
        assert "MIGRATION_DATABASE_URL" not in env, name
        assert not [k for k, v in env.items() if "POSTGRES_PASSWORD}" in v], name
    assert "${POSTGRES_APP_PASSWORD:?" in env_of(services["api"])["DATABASE_URL"]


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


def test_the_proxy_logs_no_query_string() -> None:
    """An SMS link's ``?t=<code>`` acts as its recipient: not in the proxy's access log."""
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    formats = dict(re.findall(r"log_format (\w+) ((?:'[^']*'\s*)+);", nginx))
    servers = nginx.split("server {")[1:]
    assert servers and formats
    for server in servers:
        logged = re.findall(r"access_log \S+ (\w+);", server)
        assert logged and set(logged) <= set(formats), server
    for name, line in formats.items():
        for variable in (
            "$request ",
            '$request"',
            "$request_uri",
            "$args",
            "$query_string",
            "$http_referer",
        ):
            assert variable not in line + " ", (name, variable)
        assert "$uri" in line


# --- Observability -----------------------------------------------------------------

OBSERVABILITY = ("prometheus", "grafana")


def _port(value: str) -> int:
    return int(str(value).rsplit(":", 1)[-1])


def test_prometheus_and_grafana_run_only_under_their_profile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in OBSERVABILITY:
        assert services[name]["profiles"] == ["observability"], name
    # Nothing the loop needs waits for them.
    for name, service in services.items():
        if name not in OBSERVABILITY:
            assert "profiles" not in service, name
            assert not set(service.get("depends_on") or ()) & set(OBSERVABILITY), name


def test_metrics_ports_are_scraped_inside_and_never_published(compose: dict[str, Any]) -> None:
    services = compose["services"]
    app = env_of(services["api"])
    api_port, worker_port = int(app["METRICS_PORT"]), int(app["WORKER_METRICS_PORT"])
    temporal_port = _port(services["temporal"]["environment"]["PROMETHEUS_ENDPOINT"])
    assert app["METRICS_HOST"] == "0.0.0.0"  # inside the container, for Prometheus
    assert env_of(services["worker"]) == app  # the worker reads WORKER_METRICS_PORT
    # Only the proxy publishes (see above): the API to all, the rest on the host's loopback
    # only, and it forwards to no metrics port.
    for mapping in services["proxy"]["ports"]:
        assert mapping == "8000:8000" or mapping.startswith("127.0.0.1:"), mapping
    upstreams = re.findall(r"http://([\w-]+:\d+)", (ROOT / "deploy" / "nginx.conf").read_text())
    assert upstreams and not {
        f"api:{api_port}",
        f"worker:{worker_port}",
        f"temporal:{temporal_port}",
        "prometheus:9090",
    } & set(upstreams)
    # Prometheus scrapes exactly those ports, and loads the alert rules it is given.
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["api"]["dns_sd_configs"][0] == {"names": ["api"], "type": "A", "port": api_port}
    assert jobs["worker"]["dns_sd_configs"][0]["port"] == worker_port
    assert jobs["temporal"]["static_configs"][0]["targets"] == [f"temporal:{temporal_port}"]
    mount = services["prometheus"]["volumes"][0].split(":")
    assert mount[:2] == ["./deploy/prometheus", "/etc/prometheus"]
    for rules in config["rule_files"]:
        assert (ROOT / "deploy" / "prometheus" / rules).exists()
    # The public proxy never forwards /metrics, even to an API serving it on its own port.
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    public = nginx[nginx.index("listen 8000") : nginx.index("listen 8233")]
    assert "location = /metrics" in public and "return 404" in public


def test_grafana_is_provisioned_with_the_dashboard(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"] if v.startswith("./"))
    provisioning = ROOT / mounts["./deploy/grafana/provisioning"].replace(
        "/etc/grafana/provisioning", "deploy/grafana/provisioning"
    )
    datasource = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    source = datasource["datasources"][0]
    assert source["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((provisioning / "dashboards" / "four-orders.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == mounts["./deploy/grafana/dashboards"]
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/four-orders.json").read_text())
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]
    titles = " ".join(p["title"] for p in dashboard["panels"])
    for shown in ("by status", "72-hour on-time", "queue depth", "latency"):
        assert shown in titles, shown
    # Reached through the proxy on the host's loopback, behind Grafana's own sign-in.
    assert "127.0.0.1:3000:3000" in compose["services"]["proxy"]["ports"]
    assert "grafana:3000" in (ROOT / "deploy" / "nginx.conf").read_text()
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_alerts_and_dashboard_name_only_series_that_exist() -> None:
    """Every ``fourorders_`` series the rules and the dashboard read is one the API exports."""
    exported = {family.name for family in _families(LoopFigures())}
    exported |= {f"{name}_total" for name in exported} | {PREFIX + "read_model_up"}
    deploy = ROOT / "deploy"
    used: set[str] = set()
    for path in (*deploy.glob("prometheus/*.yml"), *deploy.glob("grafana/dashboards/*.json")):
        used |= set(re.findall(r"\bfourorders_\w+", path.read_text()))
    assert used and used <= exported, used - exported
