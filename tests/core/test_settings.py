from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import SecretStr, ValidationError

from core.db import make_engine
from core.durations import format_duration, parse_duration
from core.settings import DEVELOPMENT_JWT_SECRET, SIMULATOR_ACCOUNT_SID, Settings
from core.timeouts import DATABASE_ATTEMPT, DATABASE_FIRST_RETRY

pytestmark = pytest.mark.unit

SECRET = "G7yq-3Lk_p0vWZ2sXb9RtC4nJmE8hUaD6fQiYo1K"  # 40 random characters, as a server's


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("3d", timedelta(days=3)),
        ("1h30m", timedelta(minutes=90)),
        (" 72H ", timedelta(hours=72)),
        ("45", timedelta(seconds=45)),
    ],
)
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected


@pytest.mark.parametrize("text", ["", "h", "4x", "-4h", "0s", "4h junk", "1.5h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_timers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLETION_SLA", "30s")
    monkeypatch.setenv("ESCALATION_REPEAT", "15m")
    monkeypatch.setenv("ACCEPT_TIMEOUT", "2h")
    monkeypatch.setenv("REVIEW_WINDOW", "1d")
    s = Settings()
    assert (s.completion_sla, s.escalation_repeat, s.accept_timeout, s.review_window) == (
        timedelta(seconds=30),
        timedelta(minutes=15),
        timedelta(hours=2),
        timedelta(days=1),
    )


def test_defaults_match_the_county_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COMPLETION_SLA", "ESCALATION_REPEAT", "ACCEPT_TIMEOUT", "REVIEW_WINDOW"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert s.completion_sla == timedelta(hours=72)
    assert s.escalation_repeat == timedelta(hours=24)
    assert s.accept_timeout == timedelta(hours=4)
    assert s.review_window == timedelta(days=3)


def test_bad_timer_setting_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCEPT_TIMEOUT", "soon")
    with pytest.raises(ValidationError, match="invalid duration"):
        Settings()


def test_production_refuses_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://user@host/db", "postgresql+psycopg2://user@host/db"),
        ("postgres://u:p@db.example.org:5433/app?sslmode=require",
         "postgresql+psycopg2://u:p@db.example.org:5433/app?sslmode=require"),
        ("PostgreSQL://user@host/db", "postgresql+psycopg2://user@host/db"),
        ("postgresql+psycopg2://user@host/db", "postgresql+psycopg2://user@host/db"),
        ("sqlite:///data/app.db", "sqlite:///data/app.db"),
    ],
)  # fmt: skip
def test_plain_postgresql_urls_mean_psycopg2(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    # SQLAlchemy 2.1 maps a plain postgresql:// to psycopg 3, which is not installed:
    # `make run` died with "No module named 'psycopg'".
    monkeypatch.setenv("DATABASE_URL", given)
    url = Settings().database_url
    assert url == expected
    engine = make_engine(url)  # loads the driver, connects to nothing
    assert engine.dialect.driver == ("psycopg2" if "postgres" in given.lower() else "pysqlite")
    engine.dispose()


TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "s3cret-auth",
    "TWILIO_FROM_NUMBER": "+862388880000",
}


def test_twilio_settings_come_together_and_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TWILIO["TWILIO_ACCOUNT_SID"])
    with pytest.raises(ValidationError, match="together"):
        Settings()
    for name, value in TWILIO.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CALLING_HOURS", "09:00-18:30")
    monkeypatch.setenv("ESCALATION_SMS_TO", "+8613900000001, +8613900000002")
    settings = Settings()
    assert settings.twilio_configured
    assert (settings.calling_hours.start_minute, settings.calling_hours.end_minute) == (540, 1110)
    assert settings.escalation_sms_to == ["+8613900000001", "+8613900000002"]
    assert "s3cret-auth" not in repr(settings)  # the auth token is a secret

    monkeypatch.setenv("TWILIO_FROM_NUMBER", "02388880000")
    with pytest.raises(ValidationError, match=r"E\.164"):
        Settings()
    monkeypatch.setenv("TWILIO_FROM_NUMBER", TWILIO["TWILIO_FROM_NUMBER"])
    monkeypatch.setenv("CALLING_HOURS", "20:00-08:00")
    with pytest.raises(ValidationError, match="within one day"):
        Settings()


