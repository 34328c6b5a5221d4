"""The migrations build exactly the schema the models describe, both ways, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select

from core.db import Base, make_engine
from core.dbadmin import temporary_database
from core.migrate import alembic_config, upgrade
from core.models import CategoryTrade, DispatchPolicyRow, Township, Village
from tests.conftest import ADMIN_URL


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    with temporary_database(ADMIN_URL, prefix="fourorders_migr", migrate=False) as url:
        yield url


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def test_upgrade_matches_models_and_downgrade_round_trips(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        assert _diff(engine) == []
        with engine.connect() as conn:
            # The seed reached the new tables.
            assert (
                conn.scalar(select(DispatchPolicyRow.policy).where(DispatchPolicyRow.scope == "*"))
                == "manual"
            )
            assert conn.scalar(select(Township.lat).where(Township.name == "蓼皋街道")) is not None
            assert len(conn.execute(select(Village.id)).all()) >= 10
            assert len(conn.execute(select(CategoryTrade.trade_code)).all()) >= 13
        command.downgrade(alembic_config(empty_url), "0002")
        command.upgrade(alembic_config(empty_url), "head")
        assert _diff(engine) == []
    finally:
        engine.dispose()
