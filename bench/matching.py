"""Ranking benchmark: candidates for one order among 10,000 volunteers (target: < 50 ms).

    make bench-matching                      # PostgreSQL (a fresh database) and SQLite
    python -m bench.matching --volunteers 100000 --backend postgresql

Builds a county of volunteers spread over the seeded townships and villages, with skills,
trades, weekly windows, open orders and track records drawn from a fixed seed, then times
``rank_volunteers`` (the same call the candidates endpoint and the workflow's
``pick_candidate`` activity make) for orders of different items and places. Prints p50,
p95 and max in milliseconds, and the query plan's top line on PostgreSQL.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, select, text

from core.db import make_engine
from core.dbadmin import temporary_database
from core.match_settings import Matching
from core.matching import rank_volunteers, target_for_order
from core.migrate import upgrade
from core.models import (
    AvailabilityWindow,
    CatalogItem,
    Order,
    Township,
    Trade,
    Village,
    Volunteer,
    VolunteerSkill,
)

log = logging.getLogger("bench.matching")
ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def database(backend: str) -> Iterator[Engine]:
    if backend == "postgresql":
        with temporary_database(ADMIN_URL, prefix="fourorders_bench_match") as url:
            engine = make_engine(url)
            yield engine
            engine.dispose()
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


def populate(engine: Engine, n: int, rng: random.Random) -> None:
    with engine.begin() as conn:
        towns = [
            (name, lat, lon)
            for name, lat, lon in conn.execute(select(Township.name, Township.lat, Township.lon))
            if lat is not None and lon is not None
        ]
        villages = conn.execute(select(Village.id, Village.township)).all()
        items = conn.execute(select(CatalogItem.code, CatalogItem.category_code)).all()
        trades = list(conn.scalars(select(Trade.code)))
        vols, skills, windows = [], [], []
        for i in range(1, n + 1):
            name, lat, lon = rng.choice(towns)
            village = rng.choice([v for v, t in villages if t == name] or [None])
            completed = rng.randint(0, 30)
            rated = rng.randint(0, completed)
            maximum = rng.randint(1, 5)
            vols.append(
                {
                    "id": i,
                    "name": f"志愿者{i}",
                    "phone": f"+8613{i:09d}",
                    "township": name,
                    "village_id": village,
                    "lat": lat + rng.uniform(-0.03, 0.03),
                    "lon": lon + rng.uniform(-0.03, 0.03),
                    "trade": rng.choice(trades),
                    "platform": None,
                    "max_open_orders": maximum,
                    "active": rng.random() > 0.05,
                    "paused": rng.random() < 0.1,
                    "created_at": datetime.now(UTC),
                    "open_orders": rng.randint(0, maximum),
                    "completed_orders": completed,
                    "on_time_orders": rng.randint(0, completed),
                    "rated_orders": rated,
                    "rating_points": sum(rng.randint(1, 4) for _ in range(rated)),
                }
            )
            for code, category in rng.sample(items, rng.randint(1, 3)):
                skills.append({"volunteer_id": i, "code": code if rng.random() < 0.6 else category})
            if rng.random() < 0.3:
                day = rng.randint(0, 6)
                windows.append(
                    {"volunteer_id": i, "weekday": day, "start_minute": 480, "end_minute": 1080}
                )
        conn.execute(insert(Volunteer), vols)
        unique_skills = {(s["volunteer_id"], s["code"]): s for s in skills}
        conn.execute(insert(VolunteerSkill), list(unique_skills.values()))
        if windows:
            conn.execute(insert(AvailabilityWindow), windows)
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('volunteers_id_seq', :n)"), {"n": n})
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def orders(engine: Engine, count: int, rng: random.Random) -> list[int]:
    with engine.begin() as conn:
        towns = conn.execute(select(Township.name)).scalars().all()
        items = conn.execute(select(CatalogItem.code, CatalogItem.category_code)).all()
        now = datetime.now(UTC)
        ids: list[int] = []
        for _ in range(count):
            code, category = rng.choice(items)
            ids.append(
                conn.execute(
                    insert(Order)
                    .values(
                        item_code=code,
                        category_code=category,
                        township=rng.choice(towns),
                        reason="-",
                        address="-",
                        resident_name="-",
                        resident_phone="-",
                        status="pending",
                        submitted_at=now,
                        deadline_at=now,
                        overdue=False,
                        escalation_level=0,
                        last_seq=1,
                        updated_at=now,
                        dispatch_policy="manual",
                        dispatch_attempts=0,
                        undispatchable=False,
                    )
                    .returning(Order.id)
                ).scalar_one()
            )
        return ids


def measure(engine: Engine, order_ids: list[int], rounds: int) -> list[float]:
    matching = Matching()
    timings = []
    with engine.connect() as conn:
        for r in range(rounds):
            order_id = order_ids[r % len(order_ids)]
            started = time.perf_counter()
            target = target_for_order(conn, order_id)
            assert target is not None
            found = rank_volunteers(
                conn, target, matching=matching, now=datetime.now(UTC), limit=10
            )
            timings.append((time.perf_counter() - started) * 1000)
            assert found, "no candidates: the benchmark county is broken"
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    for backend in backends:
        rng = random.Random(20261129)
        with database(backend) as engine:
            started = time.perf_counter()
            populate(engine, args.volunteers, rng)
            log.info(
                "%s: %d volunteers loaded in %.1f s",
                backend,
                args.volunteers,
                time.perf_counter() - started,
            )
            ids = orders(engine, 30, rng)
            measure(engine, ids, 20)  # warm the caches and the statement cache
            timings = sorted(measure(engine, ids, args.rounds))
            p95 = timings[int(len(timings) * 0.95) - 1]
            log.info(
                "%s: rank top 10 of %d volunteers, %d orders x %d rounds: "
                "p50 %.1f ms, p95 %.1f ms, max %.1f ms (target < 50 ms)",
                backend,
                args.volunteers,
                len(ids),
                args.rounds,
                statistics.median(timings),
                p95,
                timings[-1],
            )


if __name__ == "__main__":
    main()
