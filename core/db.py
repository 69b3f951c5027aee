"""Async database engine and sessions for SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]
RowT = TypeVar("RowT", bound=SQLModel)


def normalize_database_url(url: str) -> str:
    """Turn the URLs people paste (postgres://, sqlite:///) into their async-driver form."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; busy_timeout makes a second writer wait
    # instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An engine for `url`; SQLite files get their folder created and WAL switched on."""
    url = normalize_database_url(url)
    if is_sqlite(url):
        path = url.split("///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    settings = {
        # A GIN index scan returns at most about this many rows (a soft limit): search ranks a
        # bounded candidate set however common its words are (see services/store_search.py).
        "gin_fuzzy_search_limit": "20000",
    }
    return create_async_engine(
        url,
        echo=echo,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        connect_args={"server_settings": settings},
    )


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def transaction(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed on success and rolled back on any error."""
    async with factory() as session, session.begin():
        yield session


async def get_or_create(
    session: AsyncSession, model: type[RowT], defaults: dict[str, Any] | None = None, **key: Any
) -> tuple[RowT, bool]:
    """The row of `model` matching `key`, created from `key` and `defaults` if missing; True when
    created.

    Safe against a concurrent twin (a retried activity): the loser of the unique-key race rolls
    back its savepoint and returns the winner's row.
    """
    conditions = [getattr(model, name) == value for name, value in key.items()]
    existing = (await session.exec(select(model).where(*conditions))).first()
    if existing is not None:
        return existing, False
    row = model(**key, **(defaults or {}))
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return (await session.exec(select(model).where(*conditions))).one(), False
    return row, True


_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


async def plan_with_values(conn: AsyncConnection) -> None:
    """On PostgreSQL, plan the rest of this transaction's statements with their parameters'
    values. asyncpg prepares every statement, and after five runs PostgreSQL may switch to a
    generic plan: for search's `@@` it scanned the primary key and tested every row (42–55 ms
    instead of 2.4–3.5 ms at 100 000 products). Only statements whose best plan depends on the
    values ask for it; the others (product cards: 20 primary keys) keep their cached plans."""
    if conn.dialect.name == "postgresql":
        await conn.execute(_CUSTOM_PLANS)
