"""The reference of `bench.checkout`: what the old checkout asked of the engine, and nothing else.

A workflow that runs `STEPS` ordinary no-op activities one after another on its own task queue
(so the SDK starts each eagerly, as it did the old checkout's). No Updates, timers, children or
payloads beyond an int: the bare cost of a nine-step chain on this Temporal server.

The worker imports this module inside Temporal's sandbox (the SDK's default one): it imports
only the SDK and has no side effects.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

STEPS = 9  # the old checkout's activities on its happy path with pickup and a wallet


@activity.defn(name="bench.noop")
async def noop(step: int) -> int:
    return step


@workflow.defn(name="BenchBareChain")
class BareChain:
    @workflow.run
    async def run(self, steps: int) -> int:
        for step in range(steps):
            await workflow.execute_activity(
                noop, step, start_to_close_timeout=timedelta(seconds=30)
            )
        return steps
