"""Paying an order through the API with the real bank emulator: a new card on the bank's page
(remembered, then charged as a linked card), СБП in the «bank app», a declined card and a retry,
duplicated and reordered callbacks, and a success that comes after the attempt was given up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from core.db import SessionFactory
from tests.conftest import BankEmulator
from tests.support.auth import login_shopper
from tests.support.bank import DECLINED_CARD, GOOD_CARD, card_on_bank_page, open_page
from tests.support.cards import charges, remembered_card
from tests.support.checkout import fund, pay, post, settled, to_payment
from tests.support.sabotage import failing
from tests.support.shop import Shop, open_shop, service
from workers.bootstrap import WORKFLOWS
from workflows.policies import CUSTOMER_ID, FLOW_STATUS, ORDER_ID, PAYMENT_METHOD


@pytest.fixture
async def buyer() -> AsyncIterator[httpx.AsyncClient]:
    """The buyer's browser on the bank's pages."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as client:
        yield client


async def replay(shop: Shop, *workflow_ids: str) -> None:
    """The finished runs' histories replay on the current code (signals, queries, children)."""
    replayer = Replayer(workflows=list(WORKFLOWS))
    for workflow_id in workflow_ids:
        handle = shop.env.client.get_workflow_handle(workflow_id)
        await handle.result()
        await replayer.replay_workflow(await handle.fetch_history())


