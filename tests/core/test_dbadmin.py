"""Test databases are made on the server ``TEST_DATABASE_ADMIN_URL`` names, in any spelling."""

from __future__ import annotations

from core.db import make_engine
from core.dbadmin import temporary_database
from tests.conftest import ADMIN_URL


def test_a_plain_admin_url_makes_test_databases() -> None:
    """TEST_DATABASE_ADMIN_URL=postgresql://... works as well (through core.dbadmin)."""
    plain = "postgresql://" + ADMIN_URL.split("://", 1)[1]
    with temporary_database(plain, prefix="fourorders_plain", migrate=False) as url:
        assert url.startswith("postgresql+psycopg2://")
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("select 1").scalar() == 1
        engine.dispose()
