"""Bad input gets a clear 4xx in the spec's error shape, never a 500: ids past the database's
INTEGER columns on every kind of endpoint, an oversized body, an unreadable bank callback,
e-mails the mail system cannot take, characters PostgreSQL cannot store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from adapters.bank import SIGNATURE_HEADER, callback_signature
from models.base import MAX_DB_INT
from tests.support.auth import new_customer
from tests.support.callbacks import callback, notice
from tests.support.errors import assert_error
from tests.support.shop import Shop, service

# Past PostgreSQL's INTEGER (an overflow in asyncpg) and past SQLite's 64-bit INTEGER.
TOO_BIG = [2**31, 2**63]
FLOW = "payment-order-no-such-order-1"


# --- ids and versions ----------------------------------------------------------------------------


@pytest.mark.parametrize("big", TOO_BIG)
async def test_out_of_range_ids_are_400_naming_the_field(seeded: Shop, big: int) -> None:
    http = seeded.http
    item = {"product": {"id": big}, "quantity": 1}
    cases: list[tuple[httpx.Response, str]] = [
        (await http.get("/store/get", params={"productId": big}), "productId"),  # query
        (await http.get(f"/store/images/{big}.svg"), "product_id"),  # path
        (await http.post("/order/place", json={"orderItems": [item]}), "orderItems.0.product.id"),
        (await http.put("/order/adjust", json={"id": "x", "version": big}), "version"),
        (await http.put("/order/cancel", json={"id": "x", "version": big}), "version"),
        (await http.put("/order/process", json={"id": "x", "version": big}), "version"),
        (
            await http.delete(
                "/payment/tokens/delete", params={"tokenType": "GIFT_CARD", "id": big}
            ),
            "id",
        ),
        (
            await http.post(
                "/payment/pay", json={"orderId": "x", "tokenType": "GIFT_CARD", "tokenId": big}
            ),
            "tokenId",
        ),
        (
            await http.post(
                "/billing/token/charge",
                json={
                    "username": "someone",
                    "tokenType": "GIFT_CARD",
                    "tokenId": big,
                    "operation": "DEBIT",
                    "amount": 1,
                    "idempotencyKey": "bad-input-charge",
                },
                headers=service(),
            ),
            "tokenId",
        ),
        (await http.post("/cart/add", data={"productId": str(big)}), "productId"),  # form
    ]
    for response, field in cases:
        assert_error(response, 400, field)


async def test_a_fraction_of_a_kopeck_is_400_naming_the_field(seeded: Shop) -> None:
    """Money has two decimal places: a delivery cost of 1.005 ₽ is refused at the edge (it once
    reached the conversion to kopecks and answered 500)."""
    response = await seeded.http.post(
        "/checkout/any-order/confirm-delivery-cost", json={"cost": 1.005}
    )
    assert_error(response, 400, "cost")


async def test_ids_in_range_that_name_nothing_are_404(seeded: Shop) -> None:
    http = seeded.http
    assert_error(await http.get("/store/get", params={"productId": MAX_DB_INT}), 404)
    assert_error(await http.get(f"/store/images/{MAX_DB_INT}.svg"), 404)
    item = {"product": {"id": MAX_DB_INT}, "quantity": 1}
    assert_error(await http.post("/order/place", json={"orderItems": [item]}), 404)
    assert_error(
        await http.delete(
            "/payment/tokens/delete", params={"tokenType": "BANK_CARD", "id": MAX_DB_INT}
        ),
        404,
    )


async def test_a_page_with_an_out_of_range_id_is_the_html_error_page(seeded: Shop) -> None:
    response = await seeded.http.get(f"/product/{2**63}", headers={"accept": "text/html"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    assert "Проверьте поля формы" in response.text


# --- body size -----------------------------------------------------------------------------------


async def test_a_5_mb_json_body_is_413_in_the_error_shape(seeded: Shop) -> None:
    body = json.dumps({**new_customer(), "padding": "x" * (5 * 1024 * 1024)})
    response = await seeded.http.post(
        "/auth/register", content=body, headers={"content-type": "application/json"}
    )
    body_of = assert_error(response, 413)
    assert "64 КиБ" in body_of["errorMessage"]


async def test_a_chunked_body_is_counted_as_it_streams(seeded: Shop) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"orderItems": [], "padding": "'
        for _ in range(5 * 1024):  # 5 MB in 1 KiB chunks, no Content-Length
            sent += 1024
            yield b"x" * 1024
        yield b'"}'

    response = await seeded.http.post(
        "/order/place", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 413)
    assert sent < 1024 * 1024, "the body was refused long before its end"


async def test_the_limit_holds_over_real_http(seeded: Shop) -> None:
    """Through uvicorn on the app's port: a body a little over the limit, by Content-Length."""
    async with httpx.AsyncClient(base_url=seeded.public_url) as client:
        response = await client.post("/order/place", content=b"x" * (70 * 1024))
        assert_error(response, 413)
        fine = await client.get("/healthz")
        assert fine.status_code == 200


