"""«Оплата заказа» in the browser: «Оплатить», the bank emulator's hosted pages and the way back
to the store, «Оплачено» on the result page, and the result mails in the mailbox."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.pages.customer import Customer
from tests.support.polling import eventually
from tests.support.store import MAIL_TIMEOUT_S, Store

SERVICE_KEY = {"X-Service-Key": "dev-service-key"}  # SHOP_SERVICE_KEY's dev default


def issue_gift_card(page: Page, roubles: int) -> dict[str, Any]:
    """A new gift card through billing's internal contract, as the gift card flow issues one."""
    response = page.request.post(
        "/billing/token/create",
        headers=SERVICE_KEY,
        data={
            "amount": roubles,
            "recipientName": "Анна",
            "recipientEmail": "anna@example.ru",
            "idempotencyKey": f"browser-gift-{uuid.uuid4()}",
        },
    )
    assert response.ok, response.text()
    card: dict[str, Any] = response.json()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", card["activationCode"]), card
    return card


# From «Оплатить» to «Оплачено»: a payment run, the bank's callback, the order's confirmation.
PAYMENT_TIMEOUT_MS = 30_000


def click_pay(page: Page) -> None:
    pay = page.get_by_role("button", name="Оплатить", exact=True)
    expect(pay).to_be_enabled()
    pay.click()


def expect_bank_page(page: Page, store: Store, heading: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(store.bank_url) + r"/pay/pay_\w+$"))
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


def fill_card(page: Page, number: str) -> None:
    """The bank's hosted card form: number, expiry, CVC, «Оплатить»."""
    page.get_by_label("Номер карты").fill(number)
    page.get_by_label("Срок действия (ММ/ГГ)").fill("12/30")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Оплатить").click()


def back_to_store(page: Page, outcome: str) -> None:
    """The bank's result page, then «Вернуться в магазин» (it also redirects by itself in 3 s)."""
    expect(page.get_by_role("heading", name=outcome)).to_be_visible()
    page.get_by_role("link", name="Вернуться в магазин").click()


def pay_on_card_page(page: Page, store: Store, number: str, outcome: str) -> None:
    """«Оплатить» with a card not remembered: the bank's hosted form with `number`, its result
    page `outcome`, «Вернуться в магазин»."""
    click_pay(page)
    expect_bank_page(page, store, "Оплата картой")
    fill_card(page, number)
    back_to_store(page, outcome)


def expect_paid(page: Page, order_id: str) -> None:
    expect(page).to_have_url(
        re.compile(rf"/checkout/{order_id}/result$"), timeout=PAYMENT_TIMEOUT_MS
    )
    expect(page.locator("#paid-mark")).to_have_text("Оплачено")
    expect(page.locator(".composition")).to_contain_text("Чайник")


def mail_subjects(store: Store, customer: Customer, *wanted: str) -> list[str]:
    """The subjects in the customer's mailbox once every `wanted` subject has arrived."""

    def arrived() -> list[str] | None:
        subjects = [m["subject"] for m in store.messages(customer.email)]
        return subjects if all(w in subjects for w in wanted) else None

    return eventually(arrived, timeout=MAIL_TIMEOUT_S, what=f"mails {wanted} to {customer.email}")


def paid_subject(order_id: str) -> str:
    return f"Оплата заказа {order_id[:8]}: успешно"
