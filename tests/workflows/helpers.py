"""Workflow test helpers: a worker on the test's own task queue with stand-in activities."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from models.payloads import Queues
from tests.conftest import WORKER_SHUTDOWN, unique_queues


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@asynccontextmanager
async def running_workers(
    client: Client, workflows: Sequence[type], activities: dict[str, Sequence[Callable[..., Any]]]
) -> AsyncIterator[Queues]:
    """One worker on a queue of this test's own serving the workflows and every stand-in
    activity (`activities` by domain); yields the layout to start runs with."""
    queues = unique_queues()
    every = [fn for functions in activities.values() for fn in functions]
    async with Worker(
        client,
        task_queue=queues.workflows,
        workflows=list(workflows),
        activities=every,
        graceful_shutdown_timeout=WORKER_SHUTDOWN,
    ):
        yield queues
