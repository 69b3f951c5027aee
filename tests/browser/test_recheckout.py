"""The failure branch of «Оплата заказа» to its end, in Chromium against the whole store (`shopflow
dev`, with the bank emulator): a card the bank declines, «Вернуться к редактированию заказа», the
cart changed in «Моя корзина», «Оформить заказ» once more and the same means — «другая карта» on
the bank's page — with a good card: «Оплачено» for the changed order, and its result mail.

Guarded regression: the second checkout of the same order used to hit the first one's payment ids,
so the order stayed IN_PROGRESS and «Оплачено» never came (here `expect_paid` would time out).

At a desktop and at a phone size (the layout is the same page, only narrower)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.support.bank import DECLINED_CARD, GOOD_CARD
from tests.support.money import parse_roubles, roubles
from tests.support.pages.cart import (
    order_total,
    position,
    quantity,
    read_cart,
    saved_and_reloaded,
    set_quantity,
)
from tests.support.pages.checkout import shopper_with_cart, to_payment_choice
from tests.support.pages.payment import (
    PAYMENT_TIMEOUT_MS,
    expect_paid,
    mail_subjects,
    paid_subject,
    pay_on_card_page,
)
from tests.support.store import Store

pytestmark = pytest.mark.browser

DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
DECLINED = "Банк отклонил операцию"


def pay_with_another_card(page: Page, store: Store, number: str, outcome: str) -> None:
    """On «Выбор способа оплаты»: «банковской картой» → «другая карта», «Оплатить», the bank's
    hosted form with `number`, its result page `outcome`, «Вернуться в магазин»."""
    page.get_by_label("банковской картой").check()
    page.get_by_label("другая карта").check()
    expect(page.get_by_label("банковской картой")).to_be_checked()
    pay_on_card_page(page, store, number, outcome)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_declined_card_back_to_the_cart_changed_and_paid(
    page: Page, store: Store, viewport: ViewportSize
) -> None:
    page.set_viewport_size(viewport)
    customer = shopper_with_cart(page, store, funds=0)

    # The first checkout: the bank declines the card.
    first = to_payment_choice(page)
    pay_with_another_card(page, store, DECLINED_CARD, "Оплата не прошла")
    expect(page).to_have_url(re.compile(rf"/checkout/{first}/result$"), timeout=PAYMENT_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="Оплата не прошла")).to_be_visible()
    expect(page.locator("#payment-error")).to_have_text(DECLINED)

    # «Вернуться к редактированию заказа»: the goods are in «Моя корзина», editable again.
    page.get_by_role("button", name="Вернуться к редактированию заказа").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.get_by_role("heading", name="Моя корзина", level=1)).to_be_visible()
    (kettle,) = read_cart(page, 1)
    assert kettle.name.startswith("Чайник"), kettle
    assert kettle.quantity == 1, kettle
    with saved_and_reloaded(page):
        set_quantity(page, kettle.name, 2, commit="Enter")
        expect(position(page, kettle.name).locator(".line-total")).to_have_text(
            roubles(kettle.price * 2)
        )
    expect(quantity(page, kettle.name)).to_have_value("2")
    expect(order_total(page)).to_have_text(roubles(kettle.price * 2))

    # The second checkout takes the changed cart; the same means, a good card this time.
    second = to_payment_choice(page)
    expect(page.locator("#total")).to_have_text(roubles(kettle.price * 2))  # pickup is free
    pay_with_another_card(page, store, GOOD_CARD, "Оплата прошла успешно")
    expect_paid(page, second)

    line = page.locator(".composition tbody tr")
    expect(line).to_have_count(1)
    cells = line.get_by_role("cell")
    expect(cells.nth(0)).to_have_text(kettle.name)
    expect(cells.nth(2)).to_have_text("2")
    assert parse_roubles(cells.nth(3).inner_text()) == kettle.price * 2
    result = page.locator("#payment-result")
    expect(result).to_contain_text(
        f"Итого оплачено: {roubles(kettle.price * 2)}, банковской картой"
    )
    expect(result).to_contain_text("Самовывоз")

    subjects = mail_subjects(
        store, customer, f"Оплата заказа {first[:8]}: не прошла", paid_subject(second)
    )
    assert subjects.count(paid_subject(second)) == 1, subjects
