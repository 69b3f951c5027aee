"""payment contracts (spec section 4): payment means, the bank's callback behind its signature,
paying an order; every endpoint's success and error statuses, in the spec's error shape."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.bank import SIGNATURE_HEADER, callback_signature
from core.db import transaction
from services import payment
from tests.support.billing import back_as, charge, issue, shopper, tokens
from tests.support.callbacks import callback, notice
from tests.support.checkout import pick_up, post, start
from tests.support.errors import assert_error
from tests.support.orders import in_stock, place
from tests.support.shop import Shop

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
