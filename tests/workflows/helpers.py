"""Workflow test helpers: workers for every queue with stand-in activities, unique ids."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from workflows.policies import ACTIVITY_QUEUES, WORKFLOW_QUEUE


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@asynccontextmanager
async def running_workers(
    client: Client, workflows: Sequence[type], activities: dict[str, Sequence[Callable[..., Any]]]
) -> AsyncIterator[None]:
    """Workers for the workflow queue and each activity queue that has activities."""
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(
            Worker(client, task_queue=WORKFLOW_QUEUE, workflows=list(workflows))
        )
        for queue in ACTIVITY_QUEUES:
            if activities.get(queue):
                await stack.enter_async_context(
                    Worker(client, task_queue=queue, activities=list(activities[queue]))
                )
        yield
