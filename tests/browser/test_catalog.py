"""The spec's «Создание заказа» up to the product page: search from the header, cards with name,
price, picture and availability per store, and the product page — in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.pages.catalog import search_from_header

pytestmark = pytest.mark.browser


def test_shopper_finds_kettles_and_opens_one(page: Page) -> None:
    search_from_header(page, "чайники")

    expect(page).to_have_url(re.compile(r"/search\?q="))
    cards = page.locator("[data-test=product-card]")
    expect(cards).to_have_count(12)  # the sample catalogue: 6 electric and 6 tea kettles
    for name in cards.locator(".name").all_inner_texts():
        assert name.startswith("Чайник")
    first = cards.first
    expect(first.locator(".name")).to_contain_text("Чайник")
    expect(first.locator(".price")).to_have_text(re.compile(r"^\d[\d\u00a0]*,\d\d\u00a0₽$"))
    expect(first.locator(".places li")).to_have_count(4)
    expect(first.locator(".places")).to_contain_text("Shopflow на Тверской")
    image = first.locator("img")
    expect(image).to_have_attribute("src", re.compile(r"^/store/images/\d+\.svg$"))
    # decode() waits for the (lazily loaded) picture and fails if it cannot be drawn.
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0

    name = first.locator(".name").inner_text()
    first.click()
    expect(page).to_have_url(re.compile(r"/product/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.locator(".description")).to_contain_text("Гарантия")
    expect(page.get_by_role("button", name="Добавить в корзину")).to_be_visible()
    expect(page.locator(".places li")).to_have_count(4)


def test_typing_a_prefix_finds_products(page: Page) -> None:
    search_from_header(page, "пылес")
    expect(page.locator("[data-test=product-card]").first.locator(".name")).to_contain_text(
        "Пылесос"
    )


def test_nothing_found_and_nonsense_are_explained(page: Page) -> None:
    search_from_header(page, "холодильник")
    expect(page.get_by_role("status")).to_contain_text("ничего не нашлось")
    page.goto("/search?q=%21%21%21")
    expect(page.get_by_role("alert")).to_contain_text("нет ни одного слова")
    page.goto("/search?q=" + "я" * 300)
    expect(page.get_by_role("alert")).to_contain_text("длиннее 200")


def test_next_page_shows_other_products(page: Page) -> None:
    search_from_header(page, "гарантия")  # in every description
    first_page = page.locator("[data-test=product-card] .name").all_inner_texts()
    page.get_by_role("link", name="Дальше →").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    second_page = page.locator("[data-test=product-card] .name").all_inner_texts()
    assert second_page
    assert not set(first_page) & set(second_page)
