"""The pool pings a connection only after it sat idle, and replaces one found dead then."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from core import db
from core.db import make_engine


@pytest.fixture
def one_connection(database_url: str) -> Engine:
    return make_engine(database_url, pool_size=1)


def backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_cut_while_idle_is_replaced_before_use(
    one_connection: Engine, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        first = backend_pid(one_connection)
        assert backend_pid(one_connection) == first  # reused, no ping: it was just in use
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        # As if it had sat in the pool a while (PostgreSQL restarted meanwhile).
        monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
        assert backend_pid(one_connection) != first
    finally:
        one_connection.dispose()


def test_a_connection_cut_between_two_quick_uses_fails_one_request_only(
    one_connection: Engine, engine: Engine
) -> None:
    try:
        first = backend_pid(one_connection)
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        # Not pinged (used moments ago): that request fails (the API answers 503) ...
        with pytest.raises(OperationalError):
            backend_pid(one_connection)
        # ... and the pool has let the dead connection go: the next request gets a new one.
        assert backend_pid(one_connection) != first
    finally:
        one_connection.dispose()
