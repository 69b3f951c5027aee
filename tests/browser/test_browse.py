"""Browsing in Chromium, on a 375 px phone and a 1280 px desktop: from the home page to a product
without typing a word (a category, sorted by price, a product, its breadcrumbs back), and a
category's filters and pages working with JavaScript switched off."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.support.store import Store

pytestmark = pytest.mark.browser

# A plain 375 px window, not an emulated phone: a phone widens its layout to whatever is widest
# on the page (the header is tests/browser/test_layout.py's to judge), which would hide whether
# these pages' own content fits.
SCREENS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 375, "height": 740}, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}


def _context(browser: Browser, store: Store, screen: str, **more: Any) -> BrowserContext:
    return browser.new_context(base_url=store.base_url, locale="ru-RU", **SCREENS[screen], **more)


def _fits(page: Page, region: str = "main") -> None:
    """Nothing in `region` sticks out past the window's right edge (no sideways scrolling)."""
    widest, window = page.evaluate(
        """(region) => [Math.max(...[...document.querySelectorAll(region + ', ' + region + ' *')]
                          .map((e) => e.getBoundingClientRect().right)), innerWidth]""",
        region,
    )
    assert widest <= window, f"{page.url}: {region} is {widest} px wide in a {window} px window"


def _columns(cards: Locator) -> int:
    """How many cards stand in the grid's first row."""
    tops = [box["y"] for box in (card.bounding_box() for card in cards.all()) if box]
    return sum(1 for top in tops if abs(top - tops[0]) < 1)


def _prices(cards: Locator) -> list[Decimal]:
    return [
        Decimal(re.sub(r"[^\d,]", "", shown).replace(",", "."))
        for shown in cards.locator(".price").all_inner_texts()
    ]


def _crumbs(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Хлебные крошки")


@pytest.mark.parametrize("screen", list(SCREENS))
def test_from_the_home_page_to_a_product_without_typing(
    browser: Browser, store: Store, screen: str
) -> None:
    context = _context(browser, store, screen)
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.get_by_role("heading", name="Популярные товары")).to_be_visible()
        expect(page.locator("#popular [data-test=product-card]").first).to_be_visible()
        _fits(page)

        page.get_by_role("link", name=re.compile(r"^Техника для кухни \d+ товар")).click()
        expect(page).to_have_url(re.compile(r"/catalog/kitchen$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Техника для кухни")
        expect(_crumbs(page).get_by_role("link")).to_have_text(["Главная", "Каталог"])
        cards = page.locator("#category-products [data-test=product-card]")
        expect(cards).to_have_count(24)
        _fits(page)

        page.get_by_label("Сортировка").select_option(label="Сначала дешевле")
        page.get_by_role("button", name="Показать").click()
        expect(page).to_have_url(re.compile(r"sort=price_asc"))
        expect(page.get_by_label("Сортировка")).to_have_value("price_asc")
        prices = _prices(cards)
        assert len(prices) == 24
        assert prices == sorted(prices)
        columns = _columns(cards)
        assert columns == 2 if screen == "phone" else columns >= 4
        _fits(page)

        name = cards.first.locator(".name").inner_text()
        cards.first.click()
        expect(page).to_have_url(re.compile(r"/product/\d+$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        crumbs = _crumbs(page)
        expect(crumbs.get_by_role("link")).to_have_text(["Главная", "Каталог", "Техника для кухни"])
        expect(crumbs.locator("[aria-current=page]")).to_have_text(name)
        _fits(page, ".crumbs")  # the rest of the product page is not this module's

        crumbs.get_by_role("link", name="Техника для кухни").click()
        expect(page).to_have_url(re.compile(r"/catalog/kitchen$"))
        _crumbs(page).get_by_role("link", name="Каталог").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Каталог товаров")
        expect(page.get_by_role("link", name=re.compile(r"^Продукты \d+ товар"))).to_be_visible()
        _fits(page)
    finally:
        context.close()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_filters_and_pages_work_without_javascript(
    browser: Browser, store: Store, screen: str
) -> None:
    context = _context(browser, store, screen, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/catalog/electronics")
        page.get_by_label("Сортировка").select_option(label="Сначала дороже")
        page.get_by_label("от", exact=True).fill("2000")
        page.get_by_label("В наличии в магазине").select_option(label="Склад Подольск")
        page.get_by_role("button", name="Показать").click()
        expect(page).to_have_url(re.compile(r"sort=price_desc&priceFrom=2000&priceTo=&storeId="))
        cards = page.locator("#category-products [data-test=product-card]")
        expect(cards).to_have_count(24)  # of the sample catalogue's 30 such
        first_page = cards.locator(".name").all_inner_texts()
        prices = _prices(cards)
        assert prices == sorted(prices, reverse=True)
        assert min(prices) >= 2000
        for card in cards.all():  # each one available in the chosen store
            expect(card.locator(".places li", has_text="Склад Подольск")).to_have_class("in-stock")
        _fits(page)

        page.get_by_role("link", name="Дальше →").click()
        expect(page).to_have_url(re.compile(r"sort=price_desc&priceFrom=2000&storeId=\d+&page=2$"))
        expect(page.get_by_label("Сортировка")).to_have_value("price_desc")
        expect(page.get_by_label("от", exact=True)).to_have_value("2000")
        expect(page.get_by_label("В наличии в магазине")).to_contain_text("Склад Подольск")
        expect(cards.first).to_be_visible()
        assert _prices(cards)[0] <= prices[-1]
        assert not set(first_page) & set(cards.locator(".name").all_inner_texts())
        page.get_by_role("link", name="← Назад").click()
        expect(page).to_have_url(re.compile(r"&page=1$"))

        page.get_by_label("до", exact=True).fill("сто")
        page.get_by_role("button", name="Показать").click()
        expect(page.get_by_role("alert")).to_contain_text("введите число рублей")
        expect(page.get_by_label("до", exact=True)).to_have_attribute("aria-invalid", "true")
        _fits(page)
    finally:
        context.close()
