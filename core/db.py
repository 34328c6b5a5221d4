"""Engine, declarative base and the few portable SQL helpers both PostgreSQL and SQLite need."""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    MetaData,
    Text,
    cast,
    create_engine,
    event,
    or_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")
log = logging.getLogger(__name__)

# PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back
# whole and may simply run again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
TRANSACTION_ATTEMPTS = 6
# A pooled connection used moments ago is alive: checking it on every checkout (SQLAlchemy's
# pool_pre_ping) costs a round trip per transaction for nothing. One idle longer than this
# may have been cut meanwhile (PostgreSQL restarted, a proxy's idle timeout): that one is
# checked, and replaced if dead, before a request gets it.
PING_AFTER_IDLE_S = 10.0

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    """An id that leaves the server (an order's): 96 random bits, URL-safe, never guessable."""
    return secrets.token_urlsafe(12)


def psycopg2_url(url: str) -> str:
    """A plain ``postgresql://`` or ``postgres://`` URL with the driver we install (psycopg2).

    SQLAlchemy 2.1 reads a plain ``postgresql://`` as psycopg 3 (not installed) and does not
    know ``postgres://`` at all; a URL naming its driver, or another database, is left alone.
    """
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("postgresql", "postgres"):
        return f"postgresql+psycopg2://{rest}"
    return url


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create the engine; a SQLite file gets its folder, WAL mode and foreign keys.

    Statement parameters (residents' phones, names, addresses) are left out of database
    errors, which reach logs, traces and activity failures in workflow history.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # JIT compilation pays off for long analytical queries; for this service's short ones
    # it only adds latency (it tripled the candidate ranking's time: 35 of 51 ms).
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"options": "-c jit=off"},
        hide_parameters=True,
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a connection on checkout only when it sat in the pool ``PING_AFTER_IDLE_S``.

    A connection that dies in use (PostgreSQL stopped mid-load) still fails its request
    (503 ``DatabaseUnavailable``, ``api/errors.py``) and SQLAlchemy then replaces the pool's
    connections; the next request gets a fresh one.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and hands out a new one instead.
            raise DisconnectionError() from exc


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


def is_transient_conflict(exc: BaseException) -> bool:
    """A deadlock, a serialization failure or a busy SQLite file: worth running again."""
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return False
    if getattr(exc.orig, "pgcode", None) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(exc.orig)


def retry_conflicts(
    work: Callable[[], T], *, attempts: int = TRANSACTION_ATTEMPTS, base_delay: float = 0.01
) -> T:
    """Run ``work`` (one whole transaction) again when it lost a lock conflict.

    The losing transaction was rolled back entirely, so running it again is safe; doing it at
    once, after a short random pause that keeps the competitors from meeting again, costs
    milliseconds where an activity's retry policy would cost seconds.
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if attempt == attempts or not is_transient_conflict(exc):
                raise
            pause = random.uniform(0, base_delay * 2**attempt)
            log.warning(
                "transaction lost a lock conflict (%s), attempt %d of %d; again in %.0f ms",
                getattr(exc.orig, "pgcode", None) or "locked",
                attempt,
                attempts,
                pause * 1000,
            )
            time.sleep(pause)
    raise AssertionError("unreachable")


def insert_or_replace(
    bind: Session | Connection, table: Any, conflict: Sequence[str], columns: Sequence[str]
) -> Insert:
    """``INSERT ... ON CONFLICT DO UPDATE`` of ``columns``, only where one of them differs.

    An identical row is left alone (not rewritten, not counted in ``rowcount``).
    """
    dialect = _dialect(bind)
    statement = dialect.insert(table)
    new = statement.excluded
    upsert: Insert = statement.on_conflict_do_update(
        index_elements=list(conflict),
        set_={name: new[name] for name in columns},
        where=or_(
            *(
                _comparable(table.c[name]).is_distinct_from(_comparable(new[name]))
                for name in columns
            )
        ),
    )
    return upsert


def _comparable(column: Any) -> Any:
    # PostgreSQL's json has no equality: compare its text (a reformatted value only rewrites).
    return cast(column, Text) if isinstance(column.type, JSON) else column


def _dialect(bind: Session | Connection) -> Any:
    name = (bind.get_bind() if isinstance(bind, Session) else bind).dialect.name
    if name == "postgresql":
        return postgresql
    if name == "sqlite":
        return sqlite
    raise RuntimeError(f"unsupported database backend {name!r}")


def increment(bind: Session | Connection, table: Any, key: dict[str, Any], counter: str) -> int:
    """Add one to ``counter`` in the row ``key`` names (a new row starts at 1); the new count.

    One statement on both backends (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``): the
    row stays locked until the transaction ends, so two transactions never get one count.
    """
    statement = (
        _dialect(bind)
        .insert(table)
        .values({**key, counter: 1})
        .on_conflict_do_update(index_elements=list(key), set_={counter: table.c[counter] + 1})
        .returning(table.c[counter])
    )
    count: int = bind.execute(statement).scalar_one()
    return count


def insert_ignore(bind: Session | Connection, table: Any, conflict: Sequence[str]) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the backend behind ``bind``.

    Activities run at least once; this is what makes their inserts idempotent.
    """
    ignore: Insert = (
        _dialect(bind).insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    )
    return ignore
