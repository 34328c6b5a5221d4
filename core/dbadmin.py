"""Throw-away PostgreSQL databases for the test suite and the benchmark."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.db import psycopg2_url
from core.migrate import upgrade


@contextlib.contextmanager
def temporary_database(admin_url: str, *, prefix: str, migrate: bool = True) -> Iterator[str]:
    """Create a database on ``admin_url``'s server, migrate it, yield its URL, drop it."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin_url = psycopg2_url(admin_url)
    # Pre-pinged: the server may have restarted meanwhile (the fault suite stops it).
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        try:
            if migrate:
                upgrade(url)
            yield url
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