def bank_payment(bank: BankEmulator, payment_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{bank.url}/api/payments/{payment_id}").json()
    return answer


def callbacks_of(bank: BankEmulator, payment_id: str) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = bank.admin("GET", f"callbacks/log?paymentId={payment_id}")
    return log


@pytest.fixture(autouse=True)
def calm_bank(bank_emulator: BankEmulator) -> None:
    bank_emulator.admin("DELETE", "callbacks")


async def test_new_card_remembered_then_charged_as_a_linked_card(
    seeded: Shop, buyer: httpx.AsyncClient
) -> None:
    oid, total = await to_payment(seeded)
    waiting = await pay(seeded, oid, method="BANK_CARD", saveCard=True)
    assert waiting["step"] == "AWAITING_BANK"
    assert waiting["paymentUrl"].startswith(seeded.bank.url)
    result = await card_on_bank_page(buyer, waiting["paymentUrl"], GOOD_CARD)
    assert "Оплата прошла" in result.text or "оплачен" in result.text.lower(), result.text

    state = await settled(seeded, oid)
    assert state["step"] == "PAID", state
    order = (await seeded.http.get("/order/get", params={"orderId": oid})).json()
    assert order["status"] == "PAID"
    tokens = (await seeded.http.get("/payment/tokens/get")).json()["tokens"]
    (card,) = [t for t in tokens if t["tokenType"] == "BANK_CARD"]
    assert card["maskedTokenId"] == "411111******1111"
    run = await seeded.env.client.get_workflow_handle(f"payment-order-{oid}-v0-1").describe()
    found_by = run.typed_search_attributes
    me = (await seeded.http.get("/auth/auth")).json()["username"]
    assert (found_by.get(CUSTOMER_ID), found_by.get(ORDER_ID)) == (me, oid), "operators find it"
    assert (found_by.get(PAYMENT_METHOD), found_by.get(FLOW_STATUS)) == ("BANK_CARD", "PAID")

    second, _ = await to_payment(seeded)
    paid = await pay(seeded, second, method="BANK_CARD", tokenId=card["id"])
    assert paid["step"] == "PAID", "a linked card is charged without the bank's page"
    assert paid["paymentUrl"] == ""
    await seeded.env.client.get_workflow_handle(f"checkout-{second}").result()
    payment_mails = [m for m in seeded.mailer.sent if m.subject.startswith("Оплата заказа")]
    assert [m.subject.endswith("успешно") for m in payment_mails] == [True, True]
    assert all("411111******1111" in m.body for m in payment_mails)
    assert round(total, 2) > 0


async def test_sbp_is_confirmed_in_the_bank_app(seeded: Shop, buyer: httpx.AsyncClient) -> None:
    oid, _ = await to_payment(seeded)
    waiting = await pay(seeded, oid, method="SBP")
    assert waiting["step"] == "AWAITING_BANK"
    qr = await open_page(buyer, waiting["paymentUrl"])
    app_link = next(href for text, href in qr.links.items() if "приложени" in text.lower())
    app = await qr.follow(buyer, next(t for t in qr.links if qr.links[t] == app_link))
    await app.submit(buyer, {}, button="Подтвердить")
    assert (await settled(seeded, oid))["step"] == "PAID"


async def test_a_declined_card_shows_the_reason_and_the_retry_pays(
    seeded: Shop, buyer: httpx.AsyncClient
) -> None:
    oid, _ = await to_payment(seeded)
    first = await pay(seeded, oid, method="BANK_CARD")
    await card_on_bank_page(buyer, first["paymentUrl"], DECLINED_CARD)
    declined = await settled(seeded, oid)
    assert declined["step"] == "CHOOSING_DELIVERY", "back to «Выбор способа оплаты»"
    assert declined["lastError"] == "Банк отклонил операцию"

    again = await pay(seeded, oid, method="BANK_CARD")
    assert again["paymentUrl"] != first["paymentUrl"], "a new attempt, a new bank payment"
    await card_on_bank_page(buyer, again["paymentUrl"], GOOD_CARD)
    assert (await settled(seeded, oid))["step"] == "PAID"
    await seeded.env.client.get_workflow_handle(f"checkout-{oid}").result()
    subjects = [m.subject for m in seeded.mailer.sent if m.subject.startswith("Оплата заказа")]
    assert [s.rsplit(": ", 1)[1] for s in subjects] == ["не прошла", "успешно"]


async def test_duplicated_and_reordered_callbacks_pay_once(
    seeded: Shop, buyer: httpx.AsyncClient
) -> None:
    seeded.bank.admin("POST", "callbacks", {"duplicate": True, "reorder": True, "delayMs": 300})
    oid, total = await to_payment(seeded)
    waiting = await pay(seeded, oid, method="BANK_CARD")
    payment_id = waiting["paymentUrl"].rstrip("/").rsplit("/", 1)[1]
    await card_on_bank_page(buyer, waiting["paymentUrl"], GOOD_CARD)
    assert (await settled(seeded, oid))["step"] == "PAID"

    for _ in range(100):
        delivered = callbacks_of(seeded.bank, payment_id)
        if len(delivered) >= 2:
            break
        await asyncio.sleep(0.1)
    assert all(entry["answer"] == 200 for entry in delivered), delivered
    assert len({entry["eventId"] for entry in delivered}) == 1, "the same event, twice"
    money = bank_payment(seeded.bank, payment_id)
    assert money["status"] == "SUCCEEDED"
    assert money["amountKopecks"] == round(total * 100)
    await seeded.env.client.get_workflow_handle(f"checkout-{oid}").result()
    payment_mails = [m for m in seeded.mailer.sent if m.subject.startswith("Оплата заказа")]
    assert len(payment_mails) == 1
    await replay(seeded, f"checkout-{oid}", f"payment-order-{oid}-v0-1")


async def test_a_success_after_the_attempt_gave_up_is_refunded(
    seeded_sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
    buyer: httpx.AsyncClient,
) -> None:
    async with open_shop(
        seeded_sessions,
        dev_server_env,
        couriers_url,
        bank_emulator,
        bank_wait_minutes=0.05,  # three seconds on the bank's page
        bank_poll_seconds=1,
    ) as shop:
        await login_shopper(shop)
        shop.bank.admin("POST", "callbacks/hold")
        oid, total = await to_payment(shop)
        waiting = await pay(shop, oid, method="BANK_CARD")
        payment_id = waiting["paymentUrl"].rstrip("/").rsplit("/", 1)[1]
        given_up = await settled(shop, oid)
        assert given_up["step"] == "CHOOSING_DELIVERY"
        assert "не подтвердил оплату" in given_up["lastError"]

        # The buyer had the bank's page open all along and pays now; the callback comes late.
        await card_on_bank_page(buyer, waiting["paymentUrl"], GOOD_CARD)
        shop.bank.admin("POST", "callbacks/release")
        late = shop.env.client.get_workflow_handle(f"bank-late-{payment_id}", result_type=str)
        assert await asyncio.wait_for(late.result(), 30) == "REFUNDED"

        money = bank_payment(shop.bank, payment_id)
        assert money["status"] == "REFUNDED"
        assert money["refundedKopecks"] == round(total * 100)
        assert (await shop.http.get(f"/checkout/{oid}/state")).json()["step"] == (
            "CHOOSING_DELIVERY"
        ), "the order is still waiting for a payment that counts"
        assert any(m.subject.startswith("Возврат платежа") for m in shop.mailer.sent)


async def test_leaving_the_bank_page_brings_the_choice_back_and_a_late_payment_is_returned(
    seeded: Shop, buyer: httpx.AsyncClient
) -> None:
    oid, total = await to_payment(seeded)
    waiting = await pay(seeded, oid, method="SBP")
    payment_id = waiting["paymentUrl"].rstrip("/").rsplit("/", 1)[1]
    left = await post(seeded.http, f"/checkout/{oid}/leave-bank-page")
    assert left.status_code == 200, left.text
    assert left.json()["step"] == "CHOOSING_DELIVERY"
    assert left.json()["lastError"] == "Оплата на странице банка отменена"
    again = await post(seeded.http, f"/checkout/{oid}/leave-bank-page")
    assert again.status_code == 409, "nothing to leave any more"

    # The bank app still had the payment open and the buyer confirms it there anyway.
    app = await open_page(buyer, f"{seeded.bank.url}/sbp/{payment_id}/app")
    await app.submit(buyer, {}, button="Подтвердить")
    late = seeded.env.client.get_workflow_handle(f"bank-late-{payment_id}", result_type=str)
    assert await asyncio.wait_for(late.result(), 30) == "REFUNDED"
    assert bank_payment(seeded.bank, payment_id)["refundedKopecks"] == round(total * 100)

    await fund(seeded, 100_000)
    assert (await pay(seeded, oid, method="WALLET"))["step"] == "PAID", "the order is still payable"
    await replay(
        seeded,
        f"checkout-{oid}",
        f"payment-order-{oid}-v0-1",  # the wallet's attempt 2 ran inline in the checkout
        f"bank-late-{payment_id}",
    )


async def test_a_failure_after_a_card_or_gift_card_payment_gives_the_money_back(
    seeded_sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> None:
    """The confirmation saga refunds by the way the money came: the bank for a card, billing for
    a gift card (the wallet is covered by tests/api/test_checkout_compensation.py)."""
    async with open_shop(
        seeded_sessions,
        dev_server_env,
        couriers_url,
        bank_emulator,
        sabotage=failing("delivery.open_case"),
    ) as shop:
        await login_shopper(shop)
        me = (await shop.http.get("/auth/auth")).json()["username"]
        card_id = await remembered_card(shop.sessions, shop.bank, me)
        issued = await shop.http.post(
            "/billing/token/create",
            json={"amount": 100_000, "idempotencyKey": f"saga-gift-{me}"},
            headers=service(),
        )
        gift = await post(
            shop.http, "/payment/activate", {"activationCode": issued.json()["activationCode"]}
        )

        by_card, total = await to_payment(shop)
        failed = await pay(shop, by_card, method="BANK_CARD", tokenId=card_id)
        assert failed["step"] == "FAILED", failed
        (charge,) = await charges(shop.bank, me)
        assert charge["status"] == "REFUNDED", "the bank gave the card its money back"
        assert charge["refundedKopecks"] == round(total * 100)

        by_gift, _ = await to_payment(shop)
        assert (await pay(shop, by_gift, method="GIFT_CARD", tokenId=gift.json()["id"]))[
            "step"
        ] == "FAILED"
        tokens = (await shop.http.get("/payment/tokens/get")).json()["tokens"]
        assert [t["balance"] for t in tokens if t["tokenType"] == "GIFT_CARD"] == [100_000]
        log = (await post(shop.http, "/billing/trxn/get", {"username": me})).json()
        assert [e["kind"] for e in log["transactions"] if e["tokenType"] == "GIFT_CARD"] == [
            "REFUND",
            "DEBIT",
        ]
