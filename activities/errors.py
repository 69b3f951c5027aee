"""Domain errors leave an activity as non-retryable ApplicationErrors typed by their code."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from temporalio.exceptions import ApplicationError

from core.errors import DomainError

P = ParamSpec("P")
R = TypeVar("R")


def domain_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn a DomainError into ApplicationError(type=code); infrastructure errors pass untouched
    so the retry policy handles them."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except DomainError as exc:
            raise ApplicationError(
                exc.message, exc.fields, type=exc.code, non_retryable=not exc.retryable
            ) from exc

    return wrapper
