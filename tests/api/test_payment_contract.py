"""billing and payment contracts (spec section 4): every endpoint's success and error statuses, in
the spec's error shape; the internal ones behind the service key, the bank's callback behind its
signature."""

from __future__ import annotations

import json
from typing import Any

import httpx

from adapters.bank import SIGNATURE_HEADER, callback_signature
from core.db import transaction
from services import payment
from tests.api.conftest import Shop, api_settings
from tests.api.test_auth_contract import login, register
from tests.api.test_checkout_flow import pick_up, post, start
from tests.api.test_order_contract import in_stock, place


def service() -> dict[str, str]:
    return {"X-Service-Key": api_settings().service_key}


def assert_error(response: httpx.Response, status: int, *fields: str) -> dict[str, Any]:
    """`status` in the spec's error shape (no stack trace), naming at least `fields`."""
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    body: dict[str, Any] = response.json()
    assert set(body) <= {"errorMessage", "fields"}, body
    assert isinstance(body["errorMessage"], str)
    assert body["errorMessage"]
    assert set(fields) <= set(body.get("fields", {})), body
    return body


async def shopper(shop: Shop) -> str:
    """A newly registered shopper (wallet open), logged in; their username."""
    username: str = (await register(shop))["username"]
    await back_as(shop, username)
    return username


async def back_as(shop: Shop, username: str) -> None:
    """Log in as a shopper `shopper` registered (the client holds one session at a time)."""
    response = await login(shop, {"username": username, "password": "correct horse"})
    assert response.status_code == 200, response.text