# --- the bank's callback -------------------------------------------------------------------------


async def signed_callback(shop: Shop, body: bytes) -> httpx.Response:
    return await callback(shop, FLOW, body, callback_signature(body, shop.bank.secret))


async def test_a_signed_but_unreadable_callback_is_400(shop: Shop) -> None:
    good: dict[str, Any] = json.loads(notice())
    for body in (
        b"[" * 50_000,  # RecursionError in the JSON parser
        b"{" * 50_000,
        json.dumps({**good, "amountKopecks": float("inf")}).encode(),  # Infinity: OverflowError
        json.dumps({**good, "paymentId": "p" * 2000}).encode(),  # cannot name a workflow run
        json.dumps({**good, "paymentId": "bad\nid"}).encode(),
        json.dumps({**good, "occurredAt": 5}).encode(),
        json.dumps([good]).encode(),
    ):
        assert_error(await signed_callback(shop, body), 400)
    signed = await shop.http.post(
        "/payment/bank/callback",
        params={"flow": FLOW + "\n"},
        content=notice(),
        headers={SIGNATURE_HEADER: callback_signature(notice(), shop.bank.secret)},
    )
    assert_error(signed, 400)  # a run id never ends in a newline


# --- e-mails -------------------------------------------------------------------------------------

BAD_EMAILS = [
    "ali\x01ce@example.ru",  # a control character
    "ali\x00ce@example.ru",
    "<alice>@example.ru",
    "alice@exa<mple.ru",
    "alice,bob@example.ru",  # two addresses in a To: header
    "alice@" + "d" * 590 + ".ru",  # 600 characters
]


@pytest.mark.parametrize("email", BAD_EMAILS, ids=lambda email: repr(email)[:40])
async def test_registration_refuses_bad_emails_naming_the_field(shop: Shop, email: str) -> None:
    response = await shop.http.post("/auth/register", json=new_customer(email=email))
    assert_error(response, 400, "email")
    assert shop.mailer.sent == []


async def test_an_email_of_254_characters_is_fine(shop: Shop) -> None:
    customer = new_customer()
    local = customer["username"]
    customer["email"] = f"{local}@{'d' * (254 - len(local) - 4)}.ru"
    assert len(customer["email"]) == 254
    response = await shop.http.post("/auth/register", json=customer)
    assert response.status_code == 200, response.text


async def test_a_gift_card_for_a_bad_email_is_400(shop: Shop) -> None:
    response = await shop.http.post(
        "/billing/token/create",
        json={"amount": 100, "recipientEmail": "<a>@example.ru", "idempotencyKey": "bad-mail-1"},
        headers=service(),
    )
    assert_error(response, 400, "recipientEmail")


# --- characters a database cannot store ----------------------------------------------------------


async def test_nul_characters_never_reach_the_database(seeded: Shop) -> None:
    """PostgreSQL refuses NUL in text: each must be answered before it gets there."""
    http = seeded.http
    assert_error(await http.post("/auth/login", json={"username": "a\x00b", "password": "x"}), 404)
    assert_error(await http.put("/order/cancel", json={"id": "a\x00b", "version": 0}), 400, "id")
    assert_error(
        await http.post("/payment/pay", json={"orderId": "a\x00b", "tokenType": "WALLET"}),
        400,
        "orderId",
    )
    assert_error(await http.get("/delivery/points", params={"addressFilter": "a\x00b"}), 400)
    assert_error(await http.get("/delivery/variants", params={"address": "Москва\x00"}), 400)
    # Control characters anywhere in a path or query: refused before any route.
    assert_error(await http.get("/order/get", params={"orderId": "a\x00b"}), 400)
    assert_error(await http.get("/checkout/a%00b/state"), 400)
    assert_error(await http.get("/checkout/a%00b", headers={"accept": "text/html"}), 400)
