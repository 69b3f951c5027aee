"""Sabotaged activities for `open_shop(..., sabotage=...)`: one activity swapped for a stand-in
that fails for good, to drive a run into its compensations."""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

Sabotage = Callable[[dict[str, list[Any]]], None]


def _stand_in(name: str, real: Callable[[Any], Awaitable[Any]], when: Callable[[Any], bool]) -> Any:
    async def stand_in(data: Any) -> Any:
        if when(data):
            raise ApplicationError(
                f"{name}: отказ (имитация)", type="ConflictError", non_retryable=True
            )
        return await real(data)

    hints = typing.get_type_hints(real)
    stand_in.__annotations__ = {"data": hints["data"], "return": hints["return"]}
    return activity.defn(name=name)(stand_in)


def failing(name: str, when: Callable[[Any], bool] = lambda _: True) -> Sabotage:
    """Swap the activity `name` for one that fails for good (when `when` says so)."""

    def swap(activities: dict[str, list[Any]]) -> None:
        for functions in activities.values():
            for index, real in enumerate(functions):
                if real.__temporal_activity_definition.name == name:
                    functions[index] = _stand_in(name, real, when)
                    return
        raise AssertionError(f"no activity {name}")

    return swap
