"""How the catalogue reads product cards, on the hottest path of the store: on an SQLite file,
stdlib sqlite3 on the event loop's thread (core/sqlite_reads.py says why); on PostgreSQL, asyncpg
itself (core/pg_reads.py); otherwise through SQLAlchemy."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from core.pg_reads import PostgresReads, asyncpg_dsn
from core.sqlite_reads import SqliteReads, sqlite_file
from models.store import ProductCard
from services import store_search


class CardReads(Protocol):
    async def cards_and_newest(
        self, product_ids: Sequence[int]
    ) -> tuple[list[ProductCard], int]: ...

    async def aclose(self) -> None: ...


class EngineCardReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def cards_and_newest(self, product_ids: Sequence[int]) -> tuple[list[ProductCard], int]:
        async with self._engine.connect() as conn:
            return await store_search.cards_and_newest(conn=conn, product_ids=product_ids)

    async def aclose(self) -> None:
        """The engine is its owner's to dispose of."""


class AsyncpgCardReads:
    def __init__(self, reads: PostgresReads) -> None:
        self._reads = reads

    async def cards_and_newest(self, product_ids: Sequence[int]) -> tuple[list[ProductCard], int]:
        return await self._reads.run(
            partial(store_search.cards_and_newest_asyncpg, product_ids=product_ids)
        )

    async def aclose(self) -> None:
        await self._reads.aclose()


class SqliteCardReads:
    def __init__(self, reads: SqliteReads) -> None:
        self._reads = reads

    async def cards_and_newest(self, product_ids: Sequence[int]) -> tuple[list[ProductCard], int]:
        return self._reads.run(
            partial(store_search.cards_and_newest_sqlite, product_ids=product_ids)
        )

    async def aclose(self) -> None:
        self._reads.close()


def card_reads(engine: AsyncEngine) -> CardReads:
    """The quickest way to read cards from `engine`'s database."""
    path = sqlite_file(engine.url)
    if path is not None:
        return SqliteCardReads(SqliteReads(path))
    dsn = asyncpg_dsn(engine.url)
    if dsn is not None and engine.dialect.driver == "asyncpg":
        return AsyncpgCardReads(PostgresReads(dsn))
    return EngineCardReads(engine)  # an in-memory SQLite database, another driver
