"""Browsing the catalogue: categories with counts, a category's products sorted, filtered and
paged, the home page's goods — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import col

from core.db import SessionFactory, transaction
from core.errors import NotFoundError, ValidationError
from models.store import CategoryPage, Product, Stock
from services import store, store_browse
from services.store_browse import Filters, check_filters

# name, price in roubles, units sold, stock {store: (units, reserved)}
KETTLES = [
    ("Чайник A", 1990, 5, {"tver": (3, 0)}),
    ("Чайник B", 990, 40, {"tver": (2, 2), "nevsky": (1, 0)}),  # all held in «Тверская»
    ("Чайник C", 4990, 12, {}),  # in no store
    ("Чайник D", 2490, 40, {"tver": (1, 0)}),  # sells as well as B: the newer (D) first
    ("Чайник E", 1490, 0, {"nevsky": (4, 0)}),
]
TEA = [("Чай", 290, 100, {"tver": (9, 0)}), ("Кофе", 890, 1, {"tver": (2, 0)})]


@dataclass(frozen=True)
class Catalogue:
    ids: dict[str, int]  # product name → id
    stores: dict[str, int]


@pytest.fixture
async def catalogue(sessions: SessionFactory) -> Catalogue:
    async with transaction(sessions) as session:
        tver = await store.add_store(session=session, name="Тверская", address="Москва, 1")
        nevsky = await store.add_store(session=session, name="Невский", address="СПб, 2")
        kitchen = await store.add_category(
            session=session, name="Техника для кухни", slug="kitchen"
        )
        grocery = await store.add_category(session=session, name="Продукты", slug="grocery")
        await store.add_category(session=session, name="Дача и сад", slug="garden")  # empty
        assert tver.id
        assert nevsky.id
        assert kitchen.id
        assert grocery.id
        stores = {"tver": tver.id, "nevsky": nevsky.id}
        rows = [(kitchen.id, *item) for item in KETTLES] + [(grocery.id, *item) for item in TEA]
        ids = await store.add_products(
            session=session,
            products=[
                store.NewProduct(
                    name=name,
                    description="",
                    price_kopecks=price * 100,
                    category_id=category_id,
                    stock={stores[s]: units for s, (units, _) in stock.items()},
                )
                for category_id, name, price, _sold, stock in rows
            ],
        )
        for pid, (_, _name, _price, sold, stock) in zip(ids, rows, strict=True):
            await session.exec(update(Product).where(col(Product.id) == pid).values(sold=sold))
            for key, (_, reserved) in stock.items():
                await session.exec(
                    update(Stock)
                    .where(col(Stock.product_id) == pid, col(Stock.store_id) == stores[key])
                    .values(reserved=reserved)
                )
    return Catalogue({row[1]: pid for row, pid in zip(rows, ids, strict=True)}, stores)


async def _names(engine: AsyncEngine, slug: str = "kitchen", **choices: object) -> list[str]:
    async with engine.connect() as conn:
        page = await _page(conn, slug, check_filters(**choices))  # type: ignore[arg-type]
    return [card.name for card in page.items]


async def _page(conn: AsyncConnection, slug: str, filters: Filters | None = None) -> CategoryPage:
    found = await store_browse.category(conn=conn, slug=slug)
    return await store_browse.category_page(conn=conn, category=found, filters=filters)


async def test_categories_by_name_with_their_counts(
    engine: AsyncEngine, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as conn:
        found = await store_browse.categories(conn=conn)
        monkeypatch.setattr(store_browse, "COUNT_CAP", 3)
        capped = await store_browse.categories(conn=conn)
    assert [(c.name, c.slug, c.product_count) for c in found] == [
        ("Дача и сад", "garden", 0),
        ("Продукты", "grocery", 2),
        ("Техника для кухни", "kitchen", 5),
    ]
    assert not any(c.count_capped for c in found)
    assert [(c.product_count, c.count_capped) for c in capped] == [
        (0, False),
        (2, False),
        (3, True),
    ]


async def test_sorting_by_price_both_ways(engine: AsyncEngine, catalogue: Catalogue) -> None:
    cheap_first = ["Чайник B", "Чайник E", "Чайник A", "Чайник D", "Чайник C"]
    assert await _names(engine, sort="price_asc") == cheap_first
    assert await _names(engine, sort="price_desc") == cheap_first[::-1]


async def test_popularity_follows_units_sold_and_is_the_default(
    engine: AsyncEngine, catalogue: Catalogue
) -> None:
    popular = ["Чайник D", "Чайник B", "Чайник C", "Чайник A", "Чайник E"]
    assert await _names(engine, sort="popular") == popular
    assert await _names(engine) == popular
    assert await _names(engine, sort="new") == [name for name, *_ in KETTLES][::-1]


async def test_a_price_range_includes_its_ends_and_takes_roubles_as_typed(
    engine: AsyncEngine, catalogue: Catalogue
) -> None:
    names = await _names(engine, sort="price_asc", price_from="1 490", price_to="2490,00")
    assert names == ["Чайник E", "Чайник A", "Чайник D"]
    assert await _names(engine, sort="price_asc", price_to="1000") == ["Чайник B"]
    assert await _names(engine, price_from="5000") == []


async def test_in_stock_in_a_store_leaves_out_units_all_held_and_other_stores(
    engine: AsyncEngine, catalogue: Catalogue
) -> None:
    tver, nevsky = catalogue.stores["tver"], catalogue.stores["nevsky"]
    assert await _names(engine, sort="price_asc", store_id=str(tver)) == ["Чайник A", "Чайник D"]
    assert await _names(engine, sort="price_asc", store_id=nevsky) == ["Чайник B", "Чайник E"]
    combined = await _names(engine, store_id=tver, price_from="2000")
    assert combined == ["Чайник D"]


async def test_pages_follow_one_another_and_stop_at_the_bound(
    engine: AsyncEngine, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with engine.connect() as conn:

        async def page(number: int, size: int = 2) -> tuple[list[str], bool]:
            found = await _page(conn, "kitchen", Filters(page=number, page_size=size))
            return [card.name for card in found.items], found.has_more

        pages = [await page(n) for n in (1, 2, 3)]
        assert pages == [
            (["Чайник D", "Чайник B"], True),
            (["Чайник C", "Чайник A"], True),
            (["Чайник E"], False),
        ]
        assert await page(1, 5) == (await _names(engine), False)  # exactly full: no more
        assert await page(4) == ([], False)
        # Never past MAX_RESULTS: its last page is cut there and says no more follow.
        monkeypatch.setattr(store_browse, "MAX_RESULTS", 3)
        assert await page(2) == (["Чайник C"], False)
    with pytest.raises(ValidationError, match="только первые 3 товаров"):
        check_filters(page=3, page_size=2)
    assert check_filters(page=2, page_size=2).page == 2


@pytest.mark.parametrize(
    ("choices", "field"),
    [
        ({"sort": "cheap"}, "sort"),
        ({"price_from": "дёшево"}, "priceFrom"),
        ({"price_from": "-5"}, "priceFrom"),
        ({"price_to": "1e309"}, "priceTo"),
        ({"price_to": "NaN"}, "priceTo"),
        ({"price_to": "20000000"}, "priceTo"),
        ({"price_from": "9,999"}, "priceFrom"),
        ({"price_from": "500", "price_to": "100"}, "priceTo"),
        ({"store_id": "tver"}, "storeId"),
        ({"store_id": 0}, "storeId"),
        ({"page": 0}, "page"),
        ({"page_size": 61}, "page"),
    ],
)
def test_bad_choices_are_refused_in_russian_naming_the_field(
    choices: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        check_filters(**choices)  # type: ignore[arg-type]
    assert field in caught.value.fields
    assert any("а" <= letter <= "я" for letter in caught.value.message.lower())


async def test_an_unknown_store_or_category(engine: AsyncEngine, catalogue: Catalogue) -> None:
    async with engine.connect() as conn:
        with pytest.raises(ValidationError) as caught:
            await _page(conn, "kitchen", check_filters(store_id=999_999))
        assert "storeId" in caught.value.fields
        for slug in ("toys", "x" * 500, "kitchen' OR 1=1 --"):
            with pytest.raises(NotFoundError, match="Категория не найдена"):
                await _page(conn, slug)


async def test_the_showcase_shows_bestsellers_and_their_categories_own(
    engine: AsyncEngine, catalogue: Catalogue
) -> None:
    async with engine.connect() as conn:
        shown = await store_browse.showcase(conn=conn, popular=3, shelves=2, per_shelf=2)
        crumbs = await store_browse.product_category(conn=conn, product_id=catalogue.ids["Кофе"])
        with pytest.raises(NotFoundError):
            await store_browse.product_category(conn=conn, product_id=999_999)
        choices = await store_browse.stores(conn=conn)
    assert [card.name for card in shown.popular] == ["Чай", "Чайник D", "Чайник B"]
    assert [(s.category.slug, [c.name for c in s.items]) for s in shown.shelves] == [
        ("grocery", ["Кофе"]),  # «Чай» is among the bestsellers already
        ("kitchen", ["Чайник C", "Чайник A"]),
    ]
    assert [c.slug for c in shown.categories] == ["garden", "grocery", "kitchen"]
    assert (crumbs.name, crumbs.slug) == ("Продукты", "grocery")
    assert [s.name for s in choices] == ["Тверская", "Невский"]
