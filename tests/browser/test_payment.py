"""«Оплата заказа» by every method, in Chromium against the whole store (`shopflow dev`, with the
bank emulator): a new card remembered and then paid with again, 3-D Secure, СБП through the «bank
app», the wallet, a gift card activated on the checkout page, a declined card then a retry; the
gift card activation page and the payment means in «Личный кабинет».

Each payment ends with «Оплачено» on the result page and the result mail in the mailbox."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.bank import DECLINED_CARD, GOOD_CARD, THREE_DS_CARD
from tests.support.pages.checkout import put_kettle_in_cart, shopper_with_cart, to_payment_choice
from tests.support.pages.payment import (
    PAYMENT_TIMEOUT_MS,
    SERVICE_KEY,
    back_to_store,
    click_pay,
    expect_bank_page,
    expect_paid,
    fill_card,
    issue_gift_card,
    mail_subjects,
    paid_subject,
    pay_on_card_page,
)
from tests.support.store import Store

pytestmark = pytest.mark.browser


def test_new_card_remembered_then_paid_with_again(page: Page, store: Store) -> None:
    customer = shopper_with_cart(page, store, funds=0)
    first = to_payment_choice(page)
    remember = page.get_by_label("Запомнить карту")
    expect(remember).to_be_disabled()  # only for «другая карта»
    page.get_by_label("банковской картой").check()
    expect(page.get_by_label("другая карта")).to_be_checked()  # no linked card yet
    remember.check()
    pay_on_card_page(page, store, GOOD_CARD, "Оплата прошла успешно")
    expect_paid(page, first)
    expect(page.locator("#payment-result")).to_contain_text("банковской картой")

    # The second order: the linked card is offered with its masked number and charged at once.
    bank_visits: list[str] = []
    page.on(
        "framenavigated",
        lambda frame: (
            bank_visits.append(frame.url) if frame.url.startswith(store.bank_url) else None
        ),
    )
    put_kettle_in_cart(page)
    second = to_payment_choice(page)
    assert second != first
    linked = page.get_by_label("карта •••• 1111")
    linked.check()
    expect(page.get_by_label("банковской картой")).to_be_checked()
    click_pay(page)
    expect_paid(page, second)
    assert not bank_visits, bank_visits

    subjects = mail_subjects(store, customer, paid_subject(first), paid_subject(second))
    assert not any("не прошла" in s for s in subjects), subjects

    # «Личный кабинет» lists the card; «Удалить» forgets it.
    page.get_by_role("link", name="Личный кабинет").click()
    cards = page.locator("#saved-cards")
    expect(cards).to_contain_text("Карта •••• 1111")
    cards.get_by_role("button", name="Удалить").click()
    expect(page.get_by_role("status").filter(has_text="Карта удалена")).to_be_visible()
    expect(cards).not_to_contain_text("411111")
    page.reload()
    expect(page.get_by_text("Сохранённых карт нет")).to_be_visible()


def test_new_card_with_3d_secure(page: Page, store: Store) -> None:
    customer = shopper_with_cart(page, store, funds=0)
    order_id = to_payment_choice(page)
    page.get_by_label("другая карта").check()  # picks «банковской картой» too
    expect(page.get_by_label("банковской картой")).to_be_checked()
    click_pay(page)

    expect_bank_page(page, store, "Оплата картой")
    bank_page = page.url

    # Left for the store meanwhile: the checkout page leads back to the bank's page.
    page.goto(f"/checkout/{order_id}")
    expect(page.get_by_text("Оплата ждёт подтверждения на странице банка")).to_be_visible()
    page.get_by_role("link", name="Перейти на страницу банка").click()
    expect(page).to_have_url(bank_page)

    fill_card(page, THREE_DS_CARD)
    expect(page.get_by_role("heading", name=re.compile("3-D Secure"))).to_be_visible()
    expect(page.get_by_text("400000******3220")).to_be_visible()
    page.get_by_label("Код из SMS").fill("1234")
    # The bank's callback is held back: the store's page waits until the checkout asks the bank
    # itself (every SHOP_BANK_POLL_SECONDS = 5 s in these tests).
    assert httpx.post(f"{store.bank_url}/admin/callbacks/hold", timeout=5.0).is_success
    try:
        page.get_by_role("button", name="Подтвердить").click()
        back_to_store(page, "Оплата прошла успешно")
        expect(page).to_have_url(re.compile(rf"/checkout/{order_id}/return\?paymentId=pay_\w+$"))
        expect(page.get_by_role("heading", name="Проверяем оплату…")).to_be_visible()
        expect_paid(page, order_id)
    finally:
        httpx.post(f"{store.bank_url}/admin/callbacks/release", timeout=5.0)
    mail_subjects(store, customer, paid_subject(order_id))


def test_sbp_confirmed_in_the_bank_app(page: Page, store: Store) -> None:
    customer = shopper_with_cart(page, store, funds=0)
    order_id = to_payment_choice(page)
    page.get_by_label("через систему быстрых платежей").check()
    click_pay(page)

    expect_bank_page(page, store, "Оплата через СБП")
    expect(page.get_by_role("img", name="QR-код СБП")).to_be_visible()
    app_link = page.get_by_role("link", name="Открыть приложение банка")
    app_url = f"{store.bank_url}{app_link.get_attribute('href')}"
    assert re.search(r"/sbp/pay_\w+/app$", app_url), app_url

    # The shopper's phone: the «bank app» in another tab.
    phone = page.context.new_page()
    phone.goto(app_url)
    expect(phone.get_by_role("heading", name="Приложение банка")).to_be_visible()
    phone.get_by_role("button", name="Подтвердить").click()
    expect(phone.get_by_role("heading", name="Оплата прошла успешно")).to_be_visible()
    phone.close()

    # The QR page reloads itself, shows the result and sends the shopper back to the store by
    # itself; the store's «Проверяем оплату…» page waits for the checkout, then shows «Оплачено».
    expect_paid(page, order_id)
    expect(page.locator("#payment-result")).to_contain_text("через СБП")
    mail_subjects(store, customer, paid_subject(order_id))


def test_wallet_funded_through_billing(page: Page, store: Store) -> None:
    customer = shopper_with_cart(page, store, funds=0)
    credit = page.request.post(
        "/billing/token/charge",
        headers=SERVICE_KEY,
        data={
            "username": customer.username,
            "tokenType": "WALLET",
            "operation": "CREDIT",
            "amount": 20_000,
            "idempotencyKey": f"browser-credit-{uuid.uuid4()}",
            "reference": "test",
        },
    )
    assert credit.ok, credit.text()
    order_id = to_payment_choice(page)
    expect(page.locator("#wallet-balance")).to_have_text(re.compile(r"20\s000,00\s₽"))
    page.get_by_label(re.compile("из кошелька клиента")).check()
    click_pay(page)
    expect_paid(page, order_id)
    expect(page.locator("#payment-result")).to_contain_text("из кошелька")
    mail_subjects(store, customer, paid_subject(order_id))


def test_gift_card_activated_while_paying(page: Page, store: Store) -> None:
    customer = shopper_with_cart(page, store, funds=0)
    small = issue_gift_card(page, 10)
    big = issue_gift_card(page, 20_000)
    order_id = to_payment_choice(page)

    page.get_by_label("подарочной картой").check()
    expect(page.get_by_label("новая подарочная карта")).to_be_checked()  # no card yet
    code = page.get_by_label("Код активации")
    activate = page.get_by_role("button", name="Активировать")
    pay = page.get_by_role("button", name="Оплатить", exact=True)

    code.fill("AAAA-BBBB-CCCC-DDDD")
    activate.click()
    expect(page.locator("#activation-error")).to_contain_text("не найдена")
    expect(pay).to_be_disabled()

    # A card too small for the order joins the list but cannot be chosen.
    code.fill(small["activationCode"].lower())  # case and dashes do not matter
    activate.click()
    expect(page.locator("#activation-done")).to_contain_text("не хватает")
    small_option = page.get_by_label(re.compile(re.escape(small["maskedTokenId"])))
    expect(small_option).to_be_disabled()
    expect(pay).to_be_disabled()

    code.fill(big["activationCode"])
    code.press("Enter")
    big_option = page.get_by_label(re.compile(re.escape(big["maskedTokenId"])))
    expect(big_option).to_be_checked()
    expect(page.locator("#gift-cards")).to_contain_text(re.compile(r"20\s000,00\s₽"))
    click_pay(page)

    expect_paid(page, order_id)
    expect(page.locator("#payment-result")).to_contain_text("подарочной картой")
    mail_subjects(store, customer, paid_subject(order_id))
    tokens = page.request.get("/payment/tokens/get").json()["tokens"]
    balances = {t["maskedTokenId"]: t["balance"] for t in tokens}
    assert balances[small["maskedTokenId"]] == 10
    assert 0 < balances[big["maskedTokenId"]] < 20_000  # the order's total was taken


def test_declined_card_then_another_card(page: Page, store: Store) -> None:
    customer = shopper_with_cart(page, store, funds=0)
    order_id = to_payment_choice(page)
    page.get_by_label("другая карта").check()
    pay_on_card_page(page, store, DECLINED_CARD, "Оплата не прошла")

    expect(page).to_have_url(
        re.compile(rf"/checkout/{order_id}/result$"), timeout=PAYMENT_TIMEOUT_MS
    )
    expect(page.locator("#payment-error")).to_have_text("Банк отклонил операцию")
    expect(page.get_by_role("button", name="Вернуться к редактированию заказа")).to_be_visible()
    page.get_by_role("link", name="Попробовать оплатить еще раз").click()

    expect(page.get_by_role("heading", name="Выбор способа оплаты")).to_be_visible()
    expect(page.locator("#last-error")).to_have_text("Банк отклонил операцию")
    page.get_by_label("другая карта").check()
    pay_on_card_page(page, store, GOOD_CARD, "Оплата прошла успешно")
    expect_paid(page, order_id)
    mail_subjects(
        store, customer, f"Оплата заказа {order_id[:8]}: не прошла", paid_subject(order_id)
    )


def test_gift_card_activation_page(page: Page, store: Store) -> None:
    page.goto("/giftcard/activate")
    expect(page).to_have_url(re.compile(r"/login\?next=/giftcard/activate$"))

    shopper_with_cart(page, store, funds=0)
    card = issue_gift_card(page, 1_500)
    page.get_by_role("link", name="Личный кабинет").click()
    page.get_by_role("link", name="Активировать подарочную карту").click()
    expect(page.get_by_role("heading", name="Активировать подарочную карту")).to_be_visible()

    code = page.get_by_label("Код активации")
    code.fill("12")
    page.get_by_role("button", name="активировать").click()
    expect(page.locator("#activation-error")).to_contain_text("16 букв и цифр")

    page.get_by_label("Код активации").fill(card["activationCode"])
    page.get_by_role("button", name="активировать").click()
    expect(page.locator("#gift-balance")).to_have_text(re.compile(r"^1\s500,00\s₽$"))
    page.get_by_role("link", name="Перейти к каталогу товаров").click()
    expect(page).to_have_url(f"{store.base_url}/catalog")  # goods to browse

    page.goto("/account")
    expect(page.locator("#gift-cards")).to_contain_text(card["maskedTokenId"])
    expect(page.locator("#gift-cards")).to_contain_text(re.compile(r"1\s500,00\s₽"))


def test_leaving_the_bank_page_for_another_method(page: Page, store: Store) -> None:
    customer = shopper_with_cart(page, store, funds=20_000)
    order_id = to_payment_choice(page)
    page.get_by_label("через систему быстрых платежей").check()
    click_pay(page)
    expect_bank_page(page, store, "Оплата через СБП")

    # The shopper changes their mind: back in the store, «Выбрать другой способ оплаты».
    page.goto(f"/checkout/{order_id}")
    page.get_by_role("button", name="Выбрать другой способ оплаты").click()
    expect(page.get_by_role("heading", name="Выбор способа оплаты")).to_be_visible()
    expect(page.locator("#last-error")).to_have_text("Оплата на странице банка отменена")
    page.get_by_label(re.compile("из кошелька клиента")).check()
    click_pay(page)
    expect_paid(page, order_id)
    mail_subjects(
        store, customer, f"Оплата заказа {order_id[:8]}: не прошла", paid_subject(order_id)
    )
