"""The search caches (flows/catalogue.py Catalogue), on SQLite and PostgreSQL: whatever is kept —
answered pages, product cards, the in-memory index — a product added or a stock change shows in
search once the page cache's TTL has passed, not later."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from core.db import SessionFactory, transaction
from flows.catalogue import Catalogue
from models.store import Stock
from tests.support.products import Clock, add_products

TTL = 5.0


async def _names(catalogue: Catalogue, query: str) -> list[str]:
    return [card.name for card in (await catalogue.search(query, 1, 20)).items]


async def test_a_new_product_is_found_once_the_page_ttl_has_passed(
    sessions: SessionFactory, engine: AsyncEngine
) -> None:
    clock = Clock()
    catalogue = Catalogue(
        engine,
        cache_seconds=TTL,
        clock=clock,
    )
    await add_products(sessions, "Гирлянда светодиодная")
    assert await _names(catalogue, "гирлянда") == ["Гирлянда светодиодная"]
    await add_products(sessions, "Гирлянда уличная")
    assert await _names(catalogue, "гирлянда") == ["Гирлянда светодиодная"], "a cached page"
    clock.now += TTL + 0.1
    assert sorted(await _names(catalogue, "гирлянда")) == [
        "Гирлянда светодиодная",
        "Гирлянда уличная",
    ], "the index takes in the newer product"


async def test_a_stock_change_shows_once_the_page_ttl_has_passed(
    sessions: SessionFactory, engine: AsyncEngine
) -> None:
    clock = Clock()
    catalogue = Catalogue(engine, cache_seconds=TTL, clock=clock)
    pid = (await add_products(sessions, "Чайник заварочный", units=3))[0]

    async def units() -> int:
        (card,) = (await catalogue.search("чайник", 1, 20)).items
        return card.total_available

    assert await units() == 3
    async with transaction(sessions) as session:
        await session.exec(update(Stock).where(col(Stock.product_id) == pid).values(quantity=1))
    assert await units() == 3, "a cached page"
    clock.now += TTL + 0.1
    assert await units() == 1
    assert (await catalogue.search("заварочный", 1, 20)).items[0].total_available == 1
