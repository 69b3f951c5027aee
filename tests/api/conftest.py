"""The API over ASGI, a real Temporal dev server, and an in-process worker on the test database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.couriers import HttpCourierGateway
from adapters.mailer import RecordingMailer
from api.app import create_app
from api.temporal import LazyTemporalClient
from core.db import SessionFactory
from core.settings import Settings
from core.timeutil import to_moscow, utcnow
from workers.bootstrap import Dependencies, build_workers
from workers.seed import seed_catalog


@dataclass
class Shop:
    http: httpx.AsyncClient
    mailer: RecordingMailer
    sessions: SessionFactory
    env: WorkflowEnvironment
    couriers_url: str


def api_settings(**overrides: object) -> Settings:
    return Settings(environment="test", public_url="http://shop.test", **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def shop(
    sessions: SessionFactory, dev_server_env: WorkflowEnvironment, couriers_url: str
) -> AsyncIterator[Shop]:
    """The store as a browser reaches it, with its worker and the courier emulator running."""
    mailer = RecordingMailer()
    couriers = HttpCourierGateway(couriers_url, timeout=1.0)
    deps = Dependencies(
        engine=None,
        session_factory=sessions,
        mailer=mailer,
        store_url="http://shop.test",
        couriers=couriers,
    )
    app = create_app(
        api_settings(),
        session_factory=sessions,
        temporal=LazyTemporalClient.of(dev_server_env.client),
        couriers=couriers,
    )
    async with AsyncExitStack() as stack:
        stack.push_async_callback(couriers.aclose)
        for worker in build_workers(dev_server_env.client, deps):
            await stack.enter_async_context(worker)
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test")
        )
        yield Shop(
            http=http,
            mailer=mailer,
            sessions=sessions,
            env=dev_server_env,
            couriers_url=couriers_url,
        )


@pytest.fixture
async def seeded(shop: Shop) -> Shop:
    """The sample catalogue (stores, products, pickup points, slots) and a logged-in shopper."""
    from tests.api.test_auth_contract import login, register

    await seed_catalog(shop.sessions, today=to_moscow(utcnow()).date())
    await login(shop, await register(shop))
    return shop
