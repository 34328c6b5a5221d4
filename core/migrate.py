"""Apply the Alembic migrations: ``python -m core.migrate`` (what ``make run`` calls).

Migrations run as the tables' owner (``MIGRATION_DATABASE_URL``, else ``DATABASE_URL``). When
``DATABASE_URL`` names another PostgreSQL user, that user is made the application's role: it
owns nothing, so it can alter, drop or truncate no table (nor drop the audit log's triggers),
and it may only read and write rows, and on the audit log only add and read them.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from core.db import make_engine
from core.logs import configure_logging
from core.settings import ROOT, Settings, get_settings

# Tables the application adds rows to and reads, never changes or removes.
APPEND_ONLY = ("audit_log",)
# Alembic's own: the application has no business with it.
MIGRATIONS_ONLY = ("alembic_version",)


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["skip_logging_config"] = True
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` up to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def migrate(settings: Settings) -> None:
    """Upgrade the database as its owner; then grant the application's role, if it has one."""
    owner = settings.migration_database_url or settings.database_url
    upgrade(owner)
    if make_url(owner).username != make_url(settings.database_url).username:
        grant_app_role(owner, settings.database_url)


def grant_app_role(owner_url: str, app_url: str) -> None:
    """Make ``app_url``'s user (created with its password if missing) the application's role.

    Idempotent, and re-run by every migration: the password follows ``app_url``, and tables
    and sequences the owner creates later come with the same rights (default privileges).
    The owner needs CREATEROLE (the compose file's is the server's superuser).
    """
    app = make_url(app_url)
    if not app.drivername.startswith("postgresql") or not app.username:
        raise ValueError("an application role needs PostgreSQL and a user in DATABASE_URL")
    engine = make_engine(owner_url, pool_size=1)
    try:
        with engine.begin() as conn:
            _login_role(conn, app.username, app.password or "")
            role = conn.dialect.identifier_preparer.quote(app.username)
            for statement in _grants(role):
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _login_role(conn: Connection, name: str, password: str) -> None:
    owned = conn.scalar(
        text("SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
             "WHERE r.rolname = :name"),
        {"name": name},
    )  # fmt: skip
    if owned:
        raise ValueError(f"the application role {name} owns tables: it must own nothing")
    exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": name})
    # The server quotes the name and the password (%I, %L): no statement takes parameters.
    statement = conn.scalar(
        text(
            f"SELECT format('{'ALTER' if exists else 'CREATE'} ROLE %I LOGIN NOSUPERUSER "
            "NOCREATEDB NOCREATEROLE PASSWORD %L', CAST(:name AS text), CAST(:password AS text))"
        ),
        {"name": name, "password": password},
    )
    # Straight to the driver, without parameters: it must not read a % in the password.
    cursor = conn.connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


def _grants(role: str) -> list[str]:
    rows = "SELECT, INSERT, UPDATE, DELETE"
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT {rows} ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}",
        # Whatever a later migration creates, the owner creating it.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {rows} ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {role}",
        *(f"REVOKE UPDATE, DELETE, TRUNCATE ON {t} FROM {role}" for t in APPEND_ONLY),
        *(f"REVOKE ALL ON {t} FROM {role}" for t in MIGRATIONS_ONLY),
    ]


if __name__ == "__main__":
    # The compose file's one-shot: its lines are JSON like the API's and the worker's.
    settings = get_settings()
    configure_logging(settings)
    migrate(settings)
