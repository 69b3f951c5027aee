"""The catalogue in the browser: a search from the header's box."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.support.pages.customer import header


def search_from_header(page: Page, query: str) -> None:
    page.goto("/")
    box = header(page).get_by_role("searchbox", name="Поиск товаров")
    box.fill(query)
    box.press("Enter")
