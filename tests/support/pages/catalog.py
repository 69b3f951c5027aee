"""The catalogue in the browser: a search from the header's box."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.support.pages.customer import header


def search_from_header(page: Page, query: str) -> None:
    page.goto("/")
    # A search box with suggestions (web/static/suggest.js): the ARIA combobox.
    box = header(page).get_by_role("combobox", name="Поиск товаров")
    box.fill(query)
    box.press("Enter")
