"""What a checkout asked of Temporal, counted in the histories of its runs (children included).

`read_shapes` waits for each sampled run to close (a checkout's mails go on after the shopper's
last answer), reads its history and those of its child runs, and counts per checkout: history
events, workflow tasks (WorkflowTaskCompleted events), ordinary activities (ActivityTaskScheduled),
local activities (MarkerRecorded), child workflows, Updates and timers.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

CLOSE_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Shape:
    """One checkout's runs, counted."""

    events: int
    workflow_tasks: int
    activities: int
    local_activities: int
    children: int
    updates: int
    timers: int


@dataclass(frozen=True)
class Shapes:
    """Over the sampled checkouts of a row: the median of each count, and the range of the two
    that depend on timing (under load an Update or a completion can get a workflow task of its
    own)."""

    checkouts: int
    median: dict[str, float]
    events_range: tuple[int, int]
    workflow_tasks_range: tuple[int, int]


async def histories(client: Client, workflow_id: str) -> list[Sequence[HistoryEvent]]:
    """The run's history and, recursively, its child runs'."""
    events = (await client.get_workflow_handle(workflow_id).fetch_history()).events
    found: list[Sequence[HistoryEvent]] = [events]
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            child = event.child_workflow_execution_started_event_attributes.workflow_execution
            found += await histories(client, child.workflow_id)
    return found


def shape_of(runs: Sequence[Sequence[HistoryEvent]]) -> Shape:
    kinds: Counter[int] = Counter(event.event_type for events in runs for event in events)
    return Shape(
        events=sum(len(events) for events in runs),
        workflow_tasks=kinds[EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED],
        activities=kinds[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
        local_activities=kinds[EventType.EVENT_TYPE_MARKER_RECORDED],
        children=len(runs) - 1,
        updates=kinds[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED],
        timers=kinds[EventType.EVENT_TYPE_TIMER_STARTED],
    )


async def _closed(client: Client, workflow_id: str, seconds: float) -> bool:
    try:
        await asyncio.wait_for(client.get_workflow_handle(workflow_id).result(), seconds)
    except Exception:  # timed out or failed: its history is not a checkout's finished shape
        return False
    return True


async def read_shapes(
    client: Client, workflow_ids: Sequence[str], *, wait_seconds: float = CLOSE_WAIT_SECONDS
) -> Shapes | None:
    """The counts of the given checkouts that closed within `wait_seconds`; None if none did."""
    shapes = []
    for workflow_id in workflow_ids:
        if await _closed(client, workflow_id, wait_seconds):
            shapes.append(shape_of(await histories(client, workflow_id)))
    if not shapes:
        return None
    events = [shape.events for shape in shapes]
    tasks = [shape.workflow_tasks for shape in shapes]
    return Shapes(
        checkouts=len(shapes),
        median={
            field.name: float(statistics.median(getattr(s, field.name) for s in shapes))
            for field in fields(Shape)
        },
        events_range=(min(events), max(events)),
        workflow_tasks_range=(min(tasks), max(tasks)),
    )