def test_empty_twilio_variables_mean_no_account(monkeypatch: pytest.MonkeyPatch) -> None:
    # What docker compose passes for unset variables.
    for name in TWILIO:
        monkeypatch.setenv(name, "")
    assert not Settings().twilio_configured


def test_production_twilio_needs_a_public_https_address(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in TWILIO.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://u@db/app")
    monkeypatch.setenv("JWT_SECRET", SECRET)
    with pytest.raises(ValidationError, match="PUBLIC_BASE_URL"):
        Settings()
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://volunteer.example.org/fourorders")
    assert Settings().twilio_configured


@pytest.mark.parametrize(
    ("variable", "value", "refusal"),
    [
        ("JWT_SECRET", "", "JWT_SECRET"),
        ("JWT_SECRET", "too-short", "JWT_SECRET"),
        ("JWT_SECRET", DEVELOPMENT_JWT_SECRET, "JWT_SECRET"),
        # Long enough, but a pattern anyone could guess.
        ("JWT_SECRET", "a" * 48, "JWT_SECRET"),
        ("JWT_SECRET", "ab" * 24, "JWT_SECRET"),
        ("JWT_SECRET", "1234567890" * 4, "JWT_SECRET"),
        ("JWT_SECRET", "secretsecretsecretsecretsecret!!", "JWT_SECRET"),
        ("TWILIO_API_BASE_URL", "http://127.0.0.1:8091", "TWILIO_API_BASE_URL"),
        ("TWILIO_API_BASE_URL", "https://localhost:8091", "TWILIO_API_BASE_URL"),
        ("TWILIO_ACCOUNT_SID", SIMULATOR_ACCOUNT_SID, "simulator"),
        ("BOOTSTRAP_ADMIN_PASSWORD", "short", "BOOTSTRAP_ADMIN_PASSWORD"),
        ("SMS_CODE_PER_NUMBER", "often", "rate limit"),
    ],
)
def test_production_refuses_unsafe_settings(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, refusal: str
) -> None:
    for name, setting in TWILIO.items():
        monkeypatch.setenv(name, setting)
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://u@db/app")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://volunteer.example.org")
    monkeypatch.setenv("JWT_SECRET", SECRET)
    assert Settings().signing_secret == SECRET  # safe as it stands
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=refusal):
        Settings()


def test_development_signs_with_a_fixed_secret_and_shows_the_docs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JWT_SECRET")
    dev = Settings(environment="development")
    assert dev.signing_secret == DEVELOPMENT_JWT_SECRET and dev.docs_on
    assert not Settings(
        environment="production",
        database_url="postgresql+psycopg2://u@db/app",
        jwt_secret=SecretStr(SECRET),
    ).docs_on


@pytest.mark.parametrize("environment", [None, "test", "production"])
def test_without_a_secret_only_a_declared_development_starts(
    monkeypatch: pytest.MonkeyPatch, environment: str | None
) -> None:
    # The development secret is public: a server whose ENVIRONMENT was forgotten must not
    # accept tokens anyone can forge with it.
    monkeypatch.delenv("JWT_SECRET")
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://u@db/app")
    if environment is not None:
        monkeypatch.setenv("ENVIRONMENT", environment)
    with pytest.raises(ValidationError, match="JWT_SECRET is not set"):
        Settings()
    monkeypatch.setenv("ENVIRONMENT", "development")
    assert Settings().signing_secret == DEVELOPMENT_JWT_SECRET


def test_command_timeout_outlasts_lost_projection_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMMAND_TIMEOUT", raising=False)
    # A worker killed mid-projection costs one attempt's timeout and the first retry's wait;
    # the API must still answer from the applied command, even if that happens twice.
    assert Settings().command_timeout >= 2 * (DATABASE_ATTEMPT + DATABASE_FIRST_RETRY)
    assert Settings(command_timeout=timedelta(seconds=22)).command_timeout == timedelta(seconds=22)
    with pytest.raises(ValidationError, match="COMMAND_TIMEOUT must be 22s or more"):
        Settings(command_timeout=timedelta(seconds=20))


def test_worker_shutdown_grace_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WORKER_SHUTDOWN_GRACE", raising=False)
    assert Settings().worker_shutdown_grace == timedelta(seconds=30)
    monkeypatch.setenv("WORKER_SHUTDOWN_GRACE", "2m")
    assert Settings().worker_shutdown_grace == timedelta(minutes=2)
