"""The whole API fuzzed from its own OpenAPI document (schemathesis), signed in as each role.

Every operation gets a bounded number of generated requests per caller, and a stateful run
follows the links schemathesis infers (an order created, then read and acted on). With a
fixed seed the same requests go out every run. No answer may be a server error or a status,
content type or body the operation does not document, and no request the document allows may
be refused as malformed. Each operation's text parameters are also sent once per caller with
control and direction-override characters (which the document's patterns exclude, so they
are never generated), and every path is called with methods it does not have: a 422 and a 405
naming its methods. The world is a database and a Temporal server of its own: what the fuzz
creates and erases touches no other test.
"""

from __future__ import annotations

import asyncio
import re
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
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.testing import WorkflowEnvironment

from api.database import Database
from api.errors import on_template
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
UNTYPEABLE = "a\x00\x1b\u202eb"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def shape_accepted(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """``positive_data_acceptance``, but for a store's 422: a well-formed body that names a
    township or item that does not exist is refused for what it names, not for its shape."""
    if response.status_code == 422 and response.json().get("code") != "InvalidRequest":
        return None
    return positive_data_acceptance(ctx, response, case)


def no_server_error(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """``not_a_server_error``, but for the documented 503 this world answers by design: it
    has no SMS account, so no sign-in code can be sent."""
    if response.status_code == 503 and response.json().get("code") == "SmsUnavailable":
        return None
    return not_a_server_error(ctx, response, case)


DOCUMENTED = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CHECKS = [*DOCUMENTED, shape_accepted]
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
            sent: list[Case[Any]] = []
            try:
                _examples(operation.as_strategy(), _checked(base, headers, sent))()
            except (Exception, BaseExceptionGroup) as exc:  # every failure, not the first
                failures.append(f"{operation.label} as {who}: {exc}")
            try:
                _untypeable_text(sent[0], base, headers)
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} as {who}, with untypeable text: {exc}")
    failures += unknown_methods(base, schema.raw_schema["paths"], callers["county admin"])
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


def _checked(base: str, headers: Headers, sent: list[Case[Any]]) -> Callable[[Case[Any]], None]:
    def check(case: Case[Any]) -> None:
        sent.append(case)
        case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

    return check


def _untypeable_text(case: Case[Any], base: str, headers: Headers) -> None:
    """The case again with its text parameters untypeable: a 422 the document describes."""
    texts = {
        (p.location.value, p.name)
        for p in case.operation.iter_parameters()
        if p.location.value in ("path", "query") and _is_text(p.definition.get("schema", {}))
    }
    if not texts:
        return
    path = dict(case.path_parameters or {})
    query = dict(case.query or {})
    for location, name in texts:
        (path if location == "path" else query)[name] = UNTYPEABLE
    poisoned = case.operation.Case(
        method=case.method,
        path_parameters=path,
        query=query,
        headers=case.headers,
        body=case.body,
        media_type=case.media_type,
    )
    response = poisoned.call(base_url=base, headers=headers)
    poisoned.validate_response(response, checks=DOCUMENTED)
    refusal = response.json()
    assert (response.status_code, refusal["code"]) == (422, "InvalidRequest"), response.text


def _is_text(schema: dict[str, Any]) -> bool:
    return any(branch.get("type") == "string" for branch in schema.get("anyOf", [schema]))


def unknown_methods(base: str, paths: dict[str, Any], headers: Headers) -> list[str]:
    """Every path called with each method it does not document: 405, ``Allow`` naming the
    ones it does."""
    wrong: list[str] = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for template in paths:
            url = re.sub(r"\{[^}]+\}", "1", template)
            # /api/volunteers/apply is also /api/volunteers/{volunteer_id}.
            documented = {
                method.upper()
                for other, operations in paths.items()
                if on_template(url, other)
                for method in operations
            }
            for method in sorted(set(METHODS) - documented):
                answer = client.request(method, url)
                allowed = {m.strip() for m in answer.headers.get("allow", "").split(",")}
                if answer.status_code != 405 or allowed != documented:
                    wrong.append(f"{method} {template}: {answer.status_code}, Allow {allowed}")
    return wrong
