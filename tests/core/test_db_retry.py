"""``retry_conflicts``: a transaction that lost a deadlock runs again; other errors do not."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from core.db import is_transient_conflict, retry_conflicts
from core.models import Township


@pytest.fixture
def two_rows(engine: Engine) -> Iterator[tuple[str, str]]:
    names = (f"锁甲-{uuid.uuid4().hex[:6]}", f"锁乙-{uuid.uuid4().hex[:6]}")
    with engine.begin() as conn:
        for name in names:
            conn.execute(insert(Township).values(name=name, name_en="lock", position=2000))
    yield names
    with engine.begin() as conn:
        conn.execute(delete(Township).where(Township.name.in_(names)))


def test_two_transactions_that_deadlock_both_commit(
    engine: Engine, two_rows: tuple[str, str]
) -> None:
    """Each locks one row, then waits for the other's: PostgreSQL kills one, which runs again."""
    both_hold_one = threading.Barrier(2, timeout=10)
    attempts: list[str] = []
    errors: list[BaseException] = []

    def crosswise(first: str, second: str, label: str) -> None:
        def work() -> None:
            attempts.append(label)
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL deadlock_timeout = '50ms'"))
                conn.execute(update(Township).where(Township.name == first).values(position=1))
                if attempts.count(label) == 1:
                    both_hold_one.wait()
                conn.execute(update(Township).where(Township.name == second).values(position=2))

        try:
            retry_conflicts(work)
        except BaseException as exc:  # surfaced below, on the test's thread
            errors.append(exc)

    a, b = two_rows
    threads = [
        threading.Thread(target=crosswise, args=(a, b, "ab")),
        threading.Thread(target=crosswise, args=(b, a, "ba")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    # One of them lost the deadlock and ran a second time; both committed.
    assert sorted(attempts.count(label) for label in ("ab", "ba")) == [1, 2]
    with engine.connect() as conn:
        positions = conn.scalars(select(Township.position).where(Township.name.in_(two_rows)))
        assert 2000 not in set(positions)  # the rows were written by the committed runs


def test_other_errors_are_raised_at_once(engine: Engine, two_rows: tuple[str, str]) -> None:
    calls = 0

    def duplicate() -> None:
        nonlocal calls
        calls += 1
        with engine.begin() as conn:
            conn.execute(insert(Township).values(name=two_rows[0], name_en="x", position=1))

    with pytest.raises(IntegrityError) as caught:
        retry_conflicts(duplicate)
    assert calls == 1
    assert not is_transient_conflict(caught.value)


def test_a_conflict_that_keeps_happening_is_raised_after_the_last_attempt(
    engine: Engine, two_rows: tuple[str, str]
) -> None:
    calls = 0

    def always_serialization_failure() -> None:
        nonlocal calls
        calls += 1
        with engine.begin() as conn:
            conn.execute(
                text("DO $$ BEGIN RAISE EXCEPTION 'contended' USING ERRCODE = '40001'; END $$")
            )

    with pytest.raises(Exception) as caught:
        retry_conflicts(always_serialization_failure, attempts=3, base_delay=0.001)
    assert calls == 3
    assert is_transient_conflict(caught.value)
