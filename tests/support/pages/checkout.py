"""«Оформление заказа» in the browser: a shopper with a kettle in the cart (and money in the
wallet), the checkout page, and the way to «Выбор способа оплаты» with a pickup point."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Awaitable, Callable

from playwright.sync_api import Page, expect
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import create_engine, create_session_factory, transaction
from services import billing
from tests.support.pages.customer import Customer, register_with_api
from tests.support.store import Store


def in_store_db(store: Store, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """Run `work` in one transaction on the running store's database, as a test fixture."""

    async def run() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{store.log_path.parent / 'shop.db'}")
        try:
            async with transaction(create_session_factory(engine)) as session:
                await work(session)
        finally:
            await engine.dispose()

    # Playwright's sync API owns this thread's event loop: run the coroutine on another thread,
    # and raise its failure here.
    failures: list[BaseException] = []

    def in_thread() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    if failures:
        raise failures[0]


def move_money(store: Store, username: str, roubles: int) -> None:
    """Credit (roubles > 0) or debit (< 0) the wallet through billing, as a test fixture: the
    top-up flow is its own issue, and a debit stands for a purchase made in another tab."""

    async def move(session: AsyncSession) -> None:
        operation = billing.credit_wallet if roubles > 0 else billing.debit_wallet
        await operation(
            session=session,
            username=username,
            amount_kopecks=abs(roubles) * 100,
            idempotency_key=f"browser-{username}-{roubles}-{uuid.uuid4()}",
            reference="test",
        )

    in_store_db(store, move)


def put_kettle_in_cart(page: Page) -> None:
    found = page.request.get("/store/search", params={"q": "чайник", "pageSize": 60}).json()
    product = next(c for c in found["items"] if sum(p["quantity"] for p in c["productPlaces"]) >= 2)
    page.goto(f"/product/{product['id']}")
    page.get_by_role("button", name="Добавить в корзину").click()
    expect(page.get_by_role("status")).to_contain_text("Товар добавлен в корзину")


def shopper_with_cart(page: Page, store: Store, funds: int) -> Customer:
    """A logged-in customer with one kettle in the cart and `funds` roubles in the wallet."""
    customer = Customer.new()
    register_with_api(page, customer)
    assert page.request.post(
        "/auth/login", data={"username": customer.username, "password": customer.password}
    ).ok
    if funds:
        move_money(store, customer.username, funds)
    put_kettle_in_cart(page)
    return customer


def open_checkout(page: Page) -> None:
    page.goto("/cart")
    page.get_by_role("button", name="Оформить заказ").click()
    expect(page).to_have_url(re.compile(r"/checkout/[0-9a-f-]+$"))
    expect(page.get_by_role("heading", name="Оформление заказа")).to_be_visible()


def order_id_of(page: Page) -> str:
    match = re.search(r"/checkout/([0-9a-f-]+)", page.url)
    assert match, page.url
    return match[1]


def to_payment_choice(page: Page) -> str:
    """From the cart to «Выбор способа оплаты» with the first pickup point; the order's id."""
    open_checkout(page)
    page.get_by_label("Забрать товар на пункте выдачи").check()
    page.get_by_label("Пункт выдачи").select_option(index=1)
    page.get_by_role("button", name="Оплатить заказ").click()
    expect(page.get_by_role("heading", name="Выбор способа оплаты")).to_be_visible()
    expect(page.get_by_role("button", name="Оплатить", exact=True)).to_be_disabled()
    return order_id_of(page)
