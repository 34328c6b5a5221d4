"""One settings class for the API, the worker and the tools, read from the environment."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, PlainSerializer, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.durations import format_duration, parse_duration
from core.matching import Matching, Weights

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
    county_timezone: str = "Asia/Shanghai"

    # How long the API waits for a workflow to apply a command before answering 504.
    command_timeout: Duration = timedelta(seconds=30)

    worker_max_concurrent_activities: int = 50
    worker_max_cached_workflows: int = 1000

    page_size_max: int = 200

    @field_validator("county_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

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

    @model_validator(mode="after")
    def _production_needs_real_database(self) -> Settings:
        if self.environment == "production" and self.database_url.startswith("sqlite"):
            raise ValueError("DATABASE_URL must point at PostgreSQL in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` and pass them in."""
    return Settings()
