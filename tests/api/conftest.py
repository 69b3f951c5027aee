"""The API over ASGI, a real Temporal dev server, and an in-process worker on the test database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.couriers import HttpCourierGateway
from adapters.mailer import RecordingMailer
from api.app import create_app
from api.temporal import LazyTemporalClient
from core.db import SessionFactory
from core.settings import Settings
from core.timeutil import to_moscow, utcnow
from workers.bootstrap import WORKFLOWS, Dependencies, activities_by_queue
from workers.seed import seed_catalog
from workflows.policies import WORKFLOW_QUEUE


@dataclass
class Shop:
    http: httpx.AsyncClient
    mailer: RecordingMailer
    sessions: SessionFactory
    env: WorkflowEnvironment
    couriers_url: str


def api_settings(**overrides: object) -> Settings:
    return Settings(environment="test", public_url="http://shop.test", **overrides)  # type: ignore[arg-type]


@asynccontextmanager
async def open_shop(
    sessions: SessionFactory,
    env: WorkflowEnvironment,
    couriers_url: str,
    sabotage: Callable[[dict[str, list[Any]]], None] | None = None,
) -> AsyncIterator[Shop]:
    """The store as a browser reaches it: the app over ASGI, a worker per task queue on the real
    dev server, the courier emulator. `sabotage` may swap activities before the workers start."""
    mailer = RecordingMailer()
    couriers = HttpCourierGateway(couriers_url, timeout=1.0)
    deps = Dependencies(
        engine=None,
        session_factory=sessions,
        mailer=mailer,
        store_url="http://shop.test",
        couriers=couriers,
    )
    activities = activities_by_queue(deps)
    if sabotage is not None:
        sabotage(activities)
    app = create_app(
        api_settings(),
        session_factory=sessions,
        temporal=LazyTemporalClient.of(env.client),
        couriers=couriers,
    )
    async with AsyncExitStack() as stack:
        stack.push_async_callback(couriers.aclose)
        await stack.enter_async_context(
            Worker(env.client, task_queue=WORKFLOW_QUEUE, workflows=list(WORKFLOWS))
        )
        for queue, functions in activities.items():
            await stack.enter_async_context(
                Worker(env.client, task_queue=queue, activities=functions)
            )
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test")
        )
        yield Shop(http=http, mailer=mailer, sessions=sessions, env=env, couriers_url=couriers_url)


@pytest.fixture
async def shop(
    sessions: SessionFactory, dev_server_env: WorkflowEnvironment, couriers_url: str
) -> AsyncIterator[Shop]:
    async with open_shop(sessions, dev_server_env, couriers_url) as running:
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
