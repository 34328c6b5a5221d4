"""One settings class for the API, the worker and the tools, read from the environment."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Final, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many
from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.calling_hours import CallingHours
from core.db import psycopg2_url
from core.durations import format_duration, parse_duration
from core.match_settings import Matching, Weights
from core.phones import e164
from core.quiet_hours import OfferTimeouts, QuietHours
from core.service_hours import RollWeights
from core.timeouts import MIN_COMMAND_TIMEOUT, WORKFLOW_TASK_SLOTS

ROOT = Path(__file__).resolve().parent.parent
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
# Signs tokens only where ENVIRONMENT=development is said outright: it is public, so anything
# else (an unset ENVIRONMENT included) must bring a JWT_SECRET of its own.
DEVELOPMENT_JWT_SECRET = "development-only-secret-never-use-in-production"
# What a production secret must carry, estimated from its characters (see secret_bits): a
# 32-byte random string (`openssl rand -base64 32`) estimates at about 200, a typed phrase or
# a repeated pattern far below.
MIN_SECRET_BITS = 128
MIN_SECRET_SYMBOLS = 16
# The county's clock: what people read (Beijing time), and what order numbers count months in.
DEFAULT_COUNTY_TIMEZONE = "Asia/Shanghai"
# The local Twilio simulator's account (``make run``): never a real one.
SIMULATOR_ACCOUNT_SID = "AC" + "0" * 32

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]


# The SMS signature carriers have registered for the center (``SMS_SIGNATURE``).
DEFAULT_SMS_SIGNATURE: Final = "【县新时代文明实践中心】"


class Settings(BaseSettings):
    """Everything the processes read from the environment (or a ``.env`` file)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{ROOT / 'data' / 'app.db'}"
    # The tables' owner, for migrations only (``core/migrate.py``); unset: DATABASE_URL's user.
    migration_database_url: str | None = None
    database_pool_size: int = 10

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "four-orders"
    temporal_ui_url: str = "http://localhost:8233"

    completion_sla: Duration = timedelta(hours=72)
    escalation_repeat: Duration = timedelta(hours=24)
    accept_timeout: Duration = timedelta(hours=4)
    # When offers' clocks stop (the accept and team-assign windows): nobody must answer at
    # night. ``HH:MM-HH:MM`` in COUNTY_TIMEZONE (may wrap midnight), or ``off``.
    quiet_hours: Annotated[QuietHours | None, NoDecode] = QuietHours(
        start_minute=21 * 60, end_minute=7 * 60
    )
    review_window: Duration = timedelta(days=3)

    # Dispatch (issue 3): a team leader's time to hand an order on, the dispatches tried
    # before an order is flagged undispatchable, how many an open call offers by default.
    team_assign_timeout: Duration = timedelta(hours=8)
    max_dispatch_attempts: int = Field(default=3, ge=1, le=20)
    open_call_size: int = Field(default=5, ge=2, le=50)
    # Ranking weights (see core/matching.py), the proximity radius and the county's clock.
    match_weight_proximity: float = Field(default=0.35, ge=0)
    match_weight_skill: float = Field(default=0.30, ge=0)
    match_weight_trade: float = Field(default=0.15, ge=0)
    match_weight_fit: float = Field(default=0.20, ge=0)
    match_radius_km: float = Field(default=30.0, gt=0)
    county_timezone: str = DEFAULT_COUNTY_TIMEZONE

    # Twilio (issue 4). With no account set, automated calls and SMS are off and every
    # follow-up goes straight to call-center staff; `make run` starts the local simulator.
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    # Where Twilio reaches this API from outside (scheme, host, port and any proxy prefix):
    # webhook URLs are built from it and their signatures checked against it.
    public_base_url: str = "http://localhost:8000"
    # How the follow-up call introduces itself to residents.
    center_name: str = "县新时代文明实践中心"
    # What every SMS starts with, sign-in codes and order notices alike: carriers register
    # one signature per sender, so there is one, set here.
    sms_signature: str = Field(default=DEFAULT_SMS_SIGNATURE, pattern=r"^【[^【】]{1,30}】$")
    # Residents' and volunteers' numbers without "+" are in this country (China: 86).
    default_country_code: str = Field(default="86", pattern=r"^[1-9][0-9]{0,2}$")

    # The automated follow-up call (回访): attempts, spacing, when a call may ring at all,
    # and how long a placed call may take to report how it ended.
    follow_up_max_calls: int = Field(default=3, ge=0, le=10)
    follow_up_retry_delay: Duration = timedelta(hours=4)
    follow_up_call_timeout: Duration = timedelta(minutes=30)
    calling_hours: Annotated[CallingHours, NoDecode] = CallingHours(
        start_minute=8 * 60, end_minute=20 * 60
    )
    # A call-center agent's claim on a task lapses after this, returning it to the queue.
    claim_lease: Duration = timedelta(minutes=30)

    # SMS at the moments that matter; escalations go to these admins' numbers.
    sms_enabled: bool = True
    escalation_sms_to: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # How long the API waits for a workflow to apply a command before answering 504: at
    # least two lost projection attempts and their retries (see core/timeouts.py).
    command_timeout: Duration = timedelta(seconds=30)

    # Sign-in (issue 11). Access tokens are short; refresh tokens rotate on every use; the
    # order links in our SMS open one order for as long as a follow-up may take.
    jwt_secret: SecretStr | None = None
    access_token_ttl: Duration = timedelta(minutes=15)
    # How stale an access token's account may be: disabling staff or a volunteer, or changing
    # a staff member's townships, reaches every request within this (docs/api.md, "Who may
    # do what").
    principal_refresh: Duration = timedelta(seconds=5)
    refresh_token_ttl: Duration = timedelta(days=30)
    order_link_ttl: Duration = timedelta(days=14)
    sms_code_ttl: Duration = timedelta(minutes=5)
    sms_code_max_attempts: int = Field(default=5, ge=1, le=10)
    login_max_failures: int = Field(default=5, ge=1, le=20)
    login_lockout: Duration = timedelta(minutes=15)
    # A county admin created at start-up when no admin account exists yet.
    bootstrap_admin_username: str | None = None
    bootstrap_admin_password: SecretStr | None = None
    # What residents see instead of a volunteer's own number.
    center_hotline: str = "12345"
    # Where 0 on the center's keypad menu puts a caller through (E.164); unset, they get a
    # call-back task in the call-center queue instead.
    hotline_forward_to: str | None = None

    # The apps (issue 12): how often a resident may hurry an order (催办); how long after an
    # online review the follow-up call waits (it then asks to confirm that rating).
    hurry_interval: Duration = timedelta(hours=1)
    follow_up_after_review: Duration = timedelta(hours=2)
    # Volunteers' photos of the work, in this folder (under the data dir by default), or in
    # S3-compatible storage when OBJECT_STORE_URL is set (``http(s)://host[:port]/bucket``).
    media_dir: Path = ROOT / "data" / "media"
    object_store_url: str | None = Field(
        default=None, pattern=r"^https?://[^/\s]+/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/?$"
    )
    object_store_access_key: str | None = None
    object_store_secret_key: SecretStr | None = None
    object_store_region: str = "us-east-1"
    # At most 5 MB: the body limit lets a photo upload through only up to about that.
    photo_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=5 * 1024 * 1024)
    # Photos decoded at once by each API process: each may hold a few hundred MB meanwhile.
    photo_decodes_at_once: int = Field(default=2, ge=1, le=16)

    # Abuse limits, in the ``limits`` notation; shared by replicas through Redis when
    # RATE_LIMIT_STORAGE_URL is set (redis://...), else kept in each process.
    sms_code_per_number: str = "1/minute;10/day"
    sms_code_per_ip: str = "20/minute"
    order_submit_per_resident: str = "10/day"
    order_submit_per_ip: str = "60/minute"
    # Calls and texts to the center's number, per calling number: a dialer stuck on redial
    # or a flood of texts makes no more tasks, orders or answers than this.
    inbound_per_number: str = "20/hour;100/day"
    login_per_ip: str = "20/minute"
    rate_limit_storage_url: str | None = None

    # The interactive API docs (/docs); off in production unless enabled.
    docs_enabled: bool | None = None

    # Temporal Cloud or a secured cluster: TLS with a private CA or client certificate, or
    # an API key.
    temporal_tls: bool = False
    temporal_tls_ca_path: Path | None = None
    temporal_tls_cert_path: Path | None = None
    temporal_tls_key_path: Path | None = None
    temporal_api_key: SecretStr | None = None
    # How long a worker or the API waits for Temporal at start-up before giving up.
    temporal_connect_timeout: Duration = timedelta(minutes=2)

    # Honour rolls (评先选优, issue 14): the weights of verified hours, the share of
    # very-satisfied ratings after follow-up, on-time completion and freedom from complaints
    # (see workflows/recognition/ranking.py), and how many a roll names.
    recognition_weight_hours: float = Field(default=0.4, ge=0)
    recognition_weight_very_satisfied: float = Field(default=0.3, ge=0)
    recognition_weight_on_time: float = Field(default=0.2, ge=0)
    recognition_weight_no_complaints: float = Field(default=0.1, ge=0)
    recognition_roll_size: int = Field(default=50, ge=1, le=1000)

    worker_max_concurrent_activities: int = 50
    # On SIGTERM the worker stops polling and gives in-flight activities this long to finish.
    worker_shutdown_grace: Duration = timedelta(seconds=30)
    worker_max_cached_workflows: int = 1000
    # Temporal's workflow sandbox re-imports the workflow modules for each workflow it loads
    # and runs generated code for every payload it converts: replaying our histories costs
    # about three times the CPU inside it (issue 15). What it guards, no clock, randomness or
    # I/O in workflow code, the tests guard instead: the workflow tests and every replay run
    # sandboxed, so a forbidden call fails there, before it could reach a worker.
    workflow_sandbox: bool = False
    # Workflow tasks one worker holds at once (see core/timeouts.py, WORKFLOW_TASK_SLOTS).
    worker_max_concurrent_workflow_tasks: int = Field(default=WORKFLOW_TASK_SLOTS, ge=2)

    page_size_max: int = 200

    # Observability (issue 18). Logs: one JSON object per line, or plain text (the default in
    # development only). Metrics: the API serves /metrics on its own port unless METRICS_PORT
    # is set (then there only, never through the public proxy; production serves it nowhere
    # else); the worker serves the Temporal SDK's metrics on WORKER_METRICS_PORT. Both bind
    # METRICS_HOST. Business gauges are read from the database at most every METRICS_REFRESH.
    # Traces go to OTEL_EXPORTER_OTLP_ENDPOINT (OTLP over HTTP) when set, and are off otherwise.
    log_format: Literal["json", "text"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    metrics_refresh: Duration = timedelta(seconds=15)
    otel_exporter_otlp_endpoint: str | None = None

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _psycopg2_driver(cls, value: str | None) -> str | None:
        # DATABASE_URL=postgresql://... (or postgres://...) means psycopg2, which we install.
        return psycopg2_url(value) if value is not None else None

    @field_validator("county_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("calling_hours", mode="before")
    @classmethod
    def _parse_calling_hours(cls, value: object) -> object:
        return CallingHours.parse(value) if isinstance(value, str) else value

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _parse_quiet_hours(cls, value: object) -> object:
        if isinstance(value, str):
            return None if value.strip().lower() in ("", "off") else QuietHours.parse(value)
        return value

    @model_validator(mode="after")
    def _quiet_in_county_time(self) -> Settings:
        # The quiet hours are the county's nights, whatever zone they were written with.
        if self.quiet_hours is not None and self.quiet_hours.timezone != self.county_timezone:
            self.quiet_hours = replace(self.quiet_hours, timezone=self.county_timezone)
        return self

    @field_validator("escalation_sms_to", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator(
        "sms_code_per_number",
        "sms_code_per_ip",
        "order_submit_per_resident",
        "order_submit_per_ip",
        "inbound_per_number",
        "login_per_ip",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit such as '10/minute;100/day': {value!r}") from exc
        return value

    @property
    def signing_secret(self) -> str:
        """The key tokens and SMS codes are signed with (the public one in development only)."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        return DEVELOPMENT_JWT_SECRET

    @property
    def docs_on(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else not self.production

    @property
    def logs_as_json(self) -> bool:
        return self.log_format == "json" or (
            self.log_format is None and self.environment != "development"
        )

    @property
    def metrics_on_api_port(self) -> bool:
        """/metrics beside the API: in development and tests, unless it has its own port."""
        return self.metrics_port is None and not self.production

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number)

    @property
    def offers(self) -> OfferTimeouts:
        """How long offers wait for an answer, for the pages and the texts (the workflow has
        the same durations in its input)."""
        return OfferTimeouts(
            accept=self.accept_timeout, team_assign=self.team_assign_timeout, quiet=self.quiet_hours
        )

    @property
    def matching(self) -> Matching:
        return Matching(
            weights=Weights(
                proximity=self.match_weight_proximity,
                skill=self.match_weight_skill,
                trade=self.match_weight_trade,
                fit=self.match_weight_fit,
            ),
            radius_km=self.match_radius_km,
            timezone=self.county_timezone,
        )

    @property
    def recognition_weights(self) -> RollWeights:
        return RollWeights(
            hours=self.recognition_weight_hours,
            very_satisfied=self.recognition_weight_very_satisfied,
            on_time=self.recognition_weight_on_time,
            no_complaints=self.recognition_weight_no_complaints,
        )

    @field_validator(
        "twilio_account_sid",
        "twilio_from_number",
        "twilio_auth_token",
        "bootstrap_admin_username",
        "bootstrap_admin_password",
        "rate_limit_storage_url",
        "temporal_api_key",
        "object_store_url",
        "object_store_access_key",
        "object_store_secret_key",
        "log_format",
        "metrics_port",
        "worker_metrics_port",
        "otel_exporter_otlp_endpoint",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # docker compose passes unset variables as "": that means not set.
        return None if value == "" else value

    @model_validator(mode="after")
    def _production_needs_real_database(self) -> Settings:
        # An unset ENVIRONMENT reads as development, but must not sign with the public
        # development secret: a forgotten variable on a server would accept forged tokens.
        if self.jwt_secret is None and not (
            self.environment == "development" and "environment" in self.model_fields_set
        ):
            raise ValueError(
                "JWT_SECRET is not set: set it to a random string of 32 or more characters "
                "(openssl rand -base64 48), or ENVIRONMENT=development for a local trial"
            )
        if self.environment == "production" and self.database_url.startswith("sqlite"):
            raise ValueError("DATABASE_URL must point at PostgreSQL in production")
        partly = [
            self.twilio_account_sid is not None,
            self.twilio_auth_token is not None,
            self.twilio_from_number is not None,
        ]
        if any(partly) and not all(partly):
            raise ValueError(
                "set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER together"
            )
        if self.environment == "production" and self.twilio_configured:
            url = urlsplit(self.public_base_url)
            if url.scheme != "https" or url.hostname in LOCAL_HOSTS:
                raise ValueError(
                    "with a Twilio account, PUBLIC_BASE_URL must be the https address Twilio "
                    f"reaches the API at, not {self.public_base_url!r}"
                )
        if self.command_timeout < MIN_COMMAND_TIMEOUT:
            raise ValueError(
                f"COMMAND_TIMEOUT must be {format_duration(MIN_COMMAND_TIMEOUT)} or more: a "
                "worker lost mid-command costs a database attempt and a retry, twice over"
            )
        if self.object_store_url is not None and (
            self.object_store_access_key is None or self.object_store_secret_key is None
        ):
            raise ValueError(
                "with OBJECT_STORE_URL, set OBJECT_STORE_ACCESS_KEY and OBJECT_STORE_SECRET_KEY"
            )
        if (self.temporal_tls_cert_path is None) != (self.temporal_tls_key_path is None):
            raise ValueError("set TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH together")
        if self.environment == "production":
            self._refuse_unsafe_production()
        if (
            self.twilio_from_number is not None
            and e164(self.twilio_from_number, country_code=self.default_country_code)
            != self.twilio_from_number
        ):
            raise ValueError(
                f"TWILIO_FROM_NUMBER must be in E.164 (+<country><number>), "
                f"got {self.twilio_from_number!r}"
            )
        return self

    def _refuse_unsafe_production(self) -> None:
        secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
        if (
            len(secret) < 32
            or secret == DEVELOPMENT_JWT_SECRET
            or len(set(secret)) < MIN_SECRET_SYMBOLS
            or secret_bits(secret) < MIN_SECRET_BITS
        ):
            raise ValueError(
                "JWT_SECRET must be a random string of 32 or more characters "
                "(openssl rand -base64 48): this one is too short or too predictable"
            )
        if self.twilio_configured:
            api = urlsplit(self.twilio_api_base_url)
            if api.scheme != "https" or api.hostname in LOCAL_HOSTS:
                raise ValueError(
                    "TWILIO_API_BASE_URL must be Twilio's https API, "
                    f"not {self.twilio_api_base_url!r}"
                )
            if self.twilio_account_sid == SIMULATOR_ACCOUNT_SID:
                raise ValueError("TWILIO_ACCOUNT_SID is the local simulator's development account")
        if self.bootstrap_admin_password is not None and (
            len(self.bootstrap_admin_password.get_secret_value()) < 12
        ):
            raise ValueError("BOOTSTRAP_ADMIN_PASSWORD must be 12 characters or more")


def secret_bits(secret: str) -> float:
    """The secret's entropy in bits as its own character frequencies estimate it.

    An upper bound for what a person typed (a phrase scores as if its letters were random),
    but what matters here is the floor: "aaaa…", "abab…" and short alphabets score low.
    """
    counts = Counter(secret)
    per_symbol = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_symbol * len(secret)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` and pass them in."""
    return Settings()
