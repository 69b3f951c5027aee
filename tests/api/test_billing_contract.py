"""billing contracts (spec section 4): every endpoint's success and error statuses, in the spec's
error shape; the internal ones behind the service key."""

from __future__ import annotations

from typing import Any

from tests.support.billing import back_as, charge, issue, shopper, tokens
from tests.support.errors import assert_error
from tests.support.shop import Shop, service

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
