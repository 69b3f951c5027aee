"""The catalogue as the edge reads it: search with a few seconds' cache of answers, and the lines
of an order priced and limited by the catalogue."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.cache import TTLCache
from core.errors import NotFoundError
from core.text import normalize
from models.order import ItemRequest
from models.store import SearchPage
from services import order, store

SEARCH_CACHE_ENTRIES = 2048


class Catalogue:
    """Search answers are kept `cache_seconds` (0: not kept): popular queries then cost no
    database work. Stock shown may be that many seconds old; checkout holds stock against the
    database anyway."""

    def __init__(self, engine: AsyncEngine, cache_seconds: float) -> None:
        self._engine = engine
        self._cache = (
            TTLCache[SearchPage](ttl=cache_seconds, max_entries=SEARCH_CACHE_ENTRIES)
            if cache_seconds > 0
            else None
        )

    async def search(self, query: str, page: int, size: int) -> SearchPage:
        """A page of search results, from the last few seconds' answers when the same page was
        just asked for."""
        key = (normalize(" ".join(query.split())), page, size)
        if self._cache is not None and (hit := self._cache.get(key)) is not None:
            # The key folds case and spaces; the answer echoes the query as this shopper typed.
            return hit if hit.query == query else hit.model_copy(update={"query": query})
        async with self._engine.connect() as conn:  # only on a miss
            result = await store.search(conn=conn, query=query, page=page, page_size=size)
        if self._cache is not None:
            self._cache.put(key, result)
        return result


async def order_lines(conn: AsyncConnection, wanted: Sequence[ItemRequest]) -> list[order.Line]:
    """The wanted items priced and limited by the catalogue; an unknown product is NotFoundError."""
    facts = await store.product_facts(conn=conn, product_ids=[item.product.id for item in wanted])
    missing = sorted({item.product.id for item in wanted} - set(facts))
    if missing:
        raise NotFoundError(f"Товар не найден: {', '.join(map(str, missing))}")
    return [
        order.Line(
            product_id=item.product.id,
            name=facts[item.product.id].name,
            price_kopecks=facts[item.product.id].price_kopecks,
            quantity=item.quantity,
            available=facts[item.product.id].available,
        )
        for item in wanted
    ]
