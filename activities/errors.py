"""Domain errors leave an activity as non-retryable ApplicationErrors typed by their code; so does
an input the database can never take (a number past its column), which no retry would mend."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DataError, StatementError
from temporalio.exceptions import ApplicationError

from core.errors import DomainError, ValidationError

P = ParamSpec("P")
R = TypeVar("R")


def _never_fits(exc: Exception) -> bool:
    """A value the database can never store (past its column's range or size)."""
    if isinstance(exc, OverflowError | DataError):
        return True
    return isinstance(exc, StatementError) and isinstance(exc.orig, OverflowError)


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
        except (OverflowError, StatementError) as exc:
            if not _never_fits(exc):
                raise  # an infrastructure failure: retried
            raise ApplicationError(
                "Недопустимое значение", {}, type=ValidationError.code, non_retryable=True
            ) from exc

    return wrapper
