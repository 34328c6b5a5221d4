"""One settings class for the API, the worker and the tools, read from the environment."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, PlainSerializer, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.durations import format_duration, parse_duration

ROOT = Path(__file__).resolve().parent.parent

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]


class Settings(BaseSettings):
    """Everything the processes read from the environment (or a ``.env`` file)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{ROOT / 'data' / 'app.db'}"
    database_pool_size: int = 10

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "four-orders"
    temporal_ui_url: str = "http://localhost:8233"

    completion_sla: Duration = timedelta(hours=72)
    escalation_repeat: Duration = timedelta(hours=24)
    accept_timeout: Duration = timedelta(hours=4)
    review_window: Duration = timedelta(days=3)

    # How long the API waits for a workflow to apply a command before answering 504.
    command_timeout: Duration = timedelta(seconds=30)

    worker_max_concurrent_activities: int = 50
    worker_max_cached_workflows: int = 1000

    page_size_max: int = 200

    @model_validator(mode="after")
    def _production_needs_real_database(self) -> Settings:
        if self.environment == "production" and self.database_url.startswith("sqlite"):
            raise ValueError("DATABASE_URL must point at PostgreSQL in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` and pass them in."""
    return Settings()
