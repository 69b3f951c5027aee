"""The steps of the recorded scenarios (tests/replay/recording.py) that the API tests' helpers
(tests/support) do not already take: a bank page's «bank app», a paid order, an operator's move
of a fulfilment, a purchase and its payment, an e-mail change and its mailed link."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from models.payloads_fulfilment import FulfilmentState, StageRequest
from tests.support.bank import open_page
from tests.support.checkout import fund, pay, post, to_payment
from tests.support.mail_links import confirmation_links
from tests.support.shop import Shop
from workflows.refs import Fulfilment


async def me(shop: Shop) -> str:
    username: str = (await shop.http.get("/auth/auth")).json()["username"]
    return username


def bank_payment_id(state: dict[str, Any]) -> str:
    url: str = state["paymentUrl"]
    return url.rstrip("/").rsplit("/", 1)[1]


async def confirm_in_bank_app(shop: Shop, buyer: httpx.AsyncClient, payment_id: str) -> None:
    app = await open_page(buyer, f"{shop.bank.url}/sbp/{payment_id}/app")
    await app.submit(buyer, {}, button="Подтвердить")


async def paid_from_the_wallet(shop: Shop) -> str:
    """A pickup order paid from the (funded) wallet; its id once its checkout run has ended."""
    await fund(shop, 100_000)
    oid, _ = await to_payment(shop)
    assert (await pay(shop, oid, method="WALLET"))["step"] == "PAID"
    await shop.env.client.get_workflow_handle(f"checkout-{oid}").result()
    return oid


async def move(shop: Shop, oid: str, stage: str, slot: str = "") -> None:
    """An operator's move of the order's fulfilment (what /operator/orders/{id}/advance sends)."""
    await shop.env.client.get_workflow_handle(f"delivery-{oid}").execute_update(
        Fulfilment.advance.name,
        StageRequest(stage, "operator-olga", slot),  # type: ignore[arg-type]
        result_type=FulfilmentState,
    )


async def purchase(shop: Shop, kind: str, **body: Any) -> str:
    started = await post(shop.http, f"/purchase/{kind}", body)
    assert started.status_code == 200, started.text
    purchase_id: str = started.json()["purchaseId"]
    return purchase_id


async def pay_purchase(shop: Shop, purchase_id: str, **body: Any) -> dict[str, Any]:
    answer = await post(shop.http, f"/purchase/{purchase_id}/pay", body)
    assert answer.status_code == 200, answer.text
    state: dict[str, Any] = answer.json()
    return state


async def mailed_link(shop: Shop, to: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:  # the run mails the link right after answering the request
            if links := confirmation_links(shop, to):
                return links[-1]
            await asyncio.sleep(0.05)


async def ask_email_change(shop: Shop, address: str) -> None:
    asked = await shop.http.post("/auth/email", json={"email": address})
    assert asked.status_code == 202, asked.text
