"""The worker process: serves every task queue (or the ones named) until stopped."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from temporalio.client import Client, Interceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from core.settings import Settings
from core.telemetry import temporal_tracing, tracer_provider
from models.payloads import Queues
from workers.bootstrap import build_dependencies, build_workers

log = logging.getLogger("shopflow.worker")


def metrics_runtime(settings: Settings) -> Runtime | None:
    """The Temporal runtime of this process, serving its metrics (the SDK's own: workflow and
    activity tasks, latencies, failures; and the flows' outcomes counted by the workflows) to
    Prometheus on `worker_metrics_port`; None (the default runtime, no metrics) when 0."""
    if not settings.worker_metrics_port:
        return None
    address = f"{settings.host}:{settings.worker_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


async def connect(
    settings: Settings,
    attempts: int = 60,
    *,
    runtime: Runtime | None = None,
    interceptors: Sequence[Interceptor] = (),
) -> Client:
    """Connect to Temporal, waiting for it to come up (the dev server may still be starting)."""
    for attempt in range(1, attempts + 1):
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                runtime=runtime,
                interceptors=interceptors,
            )
        except RuntimeError:
            if attempt == attempts:
                raise
            await asyncio.sleep(1)
    raise AssertionError("unreachable")


async def run_worker(settings: Settings, queues: Sequence[str] | None = None) -> None:
    tracing = tracer_provider("shopflow-worker", settings.otlp_endpoint)
    client = await connect(
        settings, runtime=metrics_runtime(settings), interceptors=temporal_tracing(tracing)
    )
    deps = build_dependencies(settings)
    layout = Queues(settings.task_queue_prefix, settings.split_task_queues)
    workers = build_workers(client, deps, layout, queues)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker serving %s", ", ".join(w.task_queue for w in workers))
    tasks = [asyncio.create_task(w.run()) for w in workers]
    await stop.wait()
    log.info("worker stopping: finishing running activities")
    await asyncio.gather(*(w.shutdown() for w in workers))
    await asyncio.gather(*tasks, return_exceptions=True)
    for gateway in (deps.couriers, deps.sms):
        close = getattr(gateway, "aclose", None)
        if close is not None:
            await close()
    if deps.engine is not None:
        await deps.engine.dispose()
    if tracing is not None:
        tracing.shutdown()  # the spans still batched are sent
