"""A checkout through the API (the shop of tests/support/shop.py, its shopper logged in): money
in the wallet, an order handed to checkout, pickup chosen, a payment attempt and its outcome."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from core.db import transaction
from services import billing
from tests.support.orders import in_stock, place
from tests.support.shop import Shop


async def fund(shop: Shop, roubles: int) -> None:
    """Top the logged-in shopper's wallet up through billing (the top-up flow is a later issue)."""
    me = (await shop.http.get("/auth/auth")).json()["username"]
    async with transaction(shop.sessions) as session:
        await billing.credit_wallet(
            session=session,
            username=me,
            amount_kopecks=roubles * 100,
            idempotency_key=f"test-fund-{me}-{roubles}",
            reference="test",
        )


async def balance(shop: Shop) -> float:
    me = (await shop.http.get("/auth/auth")).json()["username"]
    async with transaction(shop.sessions) as session:
        wallet = await billing.get_wallet(session=session, username=me)
    return wallet.balance_kopecks / 100


async def start(shop: Shop, product_id: int, quantity: int = 1) -> dict[str, Any]:
    placed = await place(shop.http, (product_id, quantity))
    response = await shop.http.put("/order/process", json={"id": placed["id"], "version": 0})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def pick_up(shop: Shop, oid: str) -> httpx.Response:
    """Choose the first pickup point for the order's checkout."""
    points = (await shop.http.get("/delivery/points")).json()["pickupPoints"]
    body = {"kind": "PICKUP", "pickupPointId": points[0]["id"]}
    return await shop.http.post(f"/checkout/{oid}/delivery", json=body)


async def post(
    http: httpx.AsyncClient, url: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await http.post(url, json=body or {})


async def to_payment(shop: Shop) -> tuple[str, float]:
    """A fresh order held for checkout with pickup chosen: its id and total."""
    (product,) = await in_stock(shop.http, count=1)
    oid = (await start(shop, product["id"]))["id"]
    chosen = await pick_up(shop, oid)
    assert chosen.status_code == 200, chosen.text
    return oid, float(chosen.json()["total"])


async def pay(shop: Shop, oid: str, **body: Any) -> dict[str, Any]:
    response = await post(shop.http, f"/checkout/{oid}/pay", body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def settled(shop: Shop, oid: str, within: float = 20.0) -> dict[str, Any]:
    """The checkout state once the bank's answer has been taken (what the return page waits for)."""
    return await state_past(
        shop, f"/checkout/{oid}/state", ("PAYING", "AWAITING_BANK", "CONFIRMING"), within
    )


async def state_past(
    shop: Shop, url: str, busy: tuple[str, ...], within: float = 20.0
) -> dict[str, Any]:
    """The state at `url` once its step is none of `busy` (at most `within` seconds)."""
    async with asyncio.timeout(within):
        while True:
            state: dict[str, Any] = (await shop.http.get(url)).json()
            if state["step"] not in busy:
                return state
            await asyncio.sleep(0.1)
