"""Browsing pages as served, on the sample catalogue: the home page and «Каталог товаров» lead to
the categories, a category page sorts, filters and pages with its choices kept in every link,
and a product page has its breadcrumbs; plus the JSON twins of the category pages."""

from __future__ import annotations

import html
import re
from decimal import Decimal

from sqlalchemy import text

from core.db import transaction
from services import store_browse
from tests.support.shop import Shop
from web import catalog_pages

HTML = {"accept": "text/html"}
CARD = re.compile(r'<a class="product-card" href="/product/(\d+)"')
PRICE = re.compile(r'<span class="price">([^<]+)</span>')


def _roubles(shown: str) -> Decimal:
    return Decimal(shown.replace("\u00a0", "").removesuffix("₽").replace(",", "."))


async def _category_of(shop: Shop) -> dict[int, str]:
    """Product id → its category's slug, read from the database."""
    async with transaction(shop.sessions) as session:
        rows = await (await session.connection()).execute(
            text(
                "SELECT p.id, c.slug FROM store_product p"
                " JOIN store_category c ON c.id = p.category_id"
            )
        )
        return {pid: slug for pid, slug in rows}


async def _page(shop: Shop, url: str) -> str:
    response = await shop.http.get(url, headers=HTML)
    assert response.status_code == 200, response.text
    return html.unescape(response.text)


async def test_home_and_catalog_lead_to_every_category_and_show_bestsellers(seeded: Shop) -> None:
    home = await _page(seeded, "/")
    assert "Здравствуйте" in home  # the greeting stays
    for page in (home, await _page(seeded, "/catalog")):
        links = re.findall(r'<a href="/catalog/([a-z]+)"><span class="category-name">', page)
        assert len(links) == 10
        assert "kitchen" in links
        assert "24 товара" in page
        assert "Популярные товары" in page
        assert len(CARD.findall(page)) >= 8
    assert "<h1>Каталог товаров</h1>" in await _page(seeded, "/catalog")


async def test_a_category_page_lists_its_own_products_a_page_at_a_time(seeded: Shop) -> None:
    category_of = await _category_of(seeded)
    first = await _page(seeded, "/catalog/kitchen")
    assert "<h1>Техника для кухни</h1>" in first
    assert 'aria-label="Хлебные крошки"' in first
    ids = [int(pid) for pid in CARD.findall(first)]
    assert len(ids) == store_browse.PAGE_SIZE
    assert {category_of[pid] for pid in ids} == {"kitchen"}
    assert 'href="/catalog/kitchen?sort=popular&page=2"' in first
    second = await _page(seeded, "/catalog/kitchen?sort=popular&page=2")
    rest = [int(pid) for pid in CARD.findall(second)]
    assert len(ids) + len(rest) == sum(slug == "kitchen" for slug in category_of.values())
    assert not set(ids) & set(rest)
    assert "Дальше →" not in second
    assert 'href="/catalog/kitchen?sort=popular&page=1"' in second


async def test_filters_are_applied_and_kept_in_the_page_links(seeded: Shop) -> None:
    stores = re.findall(r'<option value="(\d+)"', await _page(seeded, "/catalog/kitchen"))
    store_id = stores[0]
    url = f"/catalog/kitchen?sort=price_asc&priceFrom=1000&priceTo=&storeId={store_id}"
    page = await _page(seeded, url)
    prices = [_roubles(shown) for shown in PRICE.findall(page)]
    assert prices == sorted(prices)
    assert min(prices) >= 1000
    assert 'value="price_asc" selected' in page
    assert f'value="{store_id}" selected' in page
    assert 'value="1000"' in page

    cheapest = await _page(seeded, "/catalog/kitchen?sort=price_desc&priceFrom=100&page=1")
    next_link = re.search(r'href="(/catalog/kitchen\?[^"]*page=2)"', cheapest)
    assert next_link is not None
    assert next_link.group(1) == "/catalog/kitchen?sort=price_desc&priceFrom=100&page=2"
    prices = [_roubles(shown) for shown in PRICE.findall(cheapest)]
    assert prices == sorted(prices, reverse=True)


async def test_bad_choices_are_explained_on_the_page(seeded: Shop) -> None:
    response = await seeded.http.get(
        "/catalog/kitchen?priceFrom=дёшево&priceTo=-5&sort=random", headers=HTML
    )
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert 'role="alert"' in page
    assert "Проверьте фильтры" in page
    assert "введите число рублей" in page
    assert "цена не может быть отрицательной" in page
    assert 'id="priceFrom" name="priceFrom"' in page
    assert 'value="дёшево" aria-invalid="true"' in page
    assert not CARD.findall(page)
    too_far = await _page(seeded, "/catalog/kitchen?page=500")
    assert "только первые 1000 товаров" in too_far


async def test_an_unknown_category_is_a_404_page(seeded: Shop) -> None:
    for slug in ("toys", "x" * 300):
        response = await seeded.http.get(f"/catalog/{slug}", headers=HTML)
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]
        assert "Категория не найдена" in response.text


async def test_a_product_page_has_breadcrumbs_to_its_category(seeded: Shop) -> None:
    product_id = int(CARD.findall(await _page(seeded, "/catalog/grocery"))[0])
    page = await _page(seeded, f"/product/{product_id}")
    crumbs = re.search(r'<nav class="crumbs" aria-label="Хлебные крошки">(.*?)</nav>', page, re.S)
    assert crumbs is not None
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', crumbs.group(1))
    assert links == [("/", "Главная"), ("/catalog", "Каталог"), ("/catalog/grocery", "Продукты")]
    current = re.search(r'<li aria-current="page">([^<]+)</li>', crumbs.group(1))
    assert current is not None
    assert f"<h1>{current.group(1)}</h1>" in page


async def test_the_json_twins_of_the_category_pages(seeded: Shop) -> None:
    categories = (await seeded.http.get("/store/categories")).json()
    assert {"id", "name", "slug", "productCount", "countCapped"} == set(categories[0])
    assert sum(c["productCount"] for c in categories) == len(await _category_of(seeded))
    params = {"slug": "kitchen", "sort": "price_asc", "priceTo": "3000", "page": "1"}
    body = (await seeded.http.get("/store/category", params=params)).json()
    assert body["category"]["slug"] == "kitchen"
    assert body["priceTo"] == 3000.0
    prices = [card["price"] for card in body["items"]]
    assert prices == sorted(prices)
    assert max(prices) <= 3000
    bad = await seeded.http.get("/store/category", params={"slug": "kitchen", "priceFrom": "x"})
    assert bad.status_code == 400
    assert "priceFrom" in bad.json()["fields"]
    missing = await seeded.http.get("/store/category", params={"slug": "toys"})
    assert missing.status_code == 404


def test_every_sort_the_service_knows_has_a_label() -> None:
    assert set(catalog_pages.SORT_LABELS) == set(store_browse.SORTS)
