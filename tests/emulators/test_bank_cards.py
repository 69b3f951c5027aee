"""Card payments on the bank emulator's hosted form, 3-D Secure, and saved cards charged by their
token, through the real adapter; each outcome also arrives as a signed callback."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from adapters.bank import (
    HttpBankGateway,
    PaymentMethod,
    PaymentStatus,
    verify_callback,
)
from core.errors import ConflictError, NotFoundError, PaymentDeclinedError
from tests.support.bank import (
    DECLINED_CARD,
    GOOD_CARD,
    NO_FUNDS_CARD,
    RETURN_URL,
    SECRET,
    THREE_DS_CARD,
    CallbackReceiver,
    deliveries,
    key,
    new_payment,
    open_page,
    pay_by_card,
)

# --- cards -----------------------------------------------------------------------------------


async def test_card_payment_succeeds_and_a_signed_callback_arrives(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url, amount=1_234_56)
    assert payment.status is PaymentStatus.PENDING
    assert payment.confirmation_url is not None
    assert payment.payment_id in payment.confirmation_url

    form_page = await open_page(buyer, payment.confirmation_url)
    assert "Оплата картой" in form_page.text
    assert "1 234,56 ₽" in form_page.text
    assert "Заказ №42 в Shopflow" in form_page.text
    assert {"cardNumber", "expiry", "cvc"} <= set(form_page.forms[0].fields)
    assert "Сохранить карту" not in form_page.text  # not asked to bind

    result = await form_page.submit(
        buyer, {"cardNumber": GOOD_CARD, "expiry": "12/30", "cvc": "123"}, button="Оплатить"
    )
    assert "Оплата прошла успешно" in result.text
    assert result.links["Вернуться в магазин"] == f"{RETURN_URL}?paymentId={payment.payment_id}"
    assert f"url={RETURN_URL}?paymentId={payment.payment_id}" in result.html  # auto-redirect

    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert verify_callback(delivery.body, delivery.headers["x-bank-signature"], SECRET)
    event = delivery.event
    assert (event.payment_id, event.status, event.amount_kopecks) == (
        payment.payment_id,
        PaymentStatus.SUCCEEDED,
        1_234_56,
    )
    assert event.event_id.startswith("evt_")
    assert event.occurred_at.tzinfo is not None

    polled = await gateway.get_payment(payment.payment_id)
    assert polled.status is PaymentStatus.SUCCEEDED
    assert polled.status.paid
    assert polled.card is None
    assert polled.decline_reason is None
    assert polled.method is PaymentMethod.CARD

    # A second press of «Оплатить» (a stale tab) shows the result again and charges nothing more.
    again = await form_page.submit(
        buyer, {"cardNumber": GOOD_CARD, "expiry": "12/30", "cvc": "123"}, button="Оплатить"
    )
    assert "Оплата прошла успешно" in again.text
    await asyncio.sleep(0.2)
    assert len(receiver.at(callback_url)) == 1
    assert len(await deliveries(admin, payment.payment_id)) == 1


@pytest.mark.parametrize(
    ("card", "reason"),
    [(DECLINED_CARD, "Банк отклонил операцию"), (NO_FUNDS_CARD, "Недостаточно средств на карте")],
)
async def test_declined_cards(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    card: str,
    reason: str,
) -> None:
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url, bind_card=True)

    result = await pay_by_card(buyer, payment, card)

    assert "Оплата не прошла" in result.text
    assert reason in result.text
    assert result.links["Вернуться в магазин"].endswith(f"paymentId={payment.payment_id}")
    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert delivery.event.status is PaymentStatus.DECLINED
    polled = await gateway.get_payment(payment.payment_id)
    assert polled.status is PaymentStatus.DECLINED
    assert polled.decline_reason == reason
    assert polled.card is None  # a declined card is never saved
    with pytest.raises(PaymentDeclinedError, match=reason):
        polled.raise_if_declined()
    with pytest.raises(ConflictError):
        await gateway.refund(payment.payment_id, amount_kopecks=100, idempotency_key=key())


async def test_a_mistyped_card_is_a_form_error_and_charges_nothing(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url)
    mistakes = [
        ({"cardNumber": "4111 1111 1111 1112"}, "Неверный номер карты"),  # Luhn
        ({"cardNumber": "4111 1111"}, "Введите номер карты полностью"),
        ({"cardNumber": "4111 1111 1111 111x"}, "Введите номер карты полностью"),
        ({"expiry": "13/30"}, "ММ/ГГ"),
        ({"expiry": "1230"}, "ММ/ГГ"),
        ({"expiry": "01/20"}, "Срок действия карты истёк"),
        ({"cvc": "12"}, "CVC"),
        ({"cvc": "abc"}, "CVC"),
    ]
    form_page = await open_page(buyer, payment.confirmation_url)
    for change, error in mistakes:
        values = {"cardNumber": GOOD_CARD, "expiry": "12/30", "cvc": "123", **change}
        page = await form_page.submit(buyer, values, button="Оплатить")
        assert page.status == 400, change
        assert error in page.text, (change, page.text)
        assert "Оплатить" in page.forms[0].buttons  # the form again, to correct
        assert "1111 1111" not in page.html
        assert "111x" not in page.html

    assert (await gateway.get_payment(payment.payment_id)).status is PaymentStatus.PENDING
    assert await deliveries(admin, payment.payment_id) == []

    result = await form_page.submit(
        buyer, {"cardNumber": "4242-4242-4242-4242", "expiry": " 12 / 30 ", "cvc": "123"}
    )
    assert "Оплата прошла успешно" in result.text  # any other Luhn-valid number pays
    await receiver.wait_for(callback_url, 1)


@pytest.mark.parametrize(
    ("code", "status"), [("1234", PaymentStatus.SUCCEEDED), ("4321", PaymentStatus.DECLINED)]
)
async def test_3ds_card_asks_for_a_code(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
    code: str,
    status: PaymentStatus,
) -> None:
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url)

    challenge = await pay_by_card(buyer, payment, THREE_DS_CARD)

    assert "3-D Secure" in challenge.text
    assert "400000******3220" in challenge.text
    assert challenge.url.endswith(f"/pay/{payment.payment_id}/3ds")
    assert (await gateway.get_payment(payment.payment_id)).status is PaymentStatus.PENDING
    assert await deliveries(admin, payment.payment_id) == []

    result = await challenge.submit(buyer, {"code": code}, button="Подтвердить")

    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert delivery.event.status is status
    polled = await gateway.get_payment(payment.payment_id)
    assert polled.status is status
    if status is PaymentStatus.SUCCEEDED:
        assert "Оплата прошла успешно" in result.text
    else:
        assert "Оплата не прошла" in result.text
        assert "3-D Secure" in result.text
        assert polled.decline_reason is not None
        assert "3-D Secure" in polled.decline_reason


# --- saved cards ------------------------------------------------------------------------------


async def test_a_saved_card_is_charged_by_its_token(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    first = await new_payment(gateway, receiver.url(), bind_card=True, customer_ref="user-7")
    form_page = await open_page(buyer, first.confirmation_url)
    assert "Сохранить карту" in form_page.text
    assert form_page.forms[0].fields.get("saveCard")  # checked by default
    await form_page.submit(buyer, {"cardNumber": GOOD_CARD, "expiry": "11/31", "cvc": "321"})

    paid = await gateway.get_payment(first.payment_id)
    assert paid.status is PaymentStatus.SUCCEEDED
    assert paid.card is not None
    card = paid.card
    assert card.token.startswith("tok_")
    assert (card.masked, card.expiry) == ("411111******1111", "11/31")

    callback_url = receiver.url()
    charge_key = key()
    charged = await gateway.charge_token(
        card.token,
        amount_kopecks=250_00,
        idempotency_key=charge_key,
        description="Пополнение кошелька",
        callback_url=callback_url,
    )
    assert charged.status is PaymentStatus.SUCCEEDED
    assert charged.card == card
    assert charged.payment_id != first.payment_id
    assert charged.confirmation_url is None
    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert delivery.event.payment_id == charged.payment_id

    replay = await gateway.charge_token(
        card.token,
        amount_kopecks=250_00,
        idempotency_key=charge_key,
        description="Пополнение кошелька",
        callback_url=callback_url,
    )
    assert replay == charged
    with pytest.raises(ConflictError):
        await gateway.charge_token(
            card.token,
            amount_kopecks=300_00,
            idempotency_key=charge_key,
            description="Пополнение кошелька",
            callback_url=callback_url,
        )
    with pytest.raises(NotFoundError):
        await gateway.charge_token(
            "tok_nonexistent", amount_kopecks=100, idempotency_key=key(), description="x"
        )
    await asyncio.sleep(0.2)
    assert len(receiver.at(callback_url)) == 1  # the replay charged and announced nothing
    assert len(await deliveries(admin, charged.payment_id)) == 1

    # The same card saved again for the same customer keeps its token.
    second = await new_payment(gateway, receiver.url(), bind_card=True, customer_ref="user-7")
    await pay_by_card(buyer, second, GOOD_CARD, expiry="11/31")
    assert (await gateway.get_payment(second.payment_id)).card == card

    # Unticking «Сохранить карту» saves nothing.
    third = await new_payment(gateway, receiver.url(), bind_card=True, customer_ref="user-8")
    form_page = await open_page(buyer, third.confirmation_url)
    form_page.forms[0].fields.pop("saveCard")
    await form_page.submit(buyer, {"cardNumber": GOOD_CARD, "expiry": "11/31", "cvc": "321"})
    third_paid = await gateway.get_payment(third.payment_id)
    assert third_paid.status is PaymentStatus.SUCCEEDED
    assert third_paid.card is None


@pytest.mark.parametrize(
    ("number", "status", "reason"),
    [
        (DECLINED_CARD, PaymentStatus.DECLINED, "Банк отклонил операцию"),
        (NO_FUNDS_CARD, PaymentStatus.DECLINED, "Недостаточно средств на карте"),
        (THREE_DS_CARD, PaymentStatus.SUCCEEDED, None),  # no buyer to ask: no 3-D Secure
    ],
)
async def test_saved_cards_keep_their_behaviour(
    gateway: HttpBankGateway,
    admin: httpx.AsyncClient,
    receiver: CallbackReceiver,
    number: str,
    status: PaymentStatus,
    reason: str | None,
) -> None:
    # A card saved in an earlier session: a declined payment never saves one.
    seeded = await admin.post(
        "/admin/tokens", json={"cardNumber": number, "expiry": "12/30", "customerRef": "user-9"}
    )
    seeded.raise_for_status()
    token = seeded.json()["token"]
    callback_url = receiver.url()

    charged = await gateway.charge_token(
        token,
        amount_kopecks=10_00,
        idempotency_key=key(),
        description="Оплата заказа",
        callback_url=callback_url,
    )

    assert charged.status is status
    assert charged.decline_reason == reason
    assert charged.card is not None
    assert charged.card.token == token
    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert delivery.event.status is status
    if reason:
        with pytest.raises(PaymentDeclinedError, match=reason):
            charged.raise_if_declined()
