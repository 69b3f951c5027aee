"""A small asyncpg pool of its own for short read-only statements on PostgreSQL (search's product
cards): one round trip per read. Through the SQLAlchemy engine the same read took four (the
pool's ping, the statement, the transaction's end) and ≈ 0.3 ms more of Python: measured with
20 concurrent reads, ≈ 1 250 reads/s against ≈ 2 000 (bench/README.md has the search figures).
Writes and every other read stay on the engine."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import URL

T = TypeVar("T")
CONNECTIONS = 10


def asyncpg_dsn(url: URL) -> str | None:
    """asyncpg's DSN for a PostgreSQL URL of SQLAlchemy's (None for another database)."""
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _keep(_connection: Any) -> None:
    """Released as it is: these statements leave no session state (no cursors, locks, LISTEN,
    SET) to reset, so a release costs no round trip."""


class PostgresReads:
    """`run(work)` awaits `work(connection)` on a connection of the pool (opened on first use)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool: Any = None
        self._opening = asyncio.Lock()
        # Waiters take turns: the pool's own queue lets a newcomer take a just-released
        # connection before those already waiting (measured: with 50 searches on 10 connections,
        # one in 25 waited over 200 ms, up to 3 s; in turn, none after the start).
        self._turns = asyncio.Semaphore(CONNECTIONS)

    async def run(self, work: Callable[[Any], Awaitable[T]]) -> T:
        pool = self._pool or await self._open()
        async with self._turns, pool.acquire() as connection:
            return await work(connection)

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _open(self) -> Any:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn, min_size=1, max_size=CONNECTIONS, reset=_keep
                )
        return self._pool
