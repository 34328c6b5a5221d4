"""The FastAPI application: ``uvicorn api.main:app``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Response
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from api import docs, errors, limits, metrics, reconciler, schemas
from api.body_limit import BodyLimit
from api.bootstrap import bootstrap_admin
from api.database import Database
from api.deps import DatabaseDep, TemporalDep
from api.limits import Limits
from api.media import BucketStore, Decoding, media_store
from api.responses import document_refusals
from api.routes import (
    admin,
    auth,
    call_center,
    call_center_pages,
    call_requests,
    catalog,
    complaints,
    console_pages,
    pages,
    photos,
    public,
    recognition,
    registry,
    reports,
    resident,
    staff,
    supervision_pages,
    twilio,
    twilio_inbound,
    volunteer,
    volunteer_pages,
)
from api.security_headers import SecurityHeaders
from api.typeable import TypeableParameters
from core.db import make_engine
from core.logs import RequestLogContext, configure_logging
from core.settings import Settings, get_settings
from core.temporal import connect
from core.tracing import Tracing

log = logging.getLogger(__name__)


class App(FastAPI):
    """FastAPI whose every response, a 500 from the outermost error handler included,
    carries the security headers (``api/security_headers.py``), which refuses oversized
    bodies before reading them (``api/body_limit.py``) and control characters in paths and
    query strings before routing (``api/typeable.py``), whose log lines name the order a
    request addressed (``core/logs.py``), and, with tracing on, whose every request but
    the probes starts a trace (``core/tracing.py``)."""

    tracing: Tracing | None = None

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = BodyLimit(
            TypeableParameters(RequestLogContext(super().build_middleware_stack()))
        )
        if self.tracing is not None:
            app = self.tracing.middleware(app)
        return SecurityHeaders(app)

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = document_refusals(super().openapi())
        return self.openapi_schema


def create_app(
    settings: Settings | None = None,
    *,
    reconcile_every: timedelta | None = None,
    tracing: Tracing | None = None,
) -> FastAPI:
    """Build the app; ``settings`` defaults to the environment's, ``tracing`` to theirs
    (``OTEL_EXPORTER_OTLP_ENDPOINT``, else off)."""
    cfg = settings or get_settings()
    owned = tracing is None
    tracing = tracing or Tracing.from_settings(cfg, service="four-orders-api")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(cfg)
        engine = make_engine(cfg.database_url, pool_size=cfg.database_pool_size)
        if tracing is not None:
            tracing.instrument_engine(engine)
        app.state.settings = cfg
        app.state.database = Database(engine)
        app.state.limits = Limits(cfg)
        app.state.media = media_store(cfg)
        app.state.decoding = Decoding(cfg.photo_decodes_at_once)
        if isinstance(app.state.media, BucketStore):
            # Made on first start; a store still coming up must not keep the API down.
            try:
                await run_in_threadpool(app.state.media.ensure_bucket)
            except Exception as exc:
                log.warning("object store unreachable at start-up: %s", type(exc).__name__)
        await bootstrap_admin(app.state.database, cfg)
        client = await connect(cfg, interceptors=tracing.interceptors() if tracing else ())
        app.state.temporal = client
        reconciling = asyncio.create_task(
            reconciler.reconcile_forever(
                client, app.state.database, cfg, every=reconcile_every or timedelta(seconds=30)
            )
        )
        try:
            with metrics.serving(metric_registry, engine, cfg):
                yield
        finally:
            reconciling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reconciling
            engine.dispose()
            if tracing is not None and owned:
                tracing.shutdown()

    app = App(
        title="Four orders (四单) volunteer service",
        version="0.1.0",
        summary="Order, dispatch, accept, review and follow up on volunteer help, on Temporal.",
        lifespan=lifespan,
        # Our own /docs and /openapi.json (api/docs.py): vendored Swagger UI, and off in
        # production unless DOCS_ENABLED.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    errors.install(app)
    limits.install(app)
    metric_registry = metrics.install(app, cfg)
    app.tracing = tracing
    for router in (
        resident.router,
        volunteer.router,
        photos.router,
        admin.router,
        registry.router,
        call_center.router,
        twilio.router,
        twilio_inbound.router,
        call_requests.router,
    ):
        app.include_router(router)
    app.include_router(complaints.router)
    app.include_router(catalog.router)
    app.include_router(reports.router)
    app.include_router(recognition.router)
    app.include_router(public.router)
    app.include_router(public.pages)
    app.include_router(auth.router)
    app.include_router(staff.router)
    app.include_router(docs.router)
    app.include_router(pages.router)
    app.include_router(console_pages.router)
    app.include_router(volunteer_pages.router)
    app.include_router(call_center_pages.router)
    app.include_router(supervision_pages.router)
    app.mount("/static", pages.static, name="static")

    @app.get(
        "/healthz",
        response_model=schemas.Health,
        tags=["ops"],
        responses={503: {"model": schemas.Health, "description": "The database or Temporal"}},
    )
    async def healthz(response: Response, db: DatabaseDep, client: TemporalDep) -> schemas.Health:
        """Whether the database and Temporal answer; 503 when either does not."""
        database = temporal = "ok"
        try:
            await asyncio.wait_for(db.run(_ping), timeout=5)
        except Exception as exc:  # any failure means unhealthy; say which
            database = f"error: {type(exc).__name__}"
        try:
            await asyncio.wait_for(client.service_client.check_health(), timeout=5)
        except Exception as exc:
            temporal = f"error: {type(exc).__name__}"
        healthy = database == temporal == "ok"
        if not healthy:
            response.status_code = 503
        return schemas.Health(
            status="ok" if healthy else "degraded", database=database, temporal=temporal
        )

    return app


def _ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


def __getattr__(name: str) -> FastAPI:
    # ``uvicorn api.main:app`` builds the app from the environment when it asks for it, not
    # whoever imports this module for ``create_app``: the settings may refuse to start (no
    # JWT_SECRET), and only the server should.
    if name == "app":
        return create_app()
    raise AttributeError(name)
