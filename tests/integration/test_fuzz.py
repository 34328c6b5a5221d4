"""The whole API fuzzed from its own OpenAPI document (schemathesis), signed in as each role.

Every operation gets a bounded number of generated requests per caller, and a stateful run
follows the links schemathesis infers (an order created, then read and acted on). With a
fixed seed the same requests go out every run. No answer may be a server error, and every
answer must match the schema its operation documents. The world is a database and a Temporal
server of its own: what the fuzz creates and erases touches no other test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import response_schema_conformance
from temporalio.testing import WorkflowEnvironment

from api.database import Database
from api.main import create_app
from core.db import make_engine
from core.dbadmin import temporary_database
from core.search_attributes import SEARCH_ATTRIBUTES
from core.settings import Settings
from tests.conftest import ADMIN_URL, TEMPORAL_CLI, served
from tests.integration.test_dispatch_http import new_team
from tests.integration.test_http_lifecycle import order_placed, register
from tests.signin import Headers, People
from worker import build_worker

EXAMPLES = 4  # per operation and caller
STATEFUL_SCENARIOS = 15
CHECKS = [not_a_server_error, response_schema_conformance]
# Fixed seed, no shrinking (a failure is reported as found), no example database.
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
async def fuzz_world(settings: Settings) -> AsyncIterator[tuple[str, People, Settings]]:
    """The API and a worker on a database and a Temporal server of their own (its orders are
    numbered from 1 like the session's, and ``order-1`` must not be theirs), behind a real
    HTTP server."""
    with temporary_database(ADMIN_URL, prefix="fourorders_fuzz") as url:
        environment = await WorkflowEnvironment.start_local(
            dev_server_existing_path=TEMPORAL_CLI,
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_log_level="error",
        )
        temporal = environment.client
        cfg = settings.model_copy(
            update={
                "database_url": url,
                "temporal_address": temporal.service_client.config.target_host,
            }
        )
        engine = make_engine(url, pool_size=10)
        try:
            with ThreadPoolExecutor(max_workers=cfg.worker_max_concurrent_activities) as pool:
                async with (
                    build_worker(temporal, engine, cfg, executor=pool),
                    served(create_app(cfg, reconcile_every=timedelta(hours=1))) as base,
                    httpx.AsyncClient(base_url=base, timeout=30) as client,
                ):
                    yield base, People(client, Database(engine), cfg), cfg
        finally:
            engine.dispose()
            await environment.shutdown()


async def test_no_fuzzed_request_gets_a_server_error_or_breaks_its_schema(
    fuzz_world: tuple[str, People, Settings],
) -> None:
    base, people, _ = fuzz_world
    callers = await signed_in(people)
    failures = await asyncio.to_thread(fuzz, base, callers)
    assert not failures, "\n\n".join(failures)


async def signed_in(people: People) -> dict[str, Headers]:
    """One caller of each kind, with an order and a team in the world for them to act on."""
    township = "蓼皋街道"
    admin = await people.admin()
    volunteer_id = await register(admin, township)
    leader_id = await register(admin, township)
    await new_team(admin, township, leader_id, "fuzz")
    await order_placed(people, township)
    return {
        "anonymous": {},
        "resident": (await people.resident()).headers,
        "volunteer": (await people.volunteer(volunteer_id)).headers,
        "leader": (await people.volunteer(leader_id)).headers,
        "agent": (await people.agent()).headers,
        "township admin": (await people.township_admin(township)).headers,
        "county admin": admin.headers,
    }


def fuzz(base: str, callers: dict[str, Headers]) -> list[str]:
    """Every operation as every caller, then the stateful run as the county admin."""
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema raises here
        for who, headers in callers.items():
            try:
                _examples(operation.as_strategy(), _checked(base, headers))()
            except (Exception, BaseExceptionGroup) as exc:  # every failure, not the first
                failures.append(f"{operation.label} as {who}: {exc}")
    admin = callers["county admin"]

    class SignedIn(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"base_url": base, "headers": admin}

        def validate_response(self, response: Response, case: Case[Any], **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    try:
        SignedIn.run(
            settings=settings(SETTINGS, max_examples=STATEFUL_SCENARIOS, stateful_step_count=6)
        )
    except (Exception, BaseExceptionGroup) as exc:
        failures.append(f"stateful run: {exc}")
    return failures


def _examples(strategy: Any, check: Callable[[Case[Any]], None]) -> Callable[[], None]:
    return SETTINGS(given(case=strategy)(check))


def _checked(base: str, headers: Headers) -> Callable[[Case[Any]], None]:
    def check(case: Case[Any]) -> None:
        case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

    return check
