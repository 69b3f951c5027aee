"""store search and availability, delivery points and slots — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from core.db import SessionFactory, transaction
from core.errors import NotFoundError, ValidationError
from models.delivery import DeliverySlot
from models.store import Stock
from services import delivery, store, store_search

TODAY = date(2026, 11, 26)


@pytest.fixture
async def catalog(sessions: SessionFactory) -> dict[str, int]:
    """A small hand-made catalogue whose ranking outcomes are known; product name → id."""
    async with transaction(sessions) as session:
        tver = await store.add_store(
            session=session, name="На Тверской", address="Москва, Тверская, 1"
        )
        spb = await store.add_store(session=session, name="На Невском", address="СПб, Невский, 2")
        kitchen = await store.add_category(session=session, name="Кухня", slug="kitchen")
        grocery = await store.add_category(session=session, name="Продукты", slug="grocery")
        assert tver.id
        assert spb.id
        assert kitchen.id
        assert grocery.id
        items = [
            (
                "Чайник электрический Bosch",
                "Стальной корпус, 1,7 л",
                kitchen.id,
                {tver.id: 5, spb.id: 0},
            ),
            ("Чайник заварочный", "Стекло, для чая", kitchen.id, {tver.id: 2}),
            ("Чай чёрный листовой", "Крупный лист, 250 г", grocery.id, {spb.id: 9}),
            ("Кастрюля Tefal", "Подходит к чайнику по цвету", kitchen.id, {}),
            ("Ёлочная гирлянда", "Тёплый свет", kitchen.id, {tver.id: 1}),
            ("Скидка 100% на всё", "Купон", grocery.id, {tver.id: 1}),
        ]
        ids = await store.add_products(
            session=session,
            products=[
                store.NewProduct(
                    name=n, description=d, price_kopecks=99_000, category_id=c, stock=s
                )
                for n, d, c, s in items
            ],
        )
    return {name: pid for (name, *_), pid in zip(items, ids, strict=True)}


async def _names(engine: AsyncEngine, query: str, **page: int) -> list[str]:
    async with engine.connect() as conn:
        result = await store_search.search(conn=conn, query=query, **page)
    return [card.name for card in result.items]


async def test_word_forms_find_each_other(engine: AsyncEngine, catalog: dict[str, int]) -> None:
    assert "Чайник электрический Bosch" in await _names(engine, "чайники")
    assert "Чайник электрический Bosch" in await _names(engine, "ЧАЙНИКА электрические")


async def test_a_prefix_finds_products_while_typing(
    engine: AsyncEngine, catalog: dict[str, int]
) -> None:
    assert set(await _names(engine, "чайн")) == {
        "Чайник электрический Bosch",
        "Чайник заварочный",
        "Кастрюля Tefal",  # "чайнику" in its description
    }
    assert await _names(engine, "tef") == ["Кастрюля Tefal"]


async def test_name_matches_rank_above_description_matches(
    engine: AsyncEngine, catalog: dict[str, int]
) -> None:
    names = await _names(engine, "чайник")
    assert names.index("Кастрюля Tefal") == len(names) - 1


async def test_a_whole_word_ranks_above_longer_words_it_starts(
    engine: AsyncEngine, catalog: dict[str, int]
) -> None:
    assert (await _names(engine, "чай"))[0] == "Чай чёрный листовой"


async def test_plural_forms_snowball_stems_longer_still_match(
    engine: AsyncEngine, catalog: dict[str, int]
) -> None:
    assert "Кастрюля Tefal" in await _names(engine, "кастрюли")


async def test_yo_and_ye_are_the_same_letter(engine: AsyncEngine, catalog: dict[str, int]) -> None:
    assert await _names(engine, "елочная") == ["Ёлочная гирлянда"]
    assert await _names(engine, "чёрный") == ["Чай чёрный листовой"]


async def test_all_words_must_match(engine: AsyncEngine, catalog: dict[str, int]) -> None:
    assert await _names(engine, "чайник bosch") == ["Чайник электрический Bosch"]
    assert await _names(engine, "чайник samsung") == []


async def test_nothing_found_is_an_empty_page(engine: AsyncEngine, catalog: dict[str, int]) -> None:
    async with engine.connect() as conn:
        result = await store_search.search(conn=conn, query="холодильник")
    assert result.items == []
    assert not result.has_more


@pytest.mark.parametrize(
    "query",
    ["", "   ", "%%% ***", "x" * 201, "—"],
)
async def test_bad_queries_are_refused_with_a_reason(
    engine: AsyncEngine, catalog: dict[str, int], query: str
) -> None:
    async with engine.connect() as conn:
        with pytest.raises(ValidationError) as caught:
            await store_search.search(conn=conn, query=query)
    assert caught.value.message


async def test_query_syntax_characters_are_plain_text(
    engine: AsyncEngine, catalog: dict[str, int]
) -> None:
    for query in (
        '"чайник',
        "чайник*",
        "чайник OR кастрюля",
        "NEAR(чайник)",
        "чайник:*",
        "100%",
        "ab & cd | !ef",
    ):
        async with engine.connect() as conn:
            await store_search.search(conn=conn, query=query)  # never a syntax error
    assert await _names(engine, "100%") == ["Скидка 100% на всё"]


async def test_pages_follow_one_another(engine: AsyncEngine, catalog: dict[str, int]) -> None:
    everything = await _names(engine, "чайн", page=1, page_size=10)
    first = await _names(engine, "чайн", page=1, page_size=2)
    second = await _names(engine, "чайн", page=2, page_size=2)
    assert first + second == everything[:4]
    async with engine.connect() as conn:
        assert (await store_search.search(conn=conn, query="чайн", page_size=2)).has_more
        with pytest.raises(ValidationError):
            await store_search.search(conn=conn, query="чайн", page=0)
        with pytest.raises(ValidationError):
            await store_search.search(conn=conn, query="чайн", page=100, page_size=60)


async def test_cards_show_price_image_and_stock_per_store(
    engine: AsyncEngine, sessions: SessionFactory, catalog: dict[str, int]
) -> None:
    kettle = catalog["Чайник электрический Bosch"]
    async with transaction(sessions) as session:
        await session.exec(
            update(Stock)
            .where(col(Stock.product_id) == kettle, col(Stock.quantity) == 5)
            .values(reserved=2)
        )
    async with engine.connect() as conn:
        (card,) = await store.cards(conn=conn, product_ids=[kettle])
        availability = await store.get_availability(conn=conn, product_id=kettle)
    assert str(card.price) == "990.00"
    assert card.image_url == f"/store/images/{kettle}.svg"
    assert [(p.store.name, p.quantity) for p in card.product_places] == [
        ("На Тверской", 3),
        ("На Невском", 0),
    ]
    assert availability.product_places == card.product_places


async def test_availability_of_an_unknown_product_is_not_found(
    engine: AsyncEngine, catalog: dict[str, int]
) -> None:
    async with engine.connect() as conn:
        with pytest.raises(NotFoundError):
            await store.get_availability(conn=conn, product_id=999_999)


async def test_pickup_points_filter_any_case_and_letter_yo(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await delivery.add_pickup_point(
            session=session, name="Пункт «Арбат»", address="Москва, Арбат, 24"
        )
        await delivery.add_pickup_point(
            session=session, name="Пункт «Невский»", address="Санкт-Петербург, Невский, 88"
        )
        await delivery.add_pickup_point(
            session=session, name="Пункт «Берёзка»", address="Химки, 100% сервис"
        )
        everything = await delivery.list_pickup_points(session=session)
        spb = await delivery.list_pickup_points(session=session, address_filter="ПЕТЕРБУРГ")
        birch = await delivery.list_pickup_points(session=session, address_filter="березка")
        literal = await delivery.list_pickup_points(session=session, address_filter="0%")
        underscore = await delivery.list_pickup_points(session=session, address_filter="_")
        with pytest.raises(ValidationError):
            await delivery.list_pickup_points(session=session, address_filter="x" * 201)
    assert len(everything) == 3
    assert [p.name for p in spb] == ["Пункт «Невский»"]
    assert [p.name for p in birch] == ["Пункт «Берёзка»"]
    assert [p.name for p in literal] == ["Пункт «Берёзка»"]
    assert underscore == []


async def test_own_courier_delivers_in_moscow_on_the_first_free_day(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        assert await delivery.open_slots(session=session, first_day=TODAY, days=3, capacity=2) == 9
        assert await delivery.open_slots(session=session, first_day=TODAY, days=3, capacity=2) == 0
        offer = await delivery.own_courier_offer(
            session=session, address="Москва, Арбат, 1", today=TODAY
        )
        elsewhere = await delivery.own_courier_offer(
            session=session, address="Казань, Баумана, 1", today=TODAY
        )
        tomorrow = date(2026, 11, 27)
        await session.exec(
            update(DeliverySlot).where(col(DeliverySlot.day) == tomorrow).values(reserved=2)
        )
        later = await delivery.own_courier_offer(
            session=session, address="москва, арбат, 1", today=TODAY
        )
        await session.exec(update(DeliverySlot).values(reserved=2))
        full = await delivery.own_courier_offer(
            session=session, address="Москва, Арбат, 1", today=TODAY
        )
    assert offer is not None
    assert offer.estimated_date == tomorrow
    assert offer.cost_kopecks == delivery.OWN_COURIER_COST_KOPECKS
    assert elsewhere is None
    assert later is not None
    assert later.estimated_date == date(2026, 11, 28)
    assert full is None


def test_addresses_are_checked() -> None:
    assert delivery.check_address("  Москва,   Арбат  1 ") == "Москва, Арбат 1"
    for bad in ("", "  ", "x" * 301):
        with pytest.raises(ValidationError):
            delivery.check_address(bad)
