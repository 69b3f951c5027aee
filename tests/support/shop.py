"""The store as the API tests reach it (`open_shop`): the app over ASGI (and on a local port for
the bank's callbacks), its workers on a Temporal server on task queues of its own, the courier and
bank emulators. tests/api/conftest.py makes fixtures of it; other folders open their own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from temporalio.testing import WorkflowEnvironment

from adapters.bank import HttpBankGateway
from adapters.couriers import HttpCourierGateway
from adapters.mailer import RecordingMailer
from core.db import SessionFactory
from core.settings import Settings
from edge.app import create_app
from flows.engine import LazyTemporalClient
from models.payloads import Queues
from tests.conftest import WORKER_SHUTDOWN, BankEmulator, free_ports, unique_queues
from tests.support.sabotage import Sabotage
from workers.bootstrap import Dependencies, activities_by_domain, build_workers


@dataclass
class Shop:
    http: httpx.AsyncClient
    mailer: RecordingMailer
    sessions: SessionFactory
    env: WorkflowEnvironment
    couriers_url: str
    bank: BankEmulator
    public_url: str  # where the app also listens, for the bank's callbacks
    queues: Queues  # this shop's own task queues: no other test's worker or run meets them


def api_settings(**overrides: object) -> Settings:
    return Settings(environment="test", public_url="http://shop.test", **overrides)  # type: ignore[arg-type]


ANOTHER_ADDRESS = "127.0.0.2"  # loopback too: another shopper's client connects from it


def from_another_address(shop: Shop) -> httpx.AsyncClient:
    """A client of the shop's local port connecting from ANOTHER_ADDRESS (limits per client
    address do not count the test's own client); use it as `async with`."""
    return httpx.AsyncClient(
        base_url=shop.public_url,
        transport=httpx.AsyncHTTPTransport(local_address=ANOTHER_ADDRESS),
        timeout=30.0,
    )


def service() -> dict[str, str]:
    """The header of the internal contracts (billing's, payment's): the service key."""
    return {"X-Service-Key": api_settings().service_key.get_secret_value()}


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app on a free local port (uvicorn in this event loop) until the block ends."""
    (port,) = free_ports(1)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def open_shop(
    sessions: SessionFactory,
    env: WorkflowEnvironment,
    couriers_url: str,
    bank: BankEmulator,
    sabotage: Sabotage | None = None,
    queues: Queues | None = None,
    serve: Callable[[str], bool] = lambda _queue: True,
    tracing: TracerProvider | None = None,
    **settings: object,
) -> AsyncIterator[Shop]:
    """The store as a browser reaches it: the app over ASGI, its workers on the real dev server
    (on task queues of its own), the courier and bank emulators. `sabotage` may swap activities
    (by domain) before the workers start; `serve` picks the queues this process serves (another
    process may serve the rest); `tracing` records the app's spans; `settings` override the
    app's."""
    layout = queues or unique_queues()
    mailer = RecordingMailer()
    couriers = HttpCourierGateway(couriers_url, timeout=1.0)
    bank_gateway = HttpBankGateway(bank.url, timeout=5.0)
    deps = Dependencies(
        engine=None,
        session_factory=sessions,
        mailer=mailer,
        store_url="http://shop.test",
        couriers=couriers,
        bank=bank_gateway,
    )
    activities = activities_by_domain(deps)
    if sabotage is not None:
        sabotage(activities)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(couriers.aclose)
        stack.push_async_callback(bank_gateway.aclose)
        app = create_app(
            api_settings(
                bank_callback_secret=bank.secret,
                task_queue_prefix=layout.prefix,
                split_task_queues=layout.split,
                **settings,
            ),
            session_factory=sessions,
            temporal=LazyTemporalClient.of(env.client),
            couriers=couriers,
            tracing=tracing,
        )
        stack.push_async_callback(app.state.catalogue.aclose)  # as the lifespan would
        public_url = await stack.enter_async_context(served(app))
        app.state.settings.public_url = public_url
        for worker in build_workers(
            env.client,
            deps,
            layout,
            activities=activities,
            graceful_shutdown_timeout=WORKER_SHUTDOWN,
        ):
            if serve(worker.task_queue):
                await stack.enter_async_context(worker)
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test")
        )
        yield Shop(
            http=http,
            mailer=mailer,
            sessions=sessions,
            env=env,
            couriers_url=couriers_url,
            bank=bank,
            public_url=public_url,
            queues=layout,
        )
