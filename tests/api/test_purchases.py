"""Buying a gift card and topping up the wallet through the API, with the real dev server and
the bank emulator: the grantee's mail carries the code (and nothing else does), another shopper
activates it, a top-up by СБП lands in the wallet and its log, a failure after payment gives the
money back, bad input gets the spec's error shape."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory, transaction
from models.notification import Notification
from tests.conftest import BankEmulator
from tests.support.auth import login_shopper
from tests.support.bank import open_page
from tests.support.checkout import balance, fund, post, state_past
from tests.support.errors import assert_error
from tests.support.sabotage import failing
from tests.support.shop import Shop, open_shop

CODE = re.compile(r"Код активации: ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})")
GRANTEE = {"granteeName": "Мария", "granteeEmail": "maria@example.ru", "design": "flowers"}


@pytest.fixture
async def buyer() -> AsyncIterator[httpx.AsyncClient]:
    """The buyer's browser on the bank's pages."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as client:
        yield client


async def settled(shop: Shop, purchase_id: str) -> dict[str, Any]:
    """The purchase once its payment is decided (what its return page waits for)."""
    busy = ("PAYING", "AWAITING_BANK", "FULFILLING")
    return await state_past(shop, f"/purchase/{purchase_id}/state", busy)


async def grantee_mail(shop: Shop, address: str, within: float = 20.0) -> str:
    async with asyncio.timeout(within):
        while True:
            for mail in shop.mailer.sent:
                if mail.to == address:
                    return mail.body
            await asyncio.sleep(0.1)


async def history_text(shop: Shop, workflow_id: str) -> str:
    history = await shop.env.client.get_workflow_handle(workflow_id).fetch_history()
    return history.to_json()


async def test_a_gift_card_bought_from_the_wallet_reaches_the_grantee_who_activates_it(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await login_shopper(shop)
    await fund(shop, 2000)
    started = await post(shop.http, "/purchase/giftcard", {**GRANTEE, "amount": 1500})
    assert started.status_code == 200, started.text
    purchase_id = started.json()["purchaseId"]
    assert started.json()["step"] == "CHOOSING_PAYMENT"

    paid = await post(shop.http, f"/purchase/{purchase_id}/pay", {"method": "WALLET"})
    assert paid.status_code == 200, paid.text
    assert paid.json()["step"] == "DONE", paid.json()
    assert paid.json()["giftCardId"] is not None
    assert await balance(shop) == 500

    body = await grantee_mail(shop, "maria@example.ru")
    match = CODE.search(body)
    assert match, body
    code = match.group(1)
    assert "Мария" in body
    assert "/giftcard/postcards/flowers.svg" in body

    await shop.env.client.get_workflow_handle(purchase_id).result()
    for workflow_id in (purchase_id,):
        assert code not in await history_text(shop, workflow_id)
        assert code.replace("-", "") not in await history_text(shop, workflow_id)
    async with transaction(shop.sessions) as session:
        stored = (await session.exec(select(Notification))).all()
    assert stored
    for message in stored:
        assert code not in message.body
        assert code.replace("-", "") not in message.body

    assert code not in caplog.text, "the code is in no log"
    assert code.replace("-", "") not in caplog.text

    await login_shopper(shop)  # another shopper
    activated = await post(shop.http, "/payment/activate", {"activationCode": code})
    assert activated.status_code == 200, activated.text
    assert activated.json()["balance"] == 1500


async def test_a_top_up_by_sbp_lands_in_the_wallet_and_its_log(
    shop: Shop, buyer: httpx.AsyncClient
) -> None:
    await login_shopper(shop)
    started = await post(shop.http, "/purchase/topup", {"amount": 750.5})
    purchase_id = started.json()["purchaseId"]
    waiting = (await post(shop.http, f"/purchase/{purchase_id}/pay", {"method": "SBP"})).json()
    assert waiting["step"] == "AWAITING_BANK", waiting
    qr = await open_page(buyer, waiting["paymentUrl"])
    app_link = next(text for text, href in qr.links.items() if "приложени" in text.lower())
    app = await qr.follow(buyer, app_link)
    await app.submit(buyer, {}, button="Подтвердить")

    done = await settled(shop, purchase_id)
    assert done["step"] == "DONE", done
    assert done["walletBalance"] == 750.5
    assert await balance(shop) == 750.5
    me = (await shop.http.get("/auth/auth")).json()["username"]
    log = (await post(shop.http, "/billing/trxn/get", {"username": me})).json()
    (credit,) = log["transactions"]
    assert (credit["kind"], credit["amount"], credit["balanceAfter"]) == ("CREDIT", 750.5, 750.5)


async def test_a_wallet_is_not_topped_up_from_itself_nor_by_a_gift_card(shop: Shop) -> None:
    await login_shopper(shop)
    purchase_id = (await post(shop.http, "/purchase/topup", {"amount": 100})).json()["purchaseId"]
    for method in ("WALLET", "GIFT_CARD"):
        refused = await post(shop.http, f"/purchase/{purchase_id}/pay", {"method": method})
        assert_error(refused, 400)
    state = (await shop.http.get(f"/purchase/{purchase_id}/state")).json()
    assert state["step"] == "CHOOSING_PAYMENT"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GRANTEE, "amount": 99.99}, "amount"),
        ({**GRANTEE, "amount": 50_000.01}, "amount"),
        ({**GRANTEE, "amount": 100.001}, "amount"),
        ({**GRANTEE, "amount": 500, "granteeEmail": "maria"}, "granteeEmail"),
        ({**GRANTEE, "amount": 500, "granteeName": "<script>"}, "granteeName"),
        ({**GRANTEE, "amount": 500, "design": "no-such"}, "design"),
        ({"granteeName": "Мария", "amount": 500}, "granteeEmail"),
    ],
)
async def test_bad_gift_card_orders_are_400_naming_the_field(
    shop: Shop, body: dict[str, Any], field: str
) -> None:
    await login_shopper(shop)
    assert_error(await post(shop.http, "/purchase/giftcard", body), 400, field)


async def test_only_the_buyer_sees_a_purchase(shop: Shop) -> None:
    await login_shopper(shop)
    purchase_id = (await post(shop.http, "/purchase/topup", {"amount": 100})).json()["purchaseId"]
    await login_shopper(shop)  # another shopper
    assert_error(await shop.http.get(f"/purchase/{purchase_id}/state"), 404)
    assert_error(await post(shop.http, f"/purchase/{purchase_id}/pay", {"method": "SBP"}), 404)
    assert_error(await shop.http.get("/purchase/giftcard-nothing/state"), 404)
    assert_error(await shop.http.get("/purchase/x/state"), 404)


async def test_a_gift_card_that_cannot_be_issued_after_payment_is_refunded(
    sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> None:
    async with open_shop(
        sessions,
        dev_server_env,
        couriers_url,
        bank_emulator,
        sabotage=failing("billing.issue_gift_card"),
    ) as shop:
        await login_shopper(shop)
        await fund(shop, 1000)
        started = await post(shop.http, "/purchase/giftcard", {**GRANTEE, "amount": 600})
        purchase_id = started.json()["purchaseId"]
        failed = (
            await post(shop.http, f"/purchase/{purchase_id}/pay", {"method": "WALLET"})
        ).json()
        assert failed["step"] == "FAILED", failed
        assert "отказ" in failed["failureReason"]
        await shop.env.client.get_workflow_handle(purchase_id).result()
        assert await balance(shop) == 1000, "the money is back in the wallet"
        assert not [m for m in shop.mailer.sent if m.to == "maria@example.ru"]
