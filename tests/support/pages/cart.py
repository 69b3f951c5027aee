"""«Моя корзина» in the browser: its positions read back, a quantity typed in, and the guard
around an edit that cart.js saves and then reloads the page for.

Guarded regression (COMMIT_RACE): a request's transaction must commit before its response goes
out, or the page the browser loads right after a login or a cart edit is drawn from the state
before it. Where a scenario trips over that, its failure names it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, NoReturn

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.money import parse_roubles

COMMIT_RACE = (
    "regression in edge/deps.py: SessionDep must commit before the response is sent"
    " (Depends(..., scope='function')); otherwise the page loaded right after a 200 from"
    " POST /auth/login or PUT /order/adjust can show the state from before it"
)


@dataclass(frozen=True)
class Position:
    name: str
    price: Decimal
    quantity: int
    total: Decimal


def known_race(what: str) -> NoReturn:
    pytest.fail(f"{COMMIT_RACE}; here: {what}")


def drawn_before_the_edit(page: Page) -> bool:
    """Did cart.js reload /cart (the mark set before the edit is gone), and was that page drawn
    from an older version of the order than the server has now?"""
    if page.evaluate("() => window.beforeEdit === true"):
        return False
    form = page.locator("#cart")
    if form.count() != 1:
        return False
    drawn = int(form.get_attribute("data-version") or "-1")
    response = page.request.get(
        "/order/get", params={"orderId": form.get_attribute("data-order-id") or ""}
    )
    return response.ok and int(response.json()["version"]) > drawn


@contextmanager
def saved_and_reloaded(page: Page) -> Iterator[None]:
    """Around an edit cart.js saves (PUT /order/adjust) and then reloads /cart for, and the first
    expectations on the reloaded page. If they fail because that page shows the order from before
    the edit although the server has the edit, the failure names the commit race."""
    page.wait_for_load_state()
    page.evaluate("() => { window.beforeEdit = true; }")
    try:
        yield
    except AssertionError:
        if drawn_before_the_edit(page):
            known_race("/cart loaded after PUT /order/adjust showed the order before the edit")
        raise


def positions(page: Page) -> Locator:
    return page.locator("#cart tbody").get_by_role("row")


def position(page: Page, name: str) -> Locator:
    return positions(page).filter(has=page.get_by_role("link", name=name, exact=True))


def quantity(page: Page, name: str) -> Locator:
    return page.get_by_role("spinbutton", name=f"Количество «{name}»", exact=True)


def order_total(page: Page) -> Locator:
    return page.locator(".total", has_text="Общая стоимость заказа").locator("#order-total")


def read_cart(page: Page, count: int) -> list[Position]:
    """The cart's positions once it shows `count` of them."""
    rows = positions(page)
    expect(rows).to_have_count(count)
    return [
        Position(
            name=row.get_by_role("link").inner_text(),
            price=parse_roubles(row.locator(".price").inner_text()),
            quantity=int(row.get_by_role("spinbutton").input_value()),
            total=parse_roubles(row.locator(".line-total").inner_text()),
        )
        for row in rows.all()
    ]


def set_quantity(page: Page, name: str, value: int, *, commit: Literal["Enter", "blur"]) -> None:
    """Type a quantity and fire `change` (by "Enter" or by leaving the field): cart.js saves it."""
    page.wait_for_load_state()  # cart.js listens for `change` from DOMContentLoaded on
    box = quantity(page, name)
    box.fill(str(value))
    if commit == "Enter":
        box.press("Enter")
    else:
        box.blur()
