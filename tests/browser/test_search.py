"""Search as a shopper types it, in Chromium: suggestions under the header's search line (mouse
and keyboard), and a mistyped query that finds what was meant and says «Вы искали: …»."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.pages.catalog import search_from_header

pytestmark = pytest.mark.browser


def test_suggestions_appear_while_typing_and_open_the_product(page: Page) -> None:
    page.goto("/")
    box = page.get_by_role("combobox", name="Поиск товаров")
    box.press_sequentially("пылес", delay=30)
    options = page.get_by_role("option")
    expect(options.first).to_contain_text("Пылесос")
    expect(box).to_have_attribute("aria-expanded", "true")
    name = options.first.inner_text()
    options.first.click()
    expect(page).to_have_url(re.compile(r"/product/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_a_suggestion_is_chosen_with_the_keyboard(page: Page) -> None:
    page.goto("/")
    box = page.get_by_role("combobox", name="Поиск товаров")
    box.press_sequentially("чайнек", delay=30)  # mistyped: the suggestions are corrected
    expect(page.get_by_role("option").first).to_contain_text("Чайник")
    box.press("ArrowDown")
    expect(page.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/product/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Чайник")


def test_a_mistyped_query_finds_what_was_meant(page: Page) -> None:
    search_from_header(page, "пылисос")
    expect(page.locator("[data-test=corrected]")).to_contain_text("Вы искали: пылесос")
    names = page.locator("[data-test=product-card] .name").all_inner_texts()
    assert names
    assert all(name.startswith("Пылесос") for name in names)
