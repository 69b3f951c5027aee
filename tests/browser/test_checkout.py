"""«Оформление заказа» and «Оплата заказа» from the wallet, in Chromium: courier (cost shown, the
checkbox gates «Оплатить заказ») and pickup, the result «Оплачено», and the failure page with
both of its options."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.pages.checkout import move_money, open_checkout, shopper_with_cart
from tests.support.pages.customer import Customer
from tests.support.store import Store

pytestmark = pytest.mark.browser


def pay_from_wallet(page: Page) -> None:
    page.get_by_role("button", name="Оплатить заказ").click()
    expect(page.get_by_role("heading", name="Выбор способа оплаты")).to_be_visible()
    pay = page.get_by_role("button", name="Оплатить", exact=True)
    expect(pay).to_be_disabled()
    page.get_by_label(re.compile("из кошелька клиента")).check()
    expect(pay).to_be_enabled()
    pay.click()


def test_courier_delivery_paid_from_the_wallet(page: Page, store: Store) -> None:
    customer = shopper_with_cart(page, store, funds=50_000)
    open_checkout(page)
    pay_order = page.get_by_role("button", name="Оплатить заказ")
    expect(pay_order).to_be_disabled()

    page.get_by_label("Доставка курьером").check()
    page.get_by_label("Адрес доставки").fill("Москва, ул. Арбат, 10")  # the companies follow
    page.get_by_role("radio", name=re.compile("СДЭК Экспресс")).check()
    expect(page.locator("#delivery-cost")).to_have_text(re.compile(r"\d+,\d\d\s₽"))
    expect(pay_order).to_be_disabled()  # until the cost is confirmed
    page.get_by_label("подтвердить стоимость доставки").check()
    expect(pay_order).to_be_enabled()

    pay_from_wallet(page)

    expect(page).to_have_url(re.compile(r"/result$"))
    expect(page.locator("#paid-mark")).to_have_text("Оплачено")
    expect(page.locator(".composition")).to_contain_text("Чайник")
    expect(page.locator("#payment-result")).to_contain_text("СДЭК Экспресс")
    mails = store.messages(customer.email)
    assert any("успешно" in m["subject"] for m in mails), [m["subject"] for m in mails]


def test_pickup_point_paid_from_the_wallet(page: Page, store: Store) -> None:
    shopper_with_cart(page, store, funds=50_000)
    open_checkout(page)
    page.get_by_label("Забрать товар на пункте выдачи").check()
    page.get_by_label("Пункт выдачи").select_option(
        label="Пункт выдачи «Арбат» — Москва, ул. Арбат, 24"
    )
    expect(page.get_by_role("button", name="Оплатить заказ")).to_be_enabled()
    pay_from_wallet(page)
    expect(page.locator("#paid-mark")).to_have_text("Оплачено")
    expect(page.locator("#payment-result")).to_contain_text("Самовывоз")


def decline_by_spending_elsewhere(page: Page, store: Store, customer: Customer) -> None:
    """Choose pickup and the wallet, then lose the money in «another tab» before «Оплатить»."""
    page.get_by_label("Забрать товар на пункте выдачи").check()
    page.get_by_label("Пункт выдачи").select_option(index=1)
    page.get_by_role("button", name="Оплатить заказ").click()
    page.get_by_label(re.compile("из кошелька клиента")).check()
    move_money(store, customer.username, -49_990)  # the page still shows the old balance
    page.get_by_role("button", name="Оплатить", exact=True).click()
    expect(page).to_have_url(re.compile(r"/result$"))
    expect(page.get_by_role("alert")).to_contain_text("Недостаточно средств")


def test_a_poor_wallet_cannot_be_chosen(page: Page, store: Store) -> None:
    shopper_with_cart(page, store, funds=1)
    open_checkout(page)
    page.get_by_label("Забрать товар на пункте выдачи").check()
    page.get_by_label("Пункт выдачи").select_option(index=1)
    page.get_by_role("button", name="Оплатить заказ").click()
    expect(page.get_by_label(re.compile("из кошелька клиента"))).to_be_disabled()
    expect(page.get_by_text("недостаточно средств")).to_be_visible()
    expect(page.get_by_role("button", name="Оплатить", exact=True)).to_be_disabled()


def test_declined_payment_then_try_again(page: Page, store: Store) -> None:
    customer = shopper_with_cart(page, store, funds=50_000)
    open_checkout(page)
    decline_by_spending_elsewhere(page, store, customer)
    expect(page.get_by_role("button", name="Вернуться к редактированию заказа")).to_be_visible()

    move_money(store, customer.username, 50_000)
    page.get_by_role("link", name="Попробовать оплатить еще раз").click()
    expect(page.get_by_role("heading", name="Выбор способа оплаты")).to_be_visible()
    page.get_by_label(re.compile("из кошелька клиента")).check()
    page.get_by_role("button", name="Оплатить", exact=True).click()
    expect(page.locator("#paid-mark")).to_have_text("Оплачено")
    mails = store.messages(customer.email)
    subjects = [m["subject"] for m in mails]
    assert any("не прошла" in s for s in subjects), subjects
    assert any("успешно" in s for s in subjects), subjects


def test_back_to_editing_the_order_from_the_failure_page(page: Page, store: Store) -> None:
    customer = shopper_with_cart(page, store, funds=50_000)
    open_checkout(page)
    decline_by_spending_elsewhere(page, store, customer)

    page.get_by_role("button", name="Вернуться к редактированию заказа").click()

    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.get_by_role("button", name="удалить товар из корзины")).to_be_visible()
    quantity = page.locator("input.quantity").first
    quantity.fill("2")
    quantity.press("Enter")
    expect(page.locator("input.quantity").first).to_have_value("2")  # editable again
