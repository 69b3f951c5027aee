"""The API over ASGI (and on a local port for the bank's callbacks), a real Temporal dev server,
in-process workers on the test database, and the courier and bank emulators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.bank import HttpBankGateway
from adapters.couriers import HttpCourierGateway
from adapters.mailer import RecordingMailer
from api.app import create_app
from api.temporal import LazyTemporalClient
from core.db import SessionFactory
from core.settings import Settings
from core.timeutil import to_moscow, utcnow
from tests.conftest import BankEmulator, free_ports
from workers.bootstrap import WORKFLOW_RUNNER, WORKFLOWS, Dependencies, activities_by_queue
from workers.seed import seed_catalog
from workflows.policies import WORKFLOW_QUEUE


@dataclass
class Shop:
    http: httpx.AsyncClient
    mailer: RecordingMailer
    sessions: SessionFactory
    env: WorkflowEnvironment
    couriers_url: str
    bank: BankEmulator
    public_url: str  # where the app also listens, for the bank's callbacks


def api_settings(**overrides: object) -> Settings:
    return Settings(environment="test", public_url="http://shop.test", **overrides)  # type: ignore[arg-type]


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
    sabotage: Callable[[dict[str, list[Any]]], None] | None = None,
    **settings: object,
) -> AsyncIterator[Shop]:
    """The store as a browser reaches it: the app over ASGI, a worker per task queue on the real
    dev server, the courier and bank emulators. `sabotage` may swap activities before the workers
    start; `settings` override the app's."""
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
    activities = activities_by_queue(deps)
    if sabotage is not None:
        sabotage(activities)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(couriers.aclose)
        stack.push_async_callback(bank_gateway.aclose)
        app = create_app(
            api_settings(bank_callback_secret=bank.secret, **settings),
            session_factory=sessions,
            temporal=LazyTemporalClient.of(env.client),
            couriers=couriers,
        )
        public_url = await stack.enter_async_context(served(app))
        app.state.settings.public_url = public_url
        await stack.enter_async_context(
            Worker(
                env.client,
                task_queue=WORKFLOW_QUEUE,
                workflows=list(WORKFLOWS),
                workflow_runner=WORKFLOW_RUNNER,  # as the real worker runs them
            )
        )
        for queue, functions in activities.items():
            await stack.enter_async_context(
                Worker(env.client, task_queue=queue, activities=functions)
            )
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
        )


@pytest.fixture
async def shop(
    sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> AsyncIterator[Shop]:
    async with open_shop(sessions, dev_server_env, couriers_url, bank_emulator) as running:
        yield running


async def seed_and_login(shop: Shop) -> Shop:
    """The sample catalogue (stores, products, pickup points, slots) and a logged-in shopper."""
    from tests.api.test_auth_contract import login, register

    await seed_catalog(shop.sessions, today=to_moscow(utcnow()).date())
    await login(shop, await register(shop))
    return shop


@pytest.fixture
async def seeded(shop: Shop) -> Shop:
    """The sample catalogue and a logged-in shopper."""
    return await seed_and_login(shop)
