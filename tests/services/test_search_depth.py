"""Search pages reach as deep as the ranked candidates (services/store_search.py SEARCH_DEPTH), each
product once and in one order however the pages are cut; a page past them is refused with the
reason — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import SessionFactory
from core.errors import ValidationError
from services import store_search
from tests.support.products import add_products


async def _all(engine: AsyncEngine, page_size: int) -> list[int]:
    seen: list[int] = []
    async with engine.connect() as conn:
        for page in range(1, store_search.SEARCH_DEPTH // page_size + 1):
            ids, has_more = await store_search.search_ids(
                conn=conn, query="чайник", page=page, page_size=page_size
            )
            seen += ids
            if not has_more:
                break
    return seen


async def test_paging_reaches_the_depth_and_stops_there(
    sessions: SessionFactory, engine: AsyncEngine
) -> None:
    # Names of different lengths rank differently: the order is not simply the ids'.
    names = [
        f"Чайник {'большой ' * (n % 3)}номер {n}" for n in range(store_search.SEARCH_DEPTH + 50)
    ]
    await add_products(sessions, *names)
    by_50, by_20 = await _all(engine, 50), await _all(engine, 20)
    assert len(by_50) == store_search.SEARCH_DEPTH
    assert len(set(by_50)) == store_search.SEARCH_DEPTH, "none twice"
    assert by_20 == by_50, "the same order whatever the page size"
    async with engine.connect() as conn:
        with pytest.raises(ValidationError, match=f"только первые {store_search.SEARCH_DEPTH}"):
            await store_search.search_ids(
                conn=conn, query="чайник", page=store_search.SEARCH_DEPTH // 20 + 1, page_size=20
            )
