"""The bank emulator's СБП payments, idempotency and refunds, what it refuses, and that no card
number or CVC ever leaves it, driven through the real adapter like the store drives it."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from adapters.bank import (
    HttpBankGateway,
    PaymentMethod,
    PaymentStatus,
)
from core.errors import ConflictError, NotFoundError, ValidationError
from tests.support.bank import (
    GOOD_CARD,
    RETURN_URL,
    Bank,
    CallbackReceiver,
    key,
    new_payment,
    open_page,
    pay_by_card,
)

# --- СБП ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("button", "status", "heading"),
    [
        ("Подтвердить", PaymentStatus.SUCCEEDED, "Оплата прошла успешно"),
        ("Отклонить", PaymentStatus.DECLINED, "Оплата не прошла"),
    ],
)
async def test_sbp_payment_is_decided_in_the_bank_app(
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    button: str,
    status: PaymentStatus,
    heading: str,
) -> None:
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url, method=PaymentMethod.SBP, amount=599_00)
    assert payment.method is PaymentMethod.SBP

    qr_page = await open_page(buyer, payment.confirmation_url)
    assert "Оплата через СБП" in qr_page.text
    assert "599,00 ₽" in qr_page.text
    assert f"https://qr.nspk.emulator/{payment.payment_id}" in qr_page.text
    svg = re.search(r"<svg.*?</svg>", qr_page.html, re.S)
    assert svg is not None
    assert 'role="img" aria-label="QR-код СБП"' in svg.group()  # a QR picture, named for readers
    assert f"<title>https://qr.nspk.emulator/{payment.payment_id}</title>" in svg.group()
    assert svg.group() in (await open_page(buyer, payment.confirmation_url)).html  # deterministic
    assert not qr_page.forms  # no card form for СБП

    app_page = await qr_page.follow(buyer, "Открыть приложение банка")
    assert set(app_page.forms[0].buttons) == {"Подтвердить", "Отклонить"}
    result = await app_page.submit(buyer, {}, button=button)

    assert heading in result.text
    assert result.links["Вернуться в магазин"].endswith(f"paymentId={payment.payment_id}")
    (delivery,) = await receiver.wait_for(callback_url, 1)
    assert delivery.event.status is status
    polled = await gateway.get_payment(payment.payment_id)
    assert polled.status is status
    assert polled.card is None
    # Both pages show the result from now on, not the QR code or the buttons again.
    assert heading in (await open_page(buyer, payment.confirmation_url)).text
    app_again = await qr_page.follow(buyer, "Открыть приложение банка")
    assert heading in app_again.text
    assert not app_again.forms


# --- idempotency and refunds -----------------------------------------------------------------


async def test_create_is_idempotent_by_key(
    gateway: HttpBankGateway, receiver: CallbackReceiver
) -> None:
    callback_url = receiver.url()
    request: dict[str, Any] = {
        "amount_kopecks": 700_00,
        "idempotency_key": key(),
        "description": "Подарочная карта",
        "return_url": RETURN_URL,
        "callback_url": callback_url,
        "method": PaymentMethod.CARD,
    }
    first = await gateway.create_payment(**request)
    assert await gateway.create_payment(**request) == first

    # Retried at once from many places (an activity retried while the first try is in flight).
    racing = {**request, "idempotency_key": key()}
    answers = await asyncio.gather(*(gateway.create_payment(**racing) for _ in range(8)))
    assert len({answer.payment_id for answer in answers}) == 1
    assert answers[0].payment_id != first.payment_id

    for change in ({"amount_kopecks": 701_00}, {"method": PaymentMethod.SBP}, {"bind_card": True}):
        with pytest.raises(ConflictError, match="идемпотентности"):
            await gateway.create_payment(**{**request, **change})


async def test_refunds_partial_full_and_beyond(
    gateway: HttpBankGateway, buyer: httpx.AsyncClient, receiver: CallbackReceiver
) -> None:
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url, amount=1_000_00)
    with pytest.raises(ConflictError, match="не оплачен"):
        await gateway.refund(payment.payment_id, amount_kopecks=100, idempotency_key=key())
    await pay_by_card(buyer, payment, GOOD_CARD)
    pid = payment.payment_id

    first_key = key()
    partial = await gateway.refund(pid, amount_kopecks=300_00, idempotency_key=first_key)
    assert partial.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    assert (partial.amount_kopecks, partial.refunded_kopecks) == (300_00, 300_00)
    assert await gateway.refund(pid, amount_kopecks=300_00, idempotency_key=first_key) == partial
    with pytest.raises(ConflictError):
        await gateway.refund(pid, amount_kopecks=200_00, idempotency_key=first_key)
    with pytest.raises(ConflictError, match="больше остатка"):
        await gateway.refund(pid, amount_kopecks=700_01, idempotency_key=key())
    assert (await gateway.get_payment(pid)).refunded_kopecks == 300_00

    full = await gateway.refund(pid, amount_kopecks=700_00, idempotency_key=key())
    assert full.payment_status is PaymentStatus.REFUNDED
    assert full.refunded_kopecks == 1_000_00
    assert full.refund_id != partial.refund_id
    with pytest.raises(ConflictError):
        await gateway.refund(pid, amount_kopecks=1, idempotency_key=key())
    with pytest.raises(ValidationError):
        await gateway.refund(pid, amount_kopecks=0, idempotency_key=key())
    with pytest.raises(NotFoundError):
        await gateway.refund("pay_missing", amount_kopecks=100, idempotency_key=key())

    polled = await gateway.get_payment(pid)
    assert (polled.status, polled.refunded_kopecks) == (PaymentStatus.REFUNDED, 1_000_00)
    events = [r.event for r in await receiver.wait_for(callback_url, 3)]
    assert sorted(e.status for e in events) == sorted(
        ["SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED"]
    )
    assert len({e.event_id for e in events}) == 3


# --- card data ---------------------------------------------------------------------------------


async def test_no_card_number_or_cvc_leaves_the_bank(
    bank: Bank,
    gateway: HttpBankGateway,
    buyer: httpx.AsyncClient,
    receiver: CallbackReceiver,
    admin: httpx.AsyncClient,
) -> None:
    number, cvc = "2200 7012 3456 7896", "987"  # МИР
    callback_url = receiver.url()
    payment = await new_payment(gateway, callback_url, bind_card=True)
    result = await pay_by_card(buyer, payment, number, cvc=cvc)
    paid = await gateway.get_payment(payment.payment_id)
    assert paid.card is not None
    assert paid.card.masked == "220070******7896"
    charged = await gateway.charge_token(
        paid.card.token, amount_kopecks=1_00, idempotency_key=key(), description="x"
    )
    refund = await gateway.refund(payment.payment_id, amount_kopecks=1_00, idempotency_key=key())
    callbacks = await receiver.wait_for(callback_url, 2)
    raw_payment = (await admin.get(f"/api/payments/{payment.payment_id}")).text
    log = (await admin.get("/admin/callbacks/log")).text
    await asyncio.sleep(0.1)  # let the emulator's log lines reach the file

    seen = (
        [repr(x) for x in (payment, paid, charged, refund, *(c.event for c in callbacks))]
        + [c.body.decode() for c in callbacks]
        + [raw_payment, log, result.html]
    )
    digits = number.replace(" ", "")
    for text in seen:
        assert digits not in text
        assert number not in text
        assert digits[6:12] not in text  # the hidden middle digits
        assert not re.search(rf"(?<![0-9A-Za-z]){cvc}(?![0-9A-Za-z])", text), text
        assert "cvc" not in text.lower()
    # The bank's own log (its timestamps' milliseconds could look like any CVC).
    bank_log = bank.log_file.read_text("utf-8")
    assert payment.payment_id in bank_log
    assert digits not in bank_log
    assert digits[6:12] not in bank_log


# --- bad requests ------------------------------------------------------------------------------


async def test_emulator_rejects_bad_requests(
    gateway: HttpBankGateway, admin: httpx.AsyncClient, buyer: httpx.AsyncClient, bank: Bank
) -> None:
    good: dict[str, Any] = {
        "amountKopecks": 100,
        "idempotencyKey": "k",
        "description": "x",
        "returnUrl": RETURN_URL,
        "callbackUrl": "http://127.0.0.1:1/cb",
        "method": "CARD",
        "bindCard": False,
        "customerRef": "u",
    }
    for change in (
        {"amountKopecks": 0},
        {"amountKopecks": -5},
        {"amountKopecks": "сто"},
        {"idempotencyKey": ""},
        {"returnUrl": "javascript:alert(1)"},
        {"callbackUrl": "ftp://x"},
        {"method": "CASH"},
        {"cardNumber": "4111111111111111"},  # unknown fields are refused, card data above all
    ):
        response = await admin.post("/api/payments", json={**good, **change})
        assert response.status_code == 400, change
        assert response.json()["errorMessage"], change
    for response in (await admin.get("/api/nothing"), await admin.delete("/api/payments")):
        assert response.status_code in (404, 405)
        assert response.json()["errorMessage"]
    missing = await admin.get("/api/payments/pay_missing")
    assert missing.status_code == 404
    assert "errorMessage" in missing.json()
    page = await buyer.get(f"{bank.url}/pay/pay_missing")
    assert page.status_code == 404
    assert "Платёж не найден" in page.text

    with pytest.raises(NotFoundError):
        await gateway.get_payment("pay_missing")
    with pytest.raises(ValidationError, match="amountKopecks"):
        await new_payment(gateway, "http://127.0.0.1:1/cb", amount=0)
