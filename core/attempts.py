"""A limit on tries counted in the database per subject (a shopper, an account, an e-mail) and per
client address within a sliding window: `limited` counts failed tries (wrong gift card codes,
wrong passwords), `admitted` every try (registrations).

Generic over the table: each domain keeps its own attempts table (models/billing.py
ActivationAttempt, models/auth.py LoginAttempt, RegistrationAttempt) with the columns of
`AttemptRow`, and passes its class here; core knows no model."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import SessionFactory, transaction
from core.errors import TooManyAttemptsError
from core.timeutil import utcnow

PRUNE_BATCH = 500  # attempts past the window removed per recorded one: bounded work per request
ADDRESS_LENGTH = 64  # the columns' width; an IPv6 address takes at most 45

T = TypeVar("T")


class AttemptRow(Protocol):
    """The columns an attempts table has (its class is constructed with these keywords)."""

    id: int | None
    username: str
    address: str
    at: datetime


@dataclass(frozen=True)
class AttemptLimit:
    """At most `per_subject` failed tries by one subject and `per_address` from one client
    address within the last `window`."""

    per_subject: int
    per_address: int
    window: timedelta


def wait_seconds(wait: timedelta) -> int:
    """A Retry-After value: whole seconds, at least one."""
    return max(1, math.ceil(wait.total_seconds()))


def wait_minutes(seconds: int) -> int:
    """The same wait in whole minutes, for a message («через N мин.»)."""
    return math.ceil(seconds / 60)


async def limited(
    *,
    sessions: SessionFactory,
    table: type[Any],
    subject: str,
    address: str,
    limit: AttemptLimit,
    attempt: Callable[[AsyncSession], Awaitable[T]],
    refusal: Callable[[int], str],
    clock: Callable[[], datetime] = utcnow,
    successes_count: bool = False,
) -> T:
    """Run `attempt` behind the limit: once the subject or the address has `limit` failed tries
    within the window, TooManyAttemptsError (message `refusal(minutes)`) — for a try that would
    succeed too, or the refusal would be a hint. A try whose `attempt` raises counts; one that
    returns and a refused one do not.

    It runs its own two transactions, since a failed try must stay counted although the caller
    sees the error: (1) this try is recorded and committed, older ones pruned; (2) the tries of
    the window other than this one are counted: past a limit this try is removed and refused,
    else `attempt` runs in that transaction (and the try is removed if it returned). As every try
    counts only after its own record is committed, of tries racing the last to commit sees all
    the others: never more than the limit of failures pass, however many race (racing tries can
    only refuse one another early)."""
    moment = clock()
    async with transaction(sessions) as session:
        row = await _record(session, table, subject, address, moment, limit.window)
    async with transaction(sessions) as session:
        wait = await _wait_left(session, table, row, limit)
        if wait is None:
            result = await attempt(session)
            if not successes_count:
                await _forget(session, table, row)  # a success does not count
            return result
        await _forget(session, table, row)  # nor does a refused try
    raise _refused(wait, refusal)


async def admitted(
    *,
    sessions: SessionFactory,
    table: type[Any],
    subject: str,
    address: str,
    limit: AttemptLimit,
    refusal: Callable[[int], str],
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Count this try, whatever comes of it, and let it through unless the subject or the address
    already has `limit` tries within the window: then TooManyAttemptsError (a refused try does
    not count). `limited` with every try counted, so racing tries are bounded alike."""

    async def through(_session: AsyncSession) -> None:
        return None

    await limited(
        sessions=sessions,
        table=table,
        subject=subject,
        address=address,
        limit=limit,
        attempt=through,
        refusal=refusal,
        clock=clock,
        successes_count=True,
    )


def _refused(wait: timedelta, refusal: Callable[[int], str]) -> TooManyAttemptsError:
    seconds = wait_seconds(wait)
    return TooManyAttemptsError(refusal(wait_minutes(seconds)), retry_after_seconds=seconds)


async def _record(
    session: AsyncSession,
    table: type[Any],
    subject: str,
    address: str,
    moment: datetime,
    window: timedelta,
) -> AttemptRow:
    # SKIP LOCKED (PostgreSQL; SQLite has one writer anyway): two tries pruning at once never
    # wait for, or deadlock on, each other's rows.
    stale = (
        select(table.id)
        .where(col(table.at) <= moment - window)
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    await session.exec(delete(table).where(col(table.id).in_(stale)))
    row: AttemptRow = table(username=subject, address=address[:ADDRESS_LENGTH], at=moment)
    session.add(row)
    await session.flush()
    return row


async def _wait_left(
    session: AsyncSession, table: type[Any], row: AttemptRow, limit: AttemptLimit
) -> timedelta | None:
    """How long until both the subject and the address are under their limits again, not
    counting `row`; None if they are now."""
    waits: list[timedelta] = []
    for column, value, most in (
        (table.username, row.username, limit.per_subject),
        (table.address, row.address, limit.per_address),
    ):
        # The `most`-th newest other try: while it is in the window, so are `most` tries.
        found = await session.exec(
            select(table.at)
            .where(
                col(column) == value,
                col(table.at) > row.at - limit.window,
                col(table.id) != row.id,
            )
            .order_by(col(table.at).desc())
            .offset(most - 1)
            .limit(1)
        )
        at = found.first()
        if at is not None:
            waits.append(at + limit.window - row.at)
    return max(waits, default=None)


async def _forget(session: AsyncSession, table: type[Any], row: AttemptRow) -> None:
    await session.exec(delete(table).where(col(table.id) == row.id))
