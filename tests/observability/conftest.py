"""The shop observed as an operator would: its spans recorded in memory, its Temporal runtime
serving Prometheus metrics on a local port, a shopper logged in (tests/support/shop.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory
from core.telemetry import temporal_tracing
from tests.conftest import BankEmulator, free_ports
from tests.support.auth import login_shopper
from tests.support.shop import Shop, api_settings, open_shop
from workers.worker import connect, metrics_runtime


@dataclass
class Observed:
    shop: Shop
    spans: InMemorySpanExporter
    worker_metrics_url: str  # the worker's Temporal runtime, as Prometheus scrapes it

    async def worker_metrics(self) -> str:
        async with httpx.AsyncClient(timeout=10.0) as http:
            response = await http.get(self.worker_metrics_url)
        response.raise_for_status()
        return response.text


@pytest.fixture
async def observed(
    seeded_sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> AsyncIterator[Observed]:
    spans = InMemorySpanExporter()
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(spans))
    (port,) = free_ports(1)
    target: Client = dev_server_env.client
    settings = api_settings(
        temporal_address=target.service_client.config.target_host,
        temporal_namespace=target.namespace,
        worker_metrics_port=port,
    )
    # The worker's own wiring (workers/worker.py): its runtime and its tracing interceptor.
    client = await connect(
        settings, runtime=metrics_runtime(settings), interceptors=temporal_tracing(tracing)
    )
    env = WorkflowEnvironment.from_client(client)
    async with open_shop(
        seeded_sessions, env, couriers_url, bank_emulator, tracing=tracing
    ) as running:
        yield Observed(await login_shopper(running), spans, f"http://127.0.0.1:{port}/metrics")
    tracing.shutdown()
