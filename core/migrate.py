"""Apply the Alembic migrations: ``python -m core.migrate`` (what ``make run`` calls)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from core.logs import configure_logging
from core.settings import ROOT, get_settings


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["skip_logging_config"] = True
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` up to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


if __name__ == "__main__":
    # The compose file's one-shot: its lines are JSON like the API's and the worker's.
    settings = get_settings()
    configure_logging(settings)
    upgrade(settings.database_url)
