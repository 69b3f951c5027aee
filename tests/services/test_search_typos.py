"""Search that forgives typos and suggests while typing (flows/catalogue.py Catalogue over
services/store.py and core/spelling.py) — on SQLite and PostgreSQL: a query that finds nothing is
tried again with its mistyped words corrected, and says so; words of products added later are
corrected to once the speller has looked again."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import SessionFactory
from flows.catalogue import SPELLER_REFRESH_SECONDS, Catalogue
from tests.support.products import Clock, add_products


@pytest.fixture
async def catalogue(sessions: SessionFactory, engine: AsyncEngine) -> Catalogue:
    await add_products(
        sessions, "Чайник электрический Bosch", "Пылесос беспроводной", "Кофеварка капельная"
    )
    return Catalogue(engine, cache_seconds=0)


async def test_a_mistyped_query_finds_the_product_and_says_what_it_searched(
    catalogue: Catalogue,
) -> None:
    for typed, found, corrected in (
        ("чайнек", "Чайник электрический Bosch", "чайник"),
        ("пылисос", "Пылесос беспроводной", "пылесос"),
        ("bossch", "Чайник электрический Bosch", "bosch"),
        ("кофеворка", "Кофеварка капельная", "кофеварка"),
        ("чайнек bosch", "Чайник электрический Bosch", "чайник bosch"),
    ):
        page = await catalogue.search(typed, 1, 20)
        assert [card.name for card in page.items] == [found], typed
        assert page.corrected == corrected
        assert page.query == typed, "the answer echoes what the shopper typed"


async def test_a_query_that_finds_something_is_not_corrected(catalogue: Catalogue) -> None:
    page = await catalogue.search("чайники", 1, 20)
    assert page.items
    assert page.corrected is None


async def test_a_query_of_known_words_that_finds_nothing_stays_empty(catalogue: Catalogue) -> None:
    page = await catalogue.search("пылесос bosch", 1, 20)  # both words known, never together
    assert page.items == []
    assert page.corrected is None
    assert (await catalogue.search("телевизор", 1, 20)).items == []


async def test_words_of_new_products_are_corrected_to_after_the_refresh(
    sessions: SessionFactory, engine: AsyncEngine
) -> None:
    clock = Clock()
    catalogue = Catalogue(engine, cache_seconds=0, clock=clock)
    await add_products(sessions, "Чайник заварочный")
    assert (await catalogue.search("чайнек", 1, 20)).corrected == "чайник"
    await add_products(sessions, "Гирлянда светодиодная")
    assert (await catalogue.search("гирлянда", 1, 20)).items, "the index itself is current"
    assert (await catalogue.search("гирлинда", 1, 20)).items == [], "the speller looks again later"
    clock.now += SPELLER_REFRESH_SECONDS
    assert (await catalogue.search("гирлинда", 1, 20)).corrected == "гирлянда"


async def test_suggestions_while_typing(catalogue: Catalogue) -> None:
    assert [s.name for s in await catalogue.suggest("чайн")] == ["Чайник электрический Bosch"]
    assert [s.name for s in await catalogue.suggest("пылис")] == [], "a prefix is not a typo"
    assert [s.name for s in await catalogue.suggest("пылисос")] == ["Пылесос беспроводной"]
    assert await catalogue.suggest("") == []
    assert await catalogue.suggest("x" * 500) == [], "what search refuses suggests nothing"


async def test_a_later_page_of_a_mistyped_query_is_corrected_too(
    sessions: SessionFactory, catalogue: Catalogue
) -> None:
    await add_products(sessions, "Чайник заварочный")
    first, second = [await catalogue.search("чайнек", page, 1) for page in (1, 2)]
    assert first.corrected == second.corrected == "чайник"
    assert first.has_more
    assert {first.items[0].name, second.items[0].name} == {
        "Чайник электрический Bosch",
        "Чайник заварочный",
    }
    past_the_end = await catalogue.search("чайник", 3, 1)
    assert past_the_end.items == []
    assert past_the_end.corrected is None, "a query that finds something is never corrected"
