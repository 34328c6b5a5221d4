"""Blocking database work, run off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from anyio import to_thread
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.db import make_sessionmaker, retry_conflicts, transaction

P = ParamSpec("P")
T = TypeVar("T")


class Database:
    """Runs a function on a fresh session in a worker thread, inside one transaction.

    The functions only read and write the database, so a transaction that lost a deadlock
    runs again whole.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = make_sessionmaker(engine)

    async def run(
        self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        def work() -> T:
            with transaction(self._sessions) as session:
                return fn(session, *args, **kwargs)

        return await to_thread.run_sync(retry_conflicts, work)
