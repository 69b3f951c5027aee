"""This process's in-memory search index (core/search_index.py), kept as current as the catalogue:
loaded in the background at start or first use (the database's own search answers until it is
ready), then extended with the products added since, as soon as a read of the catalogue shows
one (or a look of its own every `refresh_seconds`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from core.search_index import IndexBuilder, SearchIndex
from services import store_search

log = logging.getLogger(__name__)

LOAD_BATCH = 20_000  # products read per query while loading
# A search waits this long for the first load (a small catalogue is indexed by then) before the
# database answers it instead.
FIRST_WAIT_SECONDS = 1.0


class LiveIndex:
    def __init__(
        self,
        engine: AsyncEngine,
        refresh_seconds: float | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        # None: no look of its own; whoever reads the catalogue reports its newest product
        # (`caught_up`), as the catalogue's reads of cards do.
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._index: SearchIndex | None = None
        self._loading: asyncio.Task[None] | None = None
        self._checked_at: float | None = None
        self._extending = asyncio.Lock()

    @property
    def loaded(self) -> bool:
        return self._index is not None

    def start(self) -> None:
        """Begin loading the index in the background, if not yet begun."""
        if self._loading is None and self._index is None:
            self._loading = asyncio.create_task(self._load(), name="search-index-load")

    async def ready(self) -> SearchIndex:
        """The index, once loaded (started if need be)."""
        if self._index is None:
            self.start()
            assert self._loading is not None
            await asyncio.shield(self._loading)
        if self._index is None:
            raise RuntimeError("the search index could not be loaded (see the log)")
        return self._index

    async def current(self) -> SearchIndex | None:
        """The index (looked over for new products if `refresh_seconds` have passed), or None
        while it is still loading."""
        if self._index is None:
            self.start()
            assert self._loading is not None
            await asyncio.wait({self._loading}, timeout=FIRST_WAIT_SECONDS)
            if self._index is None:
                return None  # still loading, or failed (logged; the next search tries again)
        now = self._clock()
        every = self._refresh_seconds
        if every is not None and (self._checked_at is None or now - self._checked_at >= every):
            self._checked_at = now
            async with self._engine.connect() as conn:
                newest = await store_search.newest_product(conn=conn)
            return await self.caught_up(newest)
        return self._index

    async def caught_up(self, newest: int) -> SearchIndex:
        """The index holding every product up to id `newest`: extended first if it lacks some."""
        assert self._index is not None
        if newest <= self._index.last_id:
            return self._index
        async with self._extending:  # one search extends it; the others wait, then find it done
            index = self._index
            if newest > index.last_id:
                async with self._engine.connect() as conn:
                    while documents := await store_search.search_documents(
                        conn=conn, after=index.last_id, limit=LOAD_BATCH
                    ):
                        index = await asyncio.to_thread(index.extended, documents)
                self._index = index
        return self._index

    async def aclose(self) -> None:
        """Stop a load still running (the process is stopping)."""
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
            await asyncio.gather(self._loading, return_exceptions=True)

    async def _load(self) -> None:
        started = time.monotonic()
        builder = IndexBuilder()
        last = 0
        try:
            async with self._engine.connect() as conn:
                while documents := await store_search.search_documents(
                    conn=conn, after=last, limit=LOAD_BATCH
                ):
                    await asyncio.to_thread(builder.add, documents)
                    last = documents[-1][0]
            index = await asyncio.to_thread(builder.build)
        except Exception:
            log.exception("the search index could not be loaded; the database answers searches")
            self._loading = None  # the next search tries again
            return
        self._index = index
        log.info(
            "search index loaded: %d products, %.0f MB in %.1f s",
            len(index),
            index.nbytes / 1e6,
            time.monotonic() - started,
        )
