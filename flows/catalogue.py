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
from core.spelling import Speller
from core.text import normalize
from models.order import ItemRequest
from models.store import ProductCard, SearchPage, Suggestion
from services import order, store

SEARCH_CACHE_ENTRIES = 2048
# Which products a query finds changes only when products are added: those lists are kept this
# long (or the page cache's TTL, if longer), and all dropped as soon as a newer product is seen.
MATCHES_SECONDS = 60.0
MATCHES_ENTRIES = 8192
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
    database anyway."""

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
        self._matches = TTLCache[tuple[list[int], bool]](
            ttl=max(MATCHES_SECONDS, cache_seconds),
            max_entries=MATCHES_ENTRIES if cache_seconds > 0 else 0,
            clock=clock,
        )
        self._cards = TTLCache[ProductCard](
            ttl=cache_seconds, max_entries=CARD_ENTRIES if cache_seconds > 0 else 0, clock=clock
        )
        self._cache_seconds = cache_seconds
        self._newest: int | None = None  # the newest product when the matches were last checked
        self._newest_at: float | None = None
        self._speller = Speller()
        self._speller_seen = 0  # the newest vocabulary row the speller has
        self._speller_at: float | None = None
        self._speller_every = max(SPELLER_REFRESH_SECONDS, cache_seconds)
        self._speller_lock = asyncio.Lock()
        self._clock = clock

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
        async with self._engine.connect() as conn:
            result = await self._found(conn, query, page, size)
            if result.items or (page > 1 and await _finds_any(conn, query)):
                return result  # found, or a page past the end of what the query finds
            corrected = (await self._fresh_speller(conn)).correct(query)
            if corrected is None:
                return result
            fixed = await self._found(conn, corrected, page, size)
        return (
            fixed.model_copy(update={"query": query, "corrected": corrected})
            if fixed.items
            else result
        )

    async def _found(self, conn: AsyncConnection, query: str, page: int, size: int) -> SearchPage:
        """services/store.py `search`, its two halves kept apart: which products match (kept
        MATCHES_SECONDS, until the catalogue grows) and their cards (kept as long as a page)."""
        await self._check_newest(conn)
        key = _key(query, page, size)
        matches = self._matches.get(key)
        if matches is None:
            matches = await store.search_ids(conn=conn, query=query, page=page, page_size=size)
            self._matches.put(key, matches)
        ids, has_more = matches
        cards = {pid: card for pid in ids if (card := self._cards.get(pid)) is not None}
        for card in await store.cards(conn=conn, product_ids=[i for i in ids if i not in cards]):
            cards[card.id] = card
            self._cards.put(card.id, card)
        return SearchPage(
            query=query,
            page=page,
            page_size=size,
            has_more=has_more,
            items=[cards[pid] for pid in ids if pid in cards],
        )

    async def _check_newest(self, conn: AsyncConnection) -> None:
        """Once a page cache's TTL: drop every kept list of matches if a product was added."""
        now = self._clock()
        if self._cache_seconds <= 0 or (
            self._newest_at is not None and now - self._newest_at < self._cache_seconds
        ):
            return
        self._newest_at = now
        newest = await store.newest_product(conn=conn)
        if newest != self._newest:
            self._matches.clear()
            self._newest = newest

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

    async def _fresh_speller(self, conn: AsyncConnection) -> Speller:
        """The speller, with the words indexed since it last looked if that was a while ago."""
        now = self._clock()
        if self._speller_at is not None and now - self._speller_at < self._speller_every:
            return self._speller
        async with self._speller_lock:
            if self._speller_at is None or now - self._speller_at >= self._speller_every:
                while rows := await store.search_words(conn=conn, after=self._speller_seen):
                    self._speller.add((word, stem, n) for _, word, stem, n in rows)
                    self._speller_seen = rows[-1][0]
                self._speller_at = now
        return self._speller


async def _finds_any(conn: AsyncConnection, query: str) -> bool:
    return bool((await store.search_ids(conn=conn, query=query, page_size=1))[0])


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
