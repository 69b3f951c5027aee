"""The bank adapter alone: callback signatures and parsing, the HTTP gateway's contract and error
mapping on a mock transport, and the in-memory fake held to the same rules."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from adapters.bank import (
    BankAnswerError,
    BankGateway,
    HttpBankGateway,
    PaymentMethod,
    PaymentStatus,
    callback_signature,
    parse_callback,
    verify_callback,
)
from core.errors import ConflictError, NotFoundError, PaymentDeclinedError, ValidationError
from tests.support.bank import (
    RETURN_URL,
    SECRET,
)
from tests.support.fake_bank import FakeBankGateway

# --- signatures and secrets -------------------------------------------------------------------


def test_verify_callback_rejects_anything_but_the_exact_signature() -> None:
    body = b'{"paymentId":"pay_1","status":"SUCCEEDED","amountKopecks":100}'
    good = callback_signature(body, SECRET)
    assert good.startswith("sha256=")
    assert len(good) == len("sha256=") + 64
    assert verify_callback(body, good, SECRET)
    assert verify_callback(body, " " + good.upper().replace("SHA256=", "sha256=") + " ", SECRET)

    for signature in (
        callback_signature(body, "another-secret"),
        callback_signature(body.replace(b"100", b"900"), SECRET),
        good[len("sha256=") :],  # no scheme
        "md5=" + good[len("sha256=") :],
        good[:-1],
        good + "0",
        "sha256=",
        "",
        "sha256=ЖЖЖ",
    ):
        assert not verify_callback(body, signature, SECRET), signature
    assert not verify_callback(body + b" ", good, SECRET)
    assert not verify_callback(body, good, "")
    with pytest.raises(ValidationError):
        parse_callback(b"not json")
    with pytest.raises(ValidationError):
        parse_callback(b'{"paymentId": "pay_1", "status": "LOST"}')


# --- the adapter alone ------------------------------------------------------------------------


async def test_gateway_maps_answers_and_sends_the_contract() -> None:
    sent: list[tuple[str, str, Any]] = []
    answers: dict[str, httpx.Response] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.method, request.url.path, json.loads(request.content or b"null")))
        answer = answers[request.url.path]
        if answer.status_code == 599:
            raise httpx.ReadTimeout("slow bank", request=request)
        return answer

    gateway: BankGateway = HttpBankGateway(
        "http://bank.test", transport=httpx.MockTransport(handler)
    )
    assert isinstance(gateway, HttpBankGateway)
    payment_json = {
        "paymentId": "pay_1",
        "status": "SUCCEEDED",
        "method": "CARD",
        "amountKopecks": 500,
        "refundedKopecks": 0,
        "declineReason": None,
        "card": {"token": "tok_1", "masked": "411111******1111", "expiry": "12/30", "pan": "x"},
        "confirmationUrl": "http://bank.test/pay/pay_1",
    }
    try:
        answers["/api/payments"] = httpx.Response(200, json=payment_json)
        created = await gateway.create_payment(
            amount_kopecks=500,
            idempotency_key="k1",
            description="d",
            return_url=RETURN_URL,
            callback_url="http://shop.test/cb",
            method=PaymentMethod.SBP,
            bind_card=True,
            customer_ref="u1",
        )
        assert created.card is not None
        assert created.card.token == "tok_1"
        assert "pan" not in repr(created)
        assert sent[-1] == (
            "POST",
            "/api/payments",
            {
                "amountKopecks": 500,
                "idempotencyKey": "k1",
                "description": "d",
                "returnUrl": RETURN_URL,
                "callbackUrl": "http://shop.test/cb",
                "method": "SBP",
                "bindCard": True,
                "customerRef": "u1",
            },
        )

        for status, error in ((400, ValidationError), (404, NotFoundError), (409, ConflictError)):
            answers["/api/payments/pay_1"] = httpx.Response(
                status, json={"errorMessage": f"ошибка {status}"}
            )
            with pytest.raises(error, match=f"ошибка {status}"):
                await gateway.get_payment("pay_1")
        answers["/api/payments/pay_1"] = httpx.Response(409, text="<html>")
        with pytest.raises(ConflictError, match="409"):
            await gateway.get_payment("pay_1")

        for status in (500, 502, 503, 429):
            answers["/api/payments/pay_1"] = httpx.Response(status, json={"errorMessage": "x"})
            with pytest.raises(httpx.HTTPStatusError):
                await gateway.get_payment("pay_1")
        answers["/api/payments/pay_1"] = httpx.Response(599)
        with pytest.raises(httpx.TimeoutException):
            await gateway.get_payment("pay_1")

        for broken in ({**payment_json, "status": "LOST"}, {"paymentId": "pay_1"}, [1, 2]):
            answers["/api/payments/pay_1"] = httpx.Response(200, json=broken)
            with pytest.raises(BankAnswerError):
                await gateway.get_payment("pay_1")
        answers["/api/payments/pay_1"] = httpx.Response(200, text="<html>")
        with pytest.raises(BankAnswerError):
            await gateway.get_payment("pay_1")

        answers["/api/tokens/tok_1/charge"] = httpx.Response(
            200, json={**payment_json, "status": "DECLINED", "declineReason": "Нет"}
        )
        declined = await gateway.charge_token(
            "tok_1", amount_kopecks=500, idempotency_key="k2", description="d"
        )
        assert declined.status is PaymentStatus.DECLINED
        assert declined.decline_reason == "Нет"
        assert sent[-1][2] == {
            "amountKopecks": 500,
            "idempotencyKey": "k2",
            "description": "d",
            "callbackUrl": None,
        }
    finally:
        await gateway.aclose()


async def test_fake_gateway_follows_the_same_rules() -> None:
    fake = FakeBankGateway(secret="s")
    as_protocol: BankGateway = fake  # mypy checks the fake against the Protocol
    assert as_protocol is fake
    request: dict[str, Any] = {
        "amount_kopecks": 300_00,
        "idempotency_key": "order-1-payment-1",
        "description": "Заказ",
        "return_url": RETURN_URL,
        "callback_url": "http://shop.test/cb",
        "method": PaymentMethod.CARD,
        "bind_card": True,
    }
    payment = await fake.create_payment(**request)
    assert payment.status is PaymentStatus.PENDING
    assert payment.confirmation_url
    assert await fake.create_payment(**request) == payment
    with pytest.raises(ConflictError):
        await fake.create_payment(**{**request, "amount_kopecks": 1})

    callback, body, signature = fake.settle(payment.payment_id, save_card=True)
    assert verify_callback(body, signature, "s")
    assert parse_callback(body) == callback
    assert callback.status is PaymentStatus.SUCCEEDED
    paid = await fake.get_payment(payment.payment_id)
    assert paid.card is not None

    charged = await fake.charge_token(
        paid.card.token, amount_kopecks=100, idempotency_key="c1", description="d"
    )
    assert charged.status is PaymentStatus.SUCCEEDED
    bad = fake.save_card(decline="Недостаточно средств на карте")
    declined = await fake.charge_token(
        bad.token, amount_kopecks=100, idempotency_key="c2", description="d"
    )
    with pytest.raises(PaymentDeclinedError):
        declined.raise_if_declined()

    refund = await fake.refund(payment.payment_id, amount_kopecks=100_00, idempotency_key="r1")
    assert refund.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    assert (
        await fake.refund(payment.payment_id, amount_kopecks=100_00, idempotency_key="r1") == refund
    )
    with pytest.raises(ConflictError):
        await fake.refund(payment.payment_id, amount_kopecks=200_01, idempotency_key="r2")

    fake.failures_left = 1
    with pytest.raises(httpx.ConnectError):
        await fake.get_payment(payment.payment_id)
    assert (await fake.get_payment(payment.payment_id)).refunded_kopecks == 100_00
