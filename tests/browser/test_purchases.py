"""The spec's «Оформление подарочной карты» in the browser, at desktop and phone sizes: a shopper
buys a gift card for a friend by bank card on the bank's page, the friend reads the code in the
mail, activates it and pays an order with it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.support.bank import GOOD_CARD
from tests.support.pages.checkout import shopper_with_cart, to_payment_choice
from tests.support.pages.customer import Customer, register_with_api
from tests.support.pages.payment import (
    PAYMENT_TIMEOUT_MS,
    click_pay,
    expect_bank_page,
    expect_paid,
    fill_card,
)
from tests.support.polling import eventually
from tests.support.store import MAIL_TIMEOUT_S, Store

DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
CODE = re.compile(r"Код активации: ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})")


def log_in_with_api(page: Page, customer: Customer) -> None:
    register_with_api(page, customer)
    assert page.request.post(
        "/auth/login", data={"username": customer.username, "password": customer.password}
    ).ok


def gift_card_code(store: Store, email: str) -> str:
    def arrived() -> str | None:
        for mail in store.messages(email):
            found = CODE.search(mail.get("body", "") or mail.get("text", ""))
            if mail["subject"].startswith("Вам подарочная карта") and found:
                return found[1]
        return None

    return eventually(arrived, timeout=MAIL_TIMEOUT_S, what=f"the gift card mail to {email}")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_gift_card_bought_by_bank_card_pays_the_friends_order(
    page: Page, browser: Browser, store: Store, viewport: ViewportSize
) -> None:
    page.set_viewport_size(viewport)
    friend_page = browser.new_context(base_url=store.base_url, locale="ru-RU").new_page()
    friend = shopper_with_cart(friend_page, store, funds=0)

    buyer = Customer.new()
    log_in_with_api(page, buyer)
    page.goto("/")
    page.get_by_role("link", name="Купить подарочную карту").click()
    expect(page.get_by_role("heading", name="Купить подарочную карту")).to_be_visible()
    pay = page.get_by_role("button", name="Оплатить")
    expect(pay).to_be_disabled()
    page.get_by_label("Имя получателя").fill(friend.first_name)
    page.get_by_label("E-mail получателя").fill("not-an-address")
    page.get_by_label("Сумма, ₽").fill("20")
    page.get_by_label("Сумма, ₽").blur()
    expect(pay).to_be_disabled()
    expect(page.locator('.field-error[data-for="amount"]')).to_contain_text("От 100")
    page.get_by_label("E-mail получателя").fill(friend.email)
    page.get_by_label("Сумма, ₽").fill("20000")
    page.get_by_role("img", name="Открытка «Спасибо»").click()
    expect(page.get_by_label("Спасибо")).to_be_checked()
    pay.click()

    expect(page).to_have_url(re.compile(r"/purchase/giftcard-[0-9a-f]{32}$"))
    expect(page.get_by_role("heading", name=re.compile("Подарочная карта на 20"))).to_be_visible()
    page.get_by_label("банковской картой").check()
    click_pay(page)
    expect_bank_page(page, store, "Оплата картой")
    fill_card(page, GOOD_CARD)
    expect(page.get_by_role("heading", name="Оплата прошла успешно")).to_be_visible()
    page.get_by_role("link", name="Вернуться в магазин").click()
    expect(page.locator("#purchase-done")).to_contain_text(
        f"Подарочная карта отправлена на {friend.email}", timeout=PAYMENT_TIMEOUT_MS
    )
    page.get_by_role("link", name="Перейти к каталогу товаров").click()
    expect(page.locator(".product-card, .card").first).to_be_visible()

    code = gift_card_code(store, friend.email)
    order_id = to_payment_choice(friend_page)
    friend_page.get_by_label("подарочной картой").check()
    friend_page.get_by_label("Код активации").fill(code)
    friend_page.get_by_role("button", name="Активировать").click()
    expect(friend_page.locator("#gift-cards")).to_contain_text(re.compile(r"20\s000,00\s₽"))
    click_pay(friend_page)
    expect_paid(friend_page, order_id)
    friend_page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_top_up_by_sbp_shows_the_new_balance_and_the_operation(
    page: Page, store: Store, viewport: ViewportSize
) -> None:
    page.set_viewport_size(viewport)
    log_in_with_api(page, Customer.new())
    page.goto("/account")
    expect(page.locator('[data-test="wallet-balance"]')).to_have_text(re.compile(r"^0,00\s₽$"))
    top_up = page.get_by_role("button", name="Пополнить баланс кошелька")
    expect(top_up).to_be_disabled()
    page.get_by_label("Сумма пополнения, ₽").fill("1250.50")
    top_up.click()

    expect(page).to_have_url(re.compile(r"/purchase/topup-[0-9a-f]{32}$"))
    expect(page.get_by_role("heading", name=re.compile("Пополнение кошелька на"))).to_be_visible()
    expect(page.get_by_label("из кошелька", exact=False)).to_have_count(0)  # not from itself
    page.get_by_label("через систему быстрых платежей").check()
    click_pay(page)
    expect_bank_page(page, store, "Оплата через СБП")
    app_link = page.get_by_role("link", name="Открыть приложение банка")
    phone = page.context.new_page()
    phone.goto(f"{store.bank_url}{app_link.get_attribute('href')}")
    phone.get_by_role("button", name="Подтвердить").click()
    expect(phone.get_by_role("heading", name="Оплата прошла успешно")).to_be_visible()
    phone.close()

    expect(page.locator("#new-balance")).to_have_text(
        re.compile(r"^1\s250,50\s₽$"), timeout=PAYMENT_TIMEOUT_MS
    )
    page.get_by_role("link", name="Личный кабинет", exact=True).first.click()
    expect(page.locator('[data-test="wallet-balance"]')).to_have_text(re.compile(r"^1\s250,50\s₽$"))
    first = page.locator("#operations tbody tr").first
    expect(first).to_contain_text("Пополнение")
    expect(first).to_contain_text(re.compile(r"\+1\s250,50\s₽"))
