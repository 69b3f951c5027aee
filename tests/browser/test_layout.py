"""Every page of the store on a 375 px phone and on a 1280 px desktop, in Chromium: no horizontal
scroll, and no serious or critical violation found by axe-core (the copy bundled by
axe-playwright-python, injected into the page: nothing is downloaded). Also the checkout's small
things: the courier companies listed as soon as an address is typed (and still listed after a
reload), a company's name not doubled with its kind, a saved bank card and a gift card masked
alike, and the favicon."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel.ext.asyncio.session import AsyncSession

from services import payment
from tests.support.pages.audit import SCREENS, Audit
from tests.support.pages.checkout import (
    in_store_db,
    move_money,
    open_checkout,
    order_id_of,
    put_kettle_in_cart,
    shopper_with_cart,
    to_payment_choice,
)
from tests.support.pages.customer import Customer, register_with_api
from tests.support.pages.operator import make_operator
from tests.support.pages.payment import click_pay, expect_paid, issue_gift_card
from tests.support.store import Store

pytestmark = pytest.mark.browser

BANK_MASKED = "424242******4242"  # a card number as the bank masks it (adapters/bank.py)


def log_in(page: Page, customer: Customer) -> None:
    response = page.request.post(
        "/auth/login", data={"username": customer.username, "password": customer.password}
    )
    assert response.ok, response.text()


def save_bank_card(store: Store, username: str) -> None:
    """A card the bank bound to the shopper (as «Запомнить карту» leaves it), with its number as
    the bank masks it."""

    async def save(session: AsyncSession) -> None:
        await payment.save_card(
            session=session,
            username=username,
            bank_token=f"tok_{uuid.uuid4().hex}",
            masked=BANK_MASKED,
            expiry="12/30",
        )

    in_store_db(store, save)


def activate_gift_card(page: Page, roubles: int) -> str:
    """A new gift card (billing's internal contract, as the purchase flow issues one) activated by
    the logged-in shopper; its masked code."""
    issued = issue_gift_card(page, roubles)
    activated = page.request.post(
        "/payment/activate", data={"activationCode": issued["activationCode"]}
    )
    assert activated.ok, activated.text()
    masked: str = activated.json()["maskedTokenId"]
    return masked


def shopper_with_means(page: Page, store: Store) -> Customer:
    """A logged-in shopper with money in the wallet, a saved bank card and a gift card."""
    customer = Customer.new()
    register_with_api(page, customer)
    log_in(page, customer)
    move_money(store, customer.username, 50_000)
    save_bank_card(store, customer.username)
    activate_gift_card(page, 1_000)
    return customer


def kettle_id(page: Page) -> int:
    found = page.request.get("/store/search", params={"q": "чайник", "pageSize": 1}).json()
    product_id: int = found["items"][0]["id"]
    return product_id


def walk_the_store(page: Page, store: Store, width: int) -> list[str]:
    """Every page of the store, as a visitor, a shopper and an operator sees it."""
    audit = Audit(page, width)
    audit.visit("home", "/")
    audit.visit("catalogue", "/catalog")
    audit.visit("product page", f"/product/{kettle_id(page)}")
    audit.visit("search results", "/search?q=чайник")
    audit.visit("login", "/login")
    audit.visit("registration", "/register")
    audit.visit("error 404", "/no-such-page", status=404)

    customer = shopper_with_means(page, store)
    put_kettle_in_cart(page)
    audit.visit("cart with an item", "/cart")
    open_checkout(page)
    audit.check("checkout: delivery")
    page.get_by_label("Доставка курьером").check()
    audit.check("checkout: courier address")
    page.get_by_label("Забрать товар на пункте выдачи").check()
    page.get_by_label("Пункт выдачи").select_option(index=1)
    page.get_by_role("button", name="Оплатить заказ").click()
    expect(page.get_by_role("heading", name="Выбор способа оплаты")).to_be_visible()
    audit.check("checkout: payment choice")
    page.get_by_label(re.compile("из кошелька")).check()
    order_id = order_id_of(page)
    click_pay(page)
    expect_paid(page, order_id)
    audit.check("payment result")
    audit.visit("my orders", "/orders")
    audit.visit("an order", f"/orders/{order_id}")
    audit.visit("account", "/account")
    audit.visit("notifications", "/notifications")
    audit.visit("buy a gift card", "/giftcard/buy")
    audit.visit("activate a gift card", "/giftcard/activate")
    topup = page.request.post("/purchase/topup", data={"amount": 500})
    assert topup.ok, topup.text()
    audit.visit("wallet top-up", f"/purchase/{topup.json()['purchaseId']}")

    make_operator(store, customer.username)
    log_in(page, customer)  # the role comes with a new session
    audit.visit("operator: orders", "/operator")
    audit.visit("operator: an order", f"/operator/order/{order_id}")
    return audit.problems


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_page_fits_the_screen_and_passes_axe(
    browser: Browser, store: Store, screen: str
) -> None:
    options = SCREENS[screen]
    context = browser.new_context(base_url=store.base_url, locale="ru-RU", **options)
    elsewhere: list[str] = []  # axe-core included: nothing may come from outside the store
    context.on(
        "request",
        lambda request: (
            None if request.url.startswith(store.base_url) else elsewhere.append(request.url)
        ),
    )
    try:
        problems = walk_the_store(context.new_page(), store, options["viewport"]["width"])
    finally:
        context.close()
    assert not problems, f"{len(problems)} problems on the {screen}:\n" + "\n".join(problems)
    assert not elsewhere, f"requests outside the store: {elsewhere}"


def test_courier_companies_are_listed_as_the_address_is_typed(page: Page, store: Store) -> None:
    shopper_with_cart(page, store, funds=0)
    open_checkout(page)
    page.get_by_label("Доставка курьером").check()
    page.get_by_label("Адрес доставки").press_sequentially("Москва, ул. Арбат, 10", delay=20)

    own = page.get_by_role("radio", name=re.compile("Shopflow Курьер"))
    expect(own).to_be_visible()  # no «Показать курьерские компании» to click
    expect(page.get_by_role("button", name=re.compile("Показать"))).to_have_count(0)
    expect(page.get_by_role("radio", name=re.compile("СДЭК Экспресс"))).to_be_visible()
    own.check()
    summary = page.locator("#delivery-summary")
    expect(summary).to_contain_text("Shopflow Курьер")
    expect(summary).not_to_contain_text("Курьер Shopflow Курьер")

    page.reload()
    expect(page.get_by_role("radio", name=re.compile("Shopflow Курьер"))).to_be_checked()
    expect(page.get_by_role("radio", name=re.compile("СДЭК Экспресс"))).to_be_visible()
    page.get_by_label("подтвердить стоимость доставки").check()
    pay_order = page.get_by_role("button", name="Оплатить заказ")
    expect(pay_order).to_be_enabled()

    # Another address: its companies, none chosen yet; the chosen one typed back: chosen again.
    address = page.get_by_label("Адрес доставки")
    address.fill("Санкт-Петербург, Невский проспект, 1")
    expect(page.get_by_role("radio", name=re.compile("СДЭК Экспресс"))).not_to_be_checked()
    expect(page.get_by_role("radio", name=re.compile("Shopflow Курьер"))).to_have_count(0)
    expect(pay_order).to_be_disabled()
    address.fill("Москва, ул. Арбат, 10")
    expect(page.get_by_role("radio", name=re.compile("Shopflow Курьер"))).to_be_checked()
    expect(pay_order).to_be_enabled()


def test_a_bank_card_and_a_gift_card_are_masked_alike(page: Page, store: Store) -> None:
    customer = Customer.new()
    register_with_api(page, customer)
    log_in(page, customer)
    save_bank_card(store, customer.username)
    gift = activate_gift_card(page, 100_000)
    mask = re.compile(r"•••• [0-9A-Z]{4}")
    assert mask.fullmatch(gift), gift

    page.goto("/account")
    expect(page.locator("#saved-cards")).to_contain_text("Карта •••• 4242")
    expect(page.locator("#gift-cards")).to_contain_text(f"Подарочная карта {gift}")
    expect(page.locator("#saved-cards")).not_to_contain_text("*")

    put_kettle_in_cart(page)
    to_payment_choice(page)
    expect(page.get_by_label("карта •••• 4242")).to_be_visible()
    expect(page.get_by_label(re.compile(f"подарочная карта {gift}"))).to_be_visible()


def test_the_favicon_is_the_stores_svg(page: Page, store: Store) -> None:
    response = page.request.get("/favicon.ico")  # what browsers ask for whatever a page links
    assert response.ok, response.status
    assert response.headers["content-type"].startswith("image/svg+xml")
    page.goto("/")
    expect(page.locator('link[rel="icon"]')).to_have_attribute("href", "/static/favicon.svg")
