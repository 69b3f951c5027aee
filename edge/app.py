"""The FastAPI application: the spec's JSON contracts (api) and the web front (web), composed
here, the one module that knows both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.couriers import CourierGateway, HttpCourierGateway
from api import (
    auth,
    billing,
    checkout,
    delivery,
    notifications,
    operator,
    order,
    payment,
    purchase,
    sso,
    store,
)
from core.db import SessionFactory, create_engine, create_session_factory
from core.settings import Settings
from core.telemetry import temporal_tracing, tracer_provider
from edge.csrf import CrossSiteMiddleware
from edge.errors import install_error_handlers
from edge.headers import SecurityHeadersMiddleware
from edge.limits import BodyLimitMiddleware, UrlCharactersMiddleware
from edge.metrics import HttpMetrics, MetricsMiddleware
from flows.catalogue import Catalogue
from flows.engine import LazyTemporalClient
from flows.sso import Providers
from web import (
    account_pages,
    catalog_pages,
    money_pages,
    operator_pages,
    order_pages,
    pages,
    sso_pages,
)


def create_app(
    settings: Settings,
    *,
    session_factory: SessionFactory | None = None,
    temporal: LazyTemporalClient | None = None,
    couriers: CourierGateway | None = None,
    tracing: TracerProvider | None = None,
) -> FastAPI:
    """Build the app; tests pass their own session factory, Temporal client, couriers and tracer
    provider (by default spans go to `settings.otlp_endpoint`, if set)."""
    owned_engine: AsyncEngine | None = None
    if session_factory is None:
        owned_engine = create_engine(settings.database_url)
        session_factory = create_session_factory(owned_engine)
    owned_couriers = None
    if couriers is None:
        couriers = owned_couriers = HttpCourierGateway(settings.couriers_url)
    owned_tracing = None
    if tracing is None:
        tracing = owned_tracing = tracer_provider("shopflow-api", settings.otlp_endpoint)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        catalogue.start()  # the search index loads while the first requests are served
        yield
        await catalogue.aclose()
        if owned_couriers is not None:
            await owned_couriers.aclose()
        await providers.aclose()
        if owned_engine is not None:
            await owned_engine.dispose()
        if owned_tracing is not None:
            owned_tracing.shutdown()  # the spans still batched are sent

    app = FastAPI(
        title="Shopflow",
        description="Интернет-магазин на Temporal: контракты сервисов из спецификации",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.engine = session_factory.kw["bind"]
    app.state.couriers = couriers
    app.state.sso = providers = Providers(settings.sso_providers)
    app.state.catalogue = catalogue = Catalogue(app.state.engine, settings.search_cache_seconds)
    app.state.temporal = temporal or LazyTemporalClient(
        settings.temporal_address, settings.temporal_namespace, temporal_tracing(tracing)
    )
    install_error_handlers(app, html_renderer=pages.render_error_page)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(UrlCharactersMiddleware)
    app.add_middleware(CrossSiteMiddleware, settings=settings)
    # The last added is the outermost: every answer above, refusals too, carries the headers.
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.environment != "dev")
    if settings.metrics_enabled:
        metrics = HttpMetrics()
        app.add_middleware(MetricsMiddleware, metrics=metrics)  # refusals above counted too
        app.add_route("/metrics", metrics.scrape, include_in_schema=False)
    if tracing is not None:
        # A server span per request; the Temporal client's spans (a start, an Update) nest in it.
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=tracing,
            excluded_urls="/healthz,/metrics,/static/",
            exclude_spans=["receive", "send"],
        )

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Up; `searchIndex` says whether search reads the in-memory index yet ("loading": the
        database answers meanwhile)."""
        return {"status": "ok", "searchIndex": "ready" if catalogue.index_loaded else "loading"}

    app.include_router(auth.router)
    app.include_router(sso.router)
    app.include_router(store.router)
    app.include_router(delivery.router)
    app.include_router(order.router)
    app.include_router(checkout.router)
    app.include_router(billing.router)
    app.include_router(payment.router)
    app.include_router(purchase.router)
    app.include_router(operator.router)
    app.include_router(notifications.router)
    app.include_router(money_pages.router)
    app.include_router(account_pages.router)
    app.include_router(sso_pages.router)
    app.include_router(order_pages.router)
    app.include_router(operator_pages.router)
    app.include_router(catalog_pages.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    return app
