"""The catalogue as the edge reads it: search with a few seconds' cache of answers and spelling
correction when a query finds nothing, suggestions while typing, and the lines of an order priced
and limited by the catalogue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.cache import TTLCache
from core.errors import NotFoundError, ValidationError
from core.search_index import SearchIndex
from core.spelling import Speller
from core.text import normalize
from flows.catalogue_reads import card_reads
from flows.search_index import LiveIndex
from models.order import ItemRequest
from models.store import ProductCard, SearchPage, Suggestion
from services import order, store, store_search

SEARCH_CACHE_ENTRIES = 2048
CARD_ENTRIES = 20_000  # product cards (their stock as old as a cached page's at most)
SUGGESTIONS = 8
# New catalogue words reach the speller at most this long after they are indexed (or the page
# cache's TTL, if longer: its pages are that old anyway).
SPELLER_REFRESH_SECONDS = 5.0

V = TypeVar("V")


@dataclass(frozen=True)
class Answer:
    """A page of search results and the same as the JSON contract sends it (encoded once: a
    cached answer costs no serialization)."""

    page: SearchPage
    json: bytes

    @classmethod
    def of(cls, page: SearchPage) -> Answer:
        return cls(page, page.model_dump_json(by_alias=True).encode())


class Catalogue:
    """Search answers are kept `cache_seconds` (0: not kept): popular queries then cost no
    database work. Stock shown may be that many seconds old; checkout holds stock against the
    database anyway. Which products match is asked of the in-memory index (flows/search_index.py);
    every read of cards also says whether it misses a product added since (then it is extended
    and asked again), and with a page cache it looks on its own once per TTL."""

    def __init__(
        self,
        engine: AsyncEngine,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        entries = SEARCH_CACHE_ENTRIES if cache_seconds > 0 else 0  # 0: nothing kept
        self._cache = TTLCache[Answer](ttl=cache_seconds, max_entries=entries, clock=clock)
        self._suggestions = TTLCache[list[Suggestion]](
            ttl=cache_seconds, max_entries=entries, clock=clock
        )
        self._cards = TTLCache[ProductCard](
            ttl=cache_seconds, max_entries=CARD_ENTRIES if cache_seconds > 0 else 0, clock=clock
        )
        # Without a page cache every search reads cards, which report new products.
        self._index = LiveIndex(engine, cache_seconds if cache_seconds > 0 else None, clock)
        self._reads = card_reads(engine)
        self._speller = Speller()
        self._speller_seen = 0  # the newest vocabulary row the speller has
        self._speller_at: float | None = None
        self._speller_every = max(SPELLER_REFRESH_SECONDS, cache_seconds)
        self._speller_lock = asyncio.Lock()
        self._clock = clock

    def start(self) -> None:
        """Begin loading the search index (else the first search does)."""
        self._index.start()

    async def ready(self) -> None:
        """Wait until the search index is loaded."""
        await self._index.ready()

    @property
    def index_loaded(self) -> bool:
        return self._index.loaded

    async def aclose(self) -> None:
        await self._index.aclose()
        await self._reads.aclose()

    async def search(self, query: str, page: int, size: int) -> SearchPage:
        """A page of search results (`answer`'s)."""
        return (await self.answer(query, page, size)).page

    async def answer(self, query: str, page: int, size: int) -> Answer:
        """A page of search results, from the last few seconds' answers when the same page was
        just asked for. A query that finds nothing is asked again with its mistyped words corrected
        (`corrected` says so)."""
        result = await _cached(
            self._cache,
            _key(query, page, size),
            lambda: self._answer(query, page, size),
        )
        # The key folds case and spaces; the answer echoes the query as this shopper typed.
        if result.page.query == query:
            return result
        return Answer.of(result.page.model_copy(update={"query": query}))

    async def _answer(self, query: str, page: int, size: int) -> Answer:
        return Answer.of(await self._search(query, page, size))

    async def _search(self, query: str, page: int, size: int) -> SearchPage:
        store_search.search_terms(query, page, size)  # a query refused costs no database work
        result = await self._found(query, page, size)
        if result.items or (page > 1 and (await self._matching(query, 1, 1))[0]):
            return result  # found, or a page past the end of what the query finds
        corrected = (await self._fresh_speller()).correct(query)
        if corrected is None:
            return result
        fixed = await self._found(corrected, page, size)
        return (
            fixed.model_copy(update={"query": query, "corrected": corrected})
            if fixed.items
            else result
        )

    async def _found(self, query: str, page: int, size: int) -> SearchPage:
        """A page of cards matching `query`. The cards' read says whether the index a page came
        from misses a newer product: then it is extended and the page asked again."""
        index = await self._index.current()
        ids, has_more = await _page(self._engine, index, query, page, size)
        found, newest = await self._cards_of(ids)
        if index is not None and newest is not None and newest > index.last_id:
            index = await self._index.caught_up(newest)
            ids, has_more = await _page(self._engine, index, query, page, size)
            found, _ = await self._cards_of(ids)
        return SearchPage(query=query, page=page, page_size=size, has_more=has_more, items=found)

    async def _matching(self, query: str, page: int, size: int) -> tuple[list[int], bool]:
        return await _page(self._engine, await self._index.current(), query, page, size)

    async def _cards_of(self, ids: list[int]) -> tuple[list[ProductCard], int | None]:
        """The cards of `ids` (kept ones, the rest read) and, if any were read, the newest
        product's id."""
        cards = {pid: card for pid in ids if (card := self._cards.get(pid)) is not None}
        newest = None
        if len(cards) < len(ids) or not ids:
            read, newest = await self._reads.cards_and_newest([i for i in ids if i not in cards])
            for card in read:
                cards[card.id] = card
                self._cards.put(card.id, card)
        return [cards[pid] for pid in ids if pid in cards], newest

    async def suggest(self, query: str) -> list[Suggestion]:
        """Up to SUGGESTIONS products for what the shopper has typed so far (corrected if it finds
        nothing); none for a query search would refuse."""
        return await _cached(
            self._suggestions, _key(query, 1, SUGGESTIONS), lambda: self._suggest(query)
        )

    async def _suggest(self, query: str) -> list[Suggestion]:
        try:
            page = await self._search(query, 1, SUGGESTIONS)
        except ValidationError:
            return []
        return [Suggestion(id=card.id, name=card.name) for card in page.items]

    async def _fresh_speller(self) -> Speller:
        """The speller, with the words indexed since it last looked if that was a while ago."""
        now = self._clock()
        if self._speller_at is not None and (
            now - self._speller_at < self._speller_every or self._speller_lock.locked()
        ):
            return self._speller  # fresh, or another search is bringing it up to date
        async with self._speller_lock:
            if self._speller_at is None or now - self._speller_at >= self._speller_every:
                async with self._engine.connect() as conn:
                    while rows := await store_search.search_words(
                        conn=conn, after=self._speller_seen
                    ):
                        self._speller.add((word, stem, n) for _, word, stem, n in rows)
                        self._speller_seen = rows[-1][0]
                self._speller_at = now
        return self._speller


async def _page(
    engine: AsyncEngine, index: SearchIndex | None, query: str, page: int, size: int
) -> tuple[list[int], bool]:
    """The ids of a page of products matching `query`, best first, and whether more follow:
    from the index, or from the database while the index is loading."""
    if index is None:
        async with engine.connect() as conn:
            return await store_search.search_ids(conn=conn, query=query, page=page, page_size=size)
    terms = store_search.search_terms(query, page, size)
    ids = index.search(terms, (page - 1) * size, size + 1)
    return ids[:size], len(ids) > size


def _key(query: str, page: int, size: int) -> tuple[str, int, int]:
    return normalize(" ".join(query.split())), page, size


async def _cached(
    cache: TTLCache[V], key: tuple[str, int, int], compute: Callable[[], Awaitable[V]]
) -> V:
    """The cached answer for `key`, or `compute`'s (then kept)."""
    if (hit := cache.get(key)) is not None:
        return hit
    value = await compute()
    cache.put(key, value)
    return value


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
