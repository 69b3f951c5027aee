"""After «Оплачено», in the browser: an operator moves a pickup order to the pickup point; the
shopper gets the mail and the SMS (read from the emulators), sees the notice on the open page and
the timeline; the operator hands it over and the order is COMPLETED."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.support.pages.checkout import shopper_with_cart, to_payment_choice
from tests.support.pages.customer import Customer, register_with_api
from tests.support.pages.operator import advance, make_operator
from tests.support.pages.payment import click_pay, expect_paid
from tests.support.polling import eventually
from tests.support.store import MAIL_TIMEOUT_S, Store

WAITING = "Заказ ждёт вас в пункте выдачи"
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
SHOPPER_PHONE = "+79123456789"  # Customer.new()'s «+7 912 345-67-89»


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_operator_moves_the_order_and_the_shopper_hears_of_it_everywhere(
    page: Page, browser: Browser, store: Store, viewport: ViewportSize
) -> None:
    page.set_viewport_size(viewport)  # the shopper's screen
    shopper = shopper_with_cart(page, store, funds=50_000)
    order_id = to_payment_choice(page)
    page.get_by_label(re.compile("из кошелька")).check()
    click_pay(page)
    expect_paid(page, order_id)

    operator_page = browser.new_context(base_url=store.base_url, locale="ru-RU").new_page()
    operator = Customer.new()
    register_with_api(operator_page, operator)
    make_operator(store, operator.username)
    assert operator_page.request.post(
        "/auth/login", data={"username": operator.username, "password": operator.password}
    ).ok
    operator_page.goto("/operator")
    expect(operator_page.locator(f'tr[data-order-id="{order_id}"] .stage')).to_have_text(
        "Комплектуется"
    )
    advance(operator_page, order_id, "SENT_TO_PICKUP_POINT")

    page.goto(f"/orders/{order_id}")  # the shopper's page stays open and listens
    expect(page.locator("#order-stage")).to_have_text("Отправлен в пункт выдачи")
    advance(operator_page, order_id, "AT_PICKUP_POINT")

    expect(page.locator("#toasts .toast").filter(has_text=WAITING)).to_be_visible(timeout=15_000)
    page.reload()
    expect(page.locator('ol#timeline li[data-stage="AT_PICKUP_POINT"]')).to_be_visible()
    subjects = eventually(
        lambda: (
            [m["subject"] for m in store.messages(shopper.email) if WAITING in m["subject"]] or None
        ),
        timeout=MAIL_TIMEOUT_S,
        what="the mail that the order is at the pickup point",
    )
    assert subjects == [f"Заказ {order_id[:8]}: {WAITING}"]
    texts = eventually(
        lambda: (
            [
                m["text"]
                for m in store.sms_messages(SHOPPER_PHONE)
                if order_id[:8] in m["text"] and WAITING in m["text"]
            ]
            or None
        ),
        timeout=MAIL_TIMEOUT_S,
        what="the SMS that the order is at the pickup point",
    )
    assert len(texts) == 1, "one SMS per notice"

    advance(operator_page, order_id, "PICKED_UP")
    page.reload()
    expect(page.locator("#order-status")).to_have_text("Выполнен")
    expect(page.locator('ol#timeline li[data-stage="PICKED_UP"]')).to_be_visible()
    order = page.request.get("/order/get", params={"orderId": order_id}).json()
    assert order["status"] == "COMPLETED"
    operator_page.context.close()