async def issue(shop: Shop, amount: float, key: str, **extra: str) -> dict[str, Any]:
    response = await shop.http.post(
        "/billing/token/create",
        json={"amount": amount, "idempotencyKey": key, **extra},
        headers=service(),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def charge(shop: Shop, **body: Any) -> httpx.Response:
    return await shop.http.post("/billing/token/charge", json=body, headers=service())


async def tokens(shop: Shop, username: str) -> dict[str, Any]:
    response = await shop.http.get("/billing/token/get", params={"username": username})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def notice(payment_id: str = "bank-p-1", event_id: str = "evt-1") -> bytes:
    return json.dumps(
        {
            "paymentId": payment_id,
            "status": "SUCCEEDED",
            "amountKopecks": 100_00,
            "eventId": event_id,
            "occurredAt": "2025-05-01T10:00:00+00:00",
        }
    ).encode()


async def callback(shop: Shop, flow: str, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return await shop.http.post(
        "/payment/bank/callback", params={"flow": flow}, content=body, headers=headers
    )


# --- who may call what ---------------------------------------------------------------------------


async def test_shopper_endpoints_need_a_session_and_internal_ones_the_service_key(
    shop: Shop,
) -> None:
    username = await shopper(shop)
    shop.http.cookies.clear()
    gift = {"tokenType": "GIFT_CARD", "activationCode": "A" * 16}
    anonymous: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/billing/token/get", {"params": {"username": username}}),
        ("POST", "/billing/trxn/get", {"json": {"username": username}}),
        ("GET", "/payment/tokens/get", {}),
        ("POST", "/payment/tokens/add", {"json": gift}),
        ("DELETE", "/payment/tokens/delete", {"params": {"tokenType": "BANK_CARD", "id": 1}}),
        ("POST", "/payment/activate", {"json": {"activationCode": "A" * 16}}),
        ("POST", "/payment/pay", {"json": {"orderId": "o1", "tokenType": "WALLET"}}),
    ]
    for method, path, options in anonymous:
        assert_error(await shop.http.request(method, path, **options), 401)

    create = {"amount": 100, "idempotencyKey": "giftcard-auth-1"}
    debit = {
        "username": username,
        "tokenType": "WALLET",
        "amount": 1,
        "operation": "CREDIT",
        "idempotencyKey": "auth-test-1",
    }
    await back_as(shop, username)
    for headers in ({}, {"X-Service-Key": "wrong"}, {"X-Service-Key": ""}):
        # A shopper's session is not the service key.
        for path, body in (("/billing/token/create", create), ("/billing/token/charge", debit)):
            assert_error(await shop.http.post(path, json=body, headers=headers), 401)
    assert (await tokens(shop, username))["tokens"][0]["balance"] == 0, "nothing was credited"
    assert (await issue(shop, 5, "giftcard-auth-1"))["balance"] == 5, "no card was issued"


# --- billing -------------------------------------------------------------------------------------


async def test_token_get_answers_the_wallet_and_activated_gift_cards(shop: Shop) -> None:
    username = await shopper(shop)
    assert_error(await shop.http.get("/billing/token/get"), 400, "username")
    other = await shopper(shop)
    await back_as(shop, username)
    assert_error(await shop.http.get("/billing/token/get", params={"username": other}), 404)
    assert_error(await shop.http.get("/billing/token/get", params={"username": "nobody"}), 404)

    card = await issue(shop, 1500, "giftcard-tg-1")
    activated = await shop.http.post(
        "/payment/activate", json={"activationCode": card["activationCode"]}
    )
    assert activated.status_code == 200, activated.text
    body = await tokens(shop, username)

    assert body["username"] == username
    wallet, gift = body["tokens"]
    assert set(wallet) == {"id", "tokenType", "maskedTokenId", "description", "balance"}
    assert (wallet["tokenType"], wallet["balance"]) == ("WALLET", 0)
    assert gift == {
        "id": card["id"],
        "tokenType": "GIFT_CARD",
        "maskedTokenId": card["maskedTokenId"],
        "description": card["description"],
        "balance": 1500,
    }


async def test_token_create_answers_a_code_once_per_key(shop: Shop) -> None:
    card = await issue(
        shop,
        2500.50,
        "giftcard-create-1",
        recipientName="Борис",
        recipientEmail="boris@example.ru",
        design="birthday",
    )
    code = card["activationCode"]
    assert len(code) == 19
    assert code.count("-") == 3
    assert card["tokenType"] == "GIFT_CARD"
    assert card["balance"] == 2500.50
    assert card["maskedTokenId"].endswith(code[-4:])

    assert await issue(shop, 2500.50, "giftcard-create-1") == card, "a replay answers the same"
    other_amount = await shop.http.post(
        "/billing/token/create",
        json={"amount": 100, "idempotencyKey": "giftcard-create-1"},
        headers=service(),
    )
    assert_error(other_amount, 409)

    malformed: list[tuple[dict[str, Any], str]] = [
        ({"amount": -5, "idempotencyKey": "giftcard-bad-1"}, "amount"),
        ({"amount": 0, "idempotencyKey": "giftcard-bad-1"}, "amount"),
        ({"amount": 10.123, "idempotencyKey": "giftcard-bad-1"}, "amount"),
        ({"amount": "many", "idempotencyKey": "giftcard-bad-1"}, "amount"),
        ({"amount": 100_000.01, "idempotencyKey": "giftcard-bad-1"}, "amount"),
        ({"idempotencyKey": "giftcard-bad-1"}, "amount"),
        ({"amount": 100}, "idempotencyKey"),
        ({"amount": 100, "idempotencyKey": "short"}, "idempotencyKey"),
        (
            {"amount": 100, "idempotencyKey": "giftcard-bad-1", "recipientEmail": "x"},
            "recipientEmail",
        ),
    ]
    for body, field in malformed:
        response = await shop.http.post("/billing/token/create", json=body, headers=service())
        assert_error(response, 400, field)
    not_json = await shop.http.post(
        "/billing/token/create",
        content=b"{amount:",
        headers={**service(), "content-type": "application/json"},
    )
    assert_error(not_json, 400)


async def test_token_charge_moves_money_once_per_key_and_never_below_zero(shop: Shop) -> None:
    username = await shopper(shop)

    def op(amount: Any, key: str, operation: str = "DEBIT", **extra: Any) -> dict[str, Any]:
        return {
            "username": username,
            "tokenType": "WALLET",
            "operation": operation,
            "amount": amount,
            "idempotencyKey": key,
            "reference": "test",
            **extra,
        }

    credited = await charge(shop, **op(1000, "topup-charge-1", "CREDIT"))
    assert credited.status_code == 200, credited.text
    assert credited.json()["kind"] == "CREDIT"
    paid = await charge(shop, **op(250.25, "payment-charge-1"))
    assert paid.status_code == 200, paid.text
    first = paid.json()
    assert set(first) == {
        "id",
        "tokenType",
        "tokenId",
        "kind",
        "amount",
        "balanceAfter",
        "reference",
        "createdAt",
    }
    assert (first["tokenType"], first["kind"], first["amount"], first["balanceAfter"]) == (
        "WALLET",
        "DEBIT",
        250.25,
        749.75,
    )

    replay = await charge(shop, **op(250.25, "payment-charge-1"))
    assert replay.status_code == 200
    assert replay.json() == first, "a replay answers the first transaction"
    assert_error(await charge(shop, **op(749.76, "payment-charge-2")), 409)
    assert (await tokens(shop, username))["tokens"][0]["balance"] == 749.75, "nothing moved"

    refunded = await charge(shop, **op(250.25, "refund-charge-1", "REFUND"))
    assert refunded.json()["kind"] == "REFUND"
    assert refunded.json()["balanceAfter"] == 1000

    assert_error(await charge(shop, **op(5, "payment-charge-3", username="nobody")), 404)
    malformed: list[tuple[dict[str, Any], str]] = [
        (op(-1, "payment-bad-1"), "amount"),
        (op(0, "payment-bad-1"), "amount"),
        (op(1.001, "payment-bad-1"), "amount"),
        (op(1_000_000.01, "payment-bad-1"), "amount"),
        (op(1, "payment-bad-1", tokenType="BANK_CARD"), "tokenType"),
        (op(1, "payment-bad-1", operation="STEAL"), "operation"),
        (op(1, "payment-bad-1", tokenId=0), "tokenId"),
        ({"tokenType": "WALLET", "amount": 1, "idempotencyKey": "payment-bad-1"}, "username"),
        ({"username": username, "amount": 1, "idempotencyKey": "payment-bad-1"}, "tokenType"),
        ({"username": username, "tokenType": "WALLET", "amount": 1}, "idempotencyKey"),
    ]
    for body, field in malformed:
        assert_error(await charge(shop, **body), 400, field)
    assert (await tokens(shop, username))["tokens"][0]["balance"] == 1000


async def test_token_charge_refuses_a_reused_key_with_another_amount(shop: Shop) -> None:
    username = await shopper(shop)
    base = {"username": username, "tokenType": "WALLET", "reference": "test"}
    await charge(shop, **base, operation="CREDIT", amount=1000, idempotencyKey="topup-reuse-1")
    first = await charge(shop, **base, amount=100, idempotencyKey="payment-reuse-1")
    assert first.status_code == 200, first.text

    reused = await charge(shop, **base, amount=300, idempotencyKey="payment-reuse-1")

    assert_error(reused, 409)
    assert (await tokens(shop, username))["tokens"][0]["balance"] == 900


async def test_token_charge_on_gift_cards(shop: Shop) -> None:
    username = await shopper(shop)
    card = await issue(shop, 500, "giftcard-charge-1")
    await shop.http.post("/payment/activate", json={"activationCode": card["activationCode"]})
    gift = {"username": username, "tokenType": "GIFT_CARD", "tokenId": card["id"]}

    paid = await charge(shop, **gift, amount=200, idempotencyKey="payment-gift-1")
    assert paid.status_code == 200, paid.text
    assert (paid.json()["tokenType"], paid.json()["tokenId"]) == ("GIFT_CARD", card["id"])
    assert paid.json()["balanceAfter"] == 300
    assert_error(await charge(shop, **gift, amount=300.01, idempotencyKey="payment-gift-2"), 409)
    back = await charge(
        shop, **gift, operation="REFUND", amount=200, idempotencyKey="refund-gift-1"
    )
    assert back.json()["balanceAfter"] == 500

    no_card = {"username": username, "tokenType": "GIFT_CARD"}
    assert_error(
        await charge(shop, **no_card, amount=1, idempotencyKey="payment-gift-3"), 400, "tokenId"
    )
    topup = await charge(
        shop, **gift, operation="CREDIT", amount=1, idempotencyKey="payment-gift-3"
    )
    assert_error(topup, 400, "operation")

    stranger = await shopper(shop)
    theirs = {**gift, "username": stranger}
    assert_error(await charge(shop, **theirs, amount=1, idempotencyKey="payment-gift-4"), 404)
    unbound = await issue(shop, 500, "giftcard-charge-2")
    not_activated = {**gift, "tokenId": unbound["id"]}
    assert_error(
        await charge(shop, **not_activated, amount=1, idempotencyKey="payment-gift-5"), 404
    )
    unknown = {**gift, "tokenId": 999_999}
    assert_error(await charge(shop, **unknown, amount=1, idempotencyKey="payment-gift-6"), 404)
    await back_as(shop, username)
    assert (await tokens(shop, username))["tokens"][1]["balance"] == 500


async def test_trxn_get_lists_wallet_and_gift_card_operations_newest_first(shop: Shop) -> None:
    username = await shopper(shop)
    card = await issue(shop, 300, "giftcard-trxn-1")
    await shop.http.post("/payment/activate", json={"activationCode": card["activationCode"]})
    wallet = {"username": username, "tokenType": "WALLET", "reference": "test"}
    gift = {"username": username, "tokenType": "GIFT_CARD", "tokenId": card["id"]}
    for body in (
        {**wallet, "operation": "CREDIT", "amount": 100, "idempotencyKey": "trxn-test-1"},
        {**gift, "amount": 30, "idempotencyKey": "trxn-test-2", "reference": "order:o1"},
        {**wallet, "amount": 40, "idempotencyKey": "trxn-test-3"},
    ):
        assert (await charge(shop, **body)).status_code == 200

    response = await shop.http.post("/billing/trxn/get", json={"username": username})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["username"] == username
    assert [
        (t["tokenType"], t["kind"], t["amount"], t["balanceAfter"]) for t in body["transactions"]
    ] == [
        ("WALLET", "DEBIT", 40, 60),
        ("GIFT_CARD", "DEBIT", 30, 270),
        ("WALLET", "CREDIT", 100, 100),
    ]
    assert body["transactions"][1]["reference"] == "order:o1"
    ids = [t["id"] for t in body["transactions"]]
    assert ids == sorted(ids, reverse=True)
    limited = await shop.http.post("/billing/trxn/get", json={"username": username, "limit": 2})
    assert [t["id"] for t in limited.json()["transactions"]] == ids[:2]

    assert_error(await shop.http.post("/billing/trxn/get", json={}), 400, "username")
    for limit in (0, 501, "all"):
        bad = await shop.http.post("/billing/trxn/get", json={"username": username, "limit": limit})
        assert_error(bad, 400, "limit")
    stranger = await shopper(shop)
    assert_error(await shop.http.post("/billing/trxn/get", json={"username": username}), 404)
    mine = await shop.http.post("/billing/trxn/get", json={"username": stranger})
    assert mine.json() == {"username": stranger, "transactions": []}


# --- payment means -------------------------------------------------------------------------------


async def test_gift_card_activation_statuses(shop: Shop) -> None:
    card = await issue(shop, 700, "giftcard-activate-1")
    code = card["activationCode"]
    username = await shopper(shop)

    typed = code.lower().replace("-", " ")
    first = await shop.http.post("/payment/activate", json={"activationCode": typed})
    assert first.status_code == 200, first.text
    assert first.json() == {
        "id": card["id"],
        "tokenType": "GIFT_CARD",
        "maskedTokenId": card["maskedTokenId"],
        "description": card["description"],
        "balance": 700,
    }
    again = await shop.http.post("/payment/activate", json={"activationCode": code})
    assert again.json() == first.json(), "again by the same shopper changes nothing"

    assert_error(await shop.http.post("/payment/activate", json={}), 400, "activationCode")
    assert_error(await shop.http.post("/payment/activate", json={"activationCode": ""}), 400)
    short = await shop.http.post("/payment/activate", json={"activationCode": "ABCD-EFGH"})
    assert_error(short, 400, "activationCode")
    never = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
    unknown = await shop.http.post("/payment/activate", json={"activationCode": never})
    assert_error(unknown, 404, "activationCode")

    await shopper(shop)
    taken = await shop.http.post("/payment/activate", json={"activationCode": code})
    assert_error(taken, 409)
    await back_as(shop, username)
    assert [t["id"] for t in (await tokens(shop, username))["tokens"][1:]] == [card["id"]]


async def test_tokens_add_takes_gift_cards_only(shop: Shop) -> None:
    await shopper(shop)
    card = await issue(shop, 100, "giftcard-add-1")

    added = await shop.http.post(
        "/payment/tokens/add",
        json={"tokenType": "GIFT_CARD", "activationCode": card["activationCode"]},
    )
    assert added.status_code == 200, added.text
    assert (added.json()["id"], added.json()["balance"]) == (card["id"], 100)

    bank_card = await shop.http.post("/payment/tokens/add", json={"tokenType": "BANK_CARD"})
    body = assert_error(bank_card, 400, "tokenType")
    assert "Запомнить карту" in body["errorMessage"], "tells where a bank card is saved"
    no_code = await shop.http.post("/payment/tokens/add", json={"tokenType": "GIFT_CARD"})
    assert_error(no_code, 400, "activationCode")
    assert_error(await shop.http.post("/payment/tokens/add", json={}), 400, "tokenType")
    wrong_type = await shop.http.post(
        "/payment/tokens/add", json={"tokenType": "WALLET", "activationCode": "x"}
    )
    assert_error(wrong_type, 400, "tokenType")
    unknown = await shop.http.post(
        "/payment/tokens/add", json={"tokenType": "GIFT_CARD", "activationCode": "Z" * 16}
    )
    assert_error(unknown, 404)


async def test_tokens_get_and_delete(shop: Shop) -> None:
    username = await shopper(shop)
    async with transaction(shop.sessions) as session:
        saved = await payment.save_card(
            session=session,
            username=username,
            bank_token="bank-tok-1",
            masked="411111******1111",
            expiry="12/30",
        )
        others = await payment.save_card(
            session=session,
            username="someone_else",
            bank_token="bank-tok-2",
            masked="555555******4444",
            expiry="01/29",
        )
    full = await issue(shop, 100, "giftcard-del-1")
    empty = await issue(shop, 50, "giftcard-del-2")
    for card in (full, empty):
        await shop.http.post("/payment/activate", json={"activationCode": card["activationCode"]})
    spent = await charge(
        shop,
        username=username,
        tokenType="GIFT_CARD",
        tokenId=empty["id"],
        amount=50,
        idempotencyKey="payment-del-1",
    )
    assert spent.status_code == 200, spent.text

    listed = await shop.http.get("/payment/tokens/get")
    assert listed.status_code == 200
    assert listed.json()["username"] == username
    assert [(t["tokenType"], t["id"], t["balance"]) for t in listed.json()["tokens"]] == [
        ("BANK_CARD", saved.id, None),
        ("GIFT_CARD", full["id"], 100),
        ("GIFT_CARD", empty["id"], 0),
    ]
    bank = listed.json()["tokens"][0]
    assert bank["maskedTokenId"] == "411111******1111"
    assert "12/30" in bank["description"]
    assert "bank-tok-1" not in listed.text, "the bank's token never leaves the server"

    async def delete(token_type: str, token_id: Any) -> httpx.Response:
        return await shop.http.delete(
            "/payment/tokens/delete", params={"tokenType": token_type, "id": token_id}
        )

    assert_error(await delete("BANK_CARD", others.id), 404)
    assert_error(await delete("BANK_CARD", 999_999), 404)
    assert_error(await delete("GIFT_CARD", 999_999), 404)
    assert_error(await delete("GIFT_CARD", full["id"]), 409)
    assert_error(await delete("WALLET", 1), 400, "tokenType")
    assert_error(await delete("BANK_CARD", 0), 400, "id")
    assert_error(await delete("BANK_CARD", "one"), 400, "id")
    assert_error(await shop.http.delete("/payment/tokens/delete"), 400, "tokenType", "id")

    for token_type, token_id in (("BANK_CARD", saved.id), ("GIFT_CARD", empty["id"])):
        deleted = await delete(token_type, token_id)
        assert deleted.status_code == 200, deleted.text
        assert deleted.json() == {"deleted": True}
    assert_error(await delete("BANK_CARD", saved.id), 404)
    after = (await shop.http.get("/payment/tokens/get")).json()["tokens"]
    assert [(t["tokenType"], t["id"]) for t in after] == [("GIFT_CARD", full["id"])]
    async with transaction(shop.sessions) as session:
        assert [
            c.id for c in await payment.saved_cards(session=session, username="someone_else")
        ] == [others.id]


# --- the bank's callback -------------------------------------------------------------------------


async def test_bank_callback_takes_only_signed_notices(shop: Shop) -> None:
    body = notice()
    flow = "payment-order-no-such-order-1"
    good = callback_signature(body, shop.bank.secret)

    assert_error(await callback(shop, flow, body, None), 401)
    assert_error(await callback(shop, flow, body, ""), 401)
    assert_error(await callback(shop, flow, body, callback_signature(body, "not-the-secret")), 401)
    assert_error(await callback(shop, flow, body, good.removeprefix("sha256=")), 401)
    tampered = body.replace(b"10000", b"99999")
    assert_error(await callback(shop, flow, tampered, good), 401)

    for garbage in (
        b"",
        b"not json",
        b"[]",
        b'{"paymentId": "p"}',
        notice().replace(b"SUCCEEDED", b"MAYBE"),
    ):
        signed = callback_signature(garbage, shop.bank.secret)
        assert_error(await callback(shop, flow, garbage, signed), 400)

    nobody_waits = await callback(shop, flow, body, good)
    assert nobody_waits.status_code == 200, nobody_waits.text
    assert nobody_waits.json() == {"accepted": True, "deliveredTo": ""}
    assert_error(await callback(shop, "checkout-x", body, good), 400, "flow")
    missing_flow = await shop.http.post(
        "/payment/bank/callback", content=body, headers={SIGNATURE_HEADER: good}
    )
    assert_error(missing_flow, 400, "flow")


# --- paying an order -----------------------------------------------------------------------------


async def test_pay_statuses_and_a_gift_card_payment(seeded: Shop) -> None:
    shop = seeded
    username = (await shop.http.get("/auth/auth")).json()["username"]
    (product,) = await in_stock(shop.http, count=1)
    assert_error(
        await shop.http.post(
            "/payment/pay", json={"orderId": "no-such-order", "tokenType": "WALLET"}
        ),
        404,
    )
    not_started = await place(shop.http, (product["id"], 1))
    idle = await shop.http.post(
        "/payment/pay", json={"orderId": not_started["id"], "tokenType": "WALLET"}
    )
    assert_error(idle, 409)

    oid = not_started["id"]
    process = await shop.http.put("/order/process", json={"id": oid, "version": 0})
    assert process.status_code == 200, process.text
    no_delivery = await shop.http.post("/payment/pay", json={"orderId": oid, "tokenType": "WALLET"})
    assert_error(no_delivery, 409)
    assert (await pick_up(shop, oid)).status_code == 200
    for body, field in (
        ({"orderId": oid}, "tokenType"),
        ({"tokenType": "WALLET"}, "orderId"),
        ({"orderId": oid, "tokenType": "CASH"}, "tokenType"),
        ({"orderId": oid, "tokenType": "GIFT_CARD", "tokenId": 0}, "tokenId"),
        ({"orderId": oid, "tokenType": "GIFT_CARD", "tokenId": "first"}, "tokenId"),
    ):
        assert_error(await shop.http.post("/payment/pay", json=body), 400, field)
    no_card = await shop.http.post("/payment/pay", json={"orderId": oid, "tokenType": "GIFT_CARD"})
    assert "подарочную карту" in assert_error(no_card, 400)["errorMessage"]

    total = (await shop.http.get(f"/checkout/{oid}/state")).json()["total"]
    small = await issue(shop, 1, f"giftcard-pay-small-{oid}")
    large = await issue(shop, 100_000, f"giftcard-pay-large-{oid}")
    for card in (small, large):
        await shop.http.post("/payment/activate", json={"activationCode": card["activationCode"]})
    short = await shop.http.post(
        "/payment/pay", json={"orderId": oid, "tokenType": "GIFT_CARD", "tokenId": small["id"]}
    )
    assert short.status_code == 200, short.text
    assert short.json()["step"] == "CHOOSING_DELIVERY"
    assert "Недостаточно средств" in short.json()["lastError"]

    paid = await shop.http.post(
        "/payment/pay", json={"orderId": oid, "tokenType": "GIFT_CARD", "tokenId": large["id"]}
    )
    assert paid.status_code == 200, paid.text
    assert (paid.json()["step"], paid.json()["paymentMethod"]) == ("PAID", "GIFT_CARD")
    assert paid.json()["paymentAttempts"] == 2
    balances = {t["id"]: t["balance"] for t in (await tokens(shop, username))["tokens"][1:]}
    assert balances == {small["id"]: 1, large["id"]: round(100_000 - total, 2)}
    await shop.env.client.get_workflow_handle(f"checkout-{oid}").result()
    (paid_mail,) = [m for m in shop.mailer.sent if m.subject.endswith(": успешно")]
    assert f"подарочная карта {large['maskedTokenId']}" in paid_mail.body, "Format 3 names it"
    again = await shop.http.post(
        "/payment/pay", json={"orderId": oid, "tokenType": "GIFT_CARD", "tokenId": large["id"]}
    )
    assert_error(again, 409)

    await shopper(shop)
    theirs = await shop.http.post("/payment/pay", json={"orderId": oid, "tokenType": "WALLET"})
    assert_error(theirs, 404)


async def test_qr_pay_needs_no_token_and_the_bank_callback_reaches_the_run(seeded: Shop) -> None:
    shop = seeded
    (product,) = await in_stock(shop.http, count=1)
    oid = (await start(shop, product["id"]))["id"]
    await pick_up(shop, oid)
    checkout = shop.env.client.get_workflow_handle(f"checkout-{oid}")
    try:
        response = await post(shop.http, "/payment/pay", {"orderId": oid, "tokenType": "QR_PAY"})
        assert response.status_code == 200, response.text
        state = response.json()
        assert (state["step"], state["paymentMethod"]) == ("AWAITING_BANK", "SBP")
        assert state["paymentUrl"].startswith(shop.bank.url)

        flow = f"payment-order-{oid}-v0-1"
        body = notice(payment_id="whatever-the-bank-says")
        signed = callback_signature(body, shop.bank.secret)
        delivered = await callback(shop, flow, body, signed)
        assert delivered.status_code == 200, delivered.text
        assert delivered.json() == {"accepted": True, "deliveredTo": flow}
    finally:
        await checkout.terminate("test cleanup")  # its payment child ends with it
