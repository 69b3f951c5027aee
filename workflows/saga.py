"""Compensations for a workflow: registered before the step they undo, run in reverse."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

Undo = Callable[[], Awaitable[Any]]


class Saga:
    def __init__(self) -> None:
        self._undos: list[tuple[str, Undo]] = []

    def on_failure(self, name: str, undo: Undo) -> None:
        """Register `undo` before running the step it reverses (a timed-out step may have run)."""
        self._undos.append((name, undo))

    async def compensate(self) -> None:
        """Run every undo, newest first; shielded so a cancelled workflow still cleans up.

        An undo that keeps failing past its retry policy is logged and the rest still run:
        leaving later steps undone would be worse than reporting one stuck step.
        """
        await asyncio.shield(asyncio.ensure_future(self._run_all()))

    async def _run_all(self) -> None:
        while self._undos:
            name, undo = self._undos.pop()
            try:
                await undo()
            except ActivityError as exc:
                workflow.logger.error("compensation %s failed: %s", name, exc.cause or exc)
