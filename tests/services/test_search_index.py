"""The in-memory search index against the database: on a generated catalogue it ranks exactly as
SQLite's FTS5 does (the reference it replaces on the search path), and the catalogue keeps
answering — from the database — while the index loads or when loading fails. The quick reads of
cards (stdlib sqlite3, asyncpg) answer as SQLAlchemy's."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import SessionFactory, create_engine
from core.search_index import SearchIndex
from core.text import words
from flows import search_index
from flows.catalogue import Catalogue
from flows.catalogue_reads import EngineCardReads, card_reads
from services import store_search
from tests.support.products import add_products
from workers.migrate import upgrade_async
from workers.seed import seed_catalog_at

PRODUCTS = 3000


@pytest.fixture(scope="module")
async def catalogue_engine(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    path: Path = tmp_path_factory.mktemp("catalogue") / "shop.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    await seed_catalog_at(url, products=PRODUCTS)
    engine = create_engine(url)
    yield engine
    await engine.dispose()


def _queries(names: list[str]) -> list[str]:
    """What shoppers type: a word, its first letters, two words, a word and another's prefix."""
    rng = random.Random(5)  # noqa: S311 - a fixed sample, not a secret
    queries = []
    for name in rng.sample(names, 120):
        first, *rest = words(name)
        other = rng.choice(rest) if rest else first
        queries += [first, first[:4], f"{first} {other}", f"{other} {first[:3]}"]
    return list(dict.fromkeys(queries))


async def test_the_index_ranks_as_fts5_does(catalogue_engine: AsyncEngine) -> None:
    async with catalogue_engine.connect() as conn:
        documents = await store_search.search_documents(conn=conn, after=0, limit=PRODUCTS)
        index = SearchIndex.build(documents)
        compared = 0
        for query in _queries([name for _, name, _ in documents]):
            for page in (1, 2):
                expected = await store_search.search_ids(
                    conn=conn, query=query, page=page, page_size=20
                )
                ranked = index.search(
                    store_search.search_terms(query, page, 20), (page - 1) * 20, 21
                )
                assert (ranked[:20], len(ranked) > 20) == expected, (query, page)
                compared += len(expected[0])
    assert compared > 5000, "the queries find enough products to compare rankings"


async def _names(catalogue: Catalogue, query: str) -> list[str]:
    return [card.name for card in (await catalogue.search(query, 1, 20)).items]


async def test_the_database_answers_while_the_index_loads(
    sessions: SessionFactory, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_products(sessions, "Гирлянда светодиодная", "Гирлянда уличная", "Ель искусственная")
    release = asyncio.Event()
    documents = store_search.search_documents

    async def held(**kwargs: object) -> list[tuple[int, str, str]]:
        await release.wait()
        return await documents(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(search_index, "FIRST_WAIT_SECONDS", 0.01)
    monkeypatch.setattr(store_search, "search_documents", held)
    catalogue = Catalogue(engine, cache_seconds=0)
    try:
        assert sorted(await _names(catalogue, "гирлянда")) == [
            "Гирлянда светодиодная",
            "Гирлянда уличная",
        ]
        assert not catalogue.index_loaded
        release.set()
        await catalogue.ready()
        assert catalogue.index_loaded
        assert sorted(await _names(catalogue, "гирлянда")) == [
            "Гирлянда светодиодная",
            "Гирлянда уличная",
        ]
    finally:
        release.set()
        await catalogue.aclose()


async def test_a_failed_load_is_logged_and_tried_again(
    sessions: SessionFactory,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await add_products(sessions, "Гирлянда светодиодная")
    failures = [OSError("диск недоступен")]
    documents = store_search.search_documents

    async def failing_once(**kwargs: object) -> list[tuple[int, str, str]]:
        if failures:
            raise failures.pop()
        return await documents(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store_search, "search_documents", failing_once)
    catalogue = Catalogue(engine, cache_seconds=0)
    try:
        with caplog.at_level(logging.ERROR, logger="flows.search_index"):
            assert await _names(catalogue, "гирлянда") == ["Гирлянда светодиодная"]
        assert not catalogue.index_loaded
        assert "could not be loaded" in caplog.text
        assert await _names(catalogue, "гирлянда") == ["Гирлянда светодиодная"]
        assert catalogue.index_loaded, "the next search loaded it"
    finally:
        await catalogue.aclose()


async def test_without_the_page_cache_a_new_product_is_found_at_once(
    sessions: SessionFactory, engine: AsyncEngine
) -> None:
    catalogue = Catalogue(engine, cache_seconds=0)
    try:
        await add_products(sessions, "Гирлянда светодиодная")
        assert await _names(catalogue, "гирлянда") == ["Гирлянда светодиодная"]
        assert catalogue.index_loaded
        await add_products(sessions, "Гирлянда уличная")
        assert sorted(await _names(catalogue, "гирлянда")) == [
            "Гирлянда светодиодная",
            "Гирлянда уличная",
        ]
    finally:
        await catalogue.aclose()


async def test_every_way_of_reading_cards_answers_alike(
    sessions: SessionFactory, engine: AsyncEngine
) -> None:
    ids = await add_products(sessions, "Гирлянда светодиодная", "Гирлянда уличная", units=2)
    generic, quick = EngineCardReads(engine), card_reads(engine)
    try:
        assert not isinstance(quick, EngineCardReads), "a file or PostgreSQL: the driver itself"
        for wanted in ([ids[1], ids[0]], [], [ids[0], 10**9]):
            assert await quick.cards_and_newest(wanted) == await generic.cards_and_newest(wanted)
        found, newest = await quick.cards_and_newest(ids)
        assert [card.id for card in found] == ids
        assert [card.total_available for card in found] == [2, 2]
        assert newest == max(ids)
    finally:
        await quick.aclose()
        await generic.aclose()
