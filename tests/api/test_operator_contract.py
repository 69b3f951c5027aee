"""The operators' area through the API on the real dev server: a shopper is refused (403), an
operator moves a paid pickup order to the shopper's hands (COMPLETED), a move out of turn is
409, cancel-and-refund at the pickup point's way gives the wallet its money back, and every
accepted move is in the order's audit list. One form post goes through the page as well."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.db import transaction
from services import auth
from tests.support.auth import register
from tests.support.checkout import balance, fund, pay, to_payment
from tests.support.shop import Shop

WAIT = 20.0  # seconds: the fulfilment run starts, the order closes, well inside it


@pytest.fixture
async def operator(seeded: Shop) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser, signed in as a user granted the operator role."""
    async with httpx.AsyncClient(base_url=seeded.public_url, timeout=WAIT) as http:
        body = await register(seeded)
        async with transaction(seeded.sessions) as session:
            await auth.grant_operator(session=session, username=body["username"])
        answer = await http.post(
            "/auth/login", json={"username": body["username"], "password": body["password"]}
        )
        assert answer.status_code == 200, answer.text
        http.headers["X-Test-Name"] = body["username"]  # read back by the asserts, ignored
        yield http


async def _paid_order(shop: Shop, operator: httpx.AsyncClient) -> str:
    """A pickup order paid from the wallet, once its fulfilment run answers the operators."""
    await fund(shop, 100_000)
    oid, _ = await to_payment(shop)
    assert (await pay(shop, oid, method="WALLET"))["step"] == "PAID"
    async with asyncio.timeout(WAIT):
        while True:
            if (await operator.get(f"/operator/orders/{oid}")).status_code != 404:
                return oid
            await asyncio.sleep(0.1)


async def _advance(operator: httpx.AsyncClient, oid: str, stage: str) -> httpx.Response:
    return await operator.post(f"/operator/orders/{oid}/advance", json={"stage": stage})


async def _status(shop: Shop, oid: str, wanted: str) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        while True:
            order: dict[str, Any] = (
                await shop.http.get("/order/get", params={"orderId": oid})
            ).json()
            if order["status"] == wanted:
                return order
            await asyncio.sleep(0.1)


async def test_a_shopper_and_a_visitor_are_refused(seeded: Shop) -> None:
    calls = [
        ("GET", "/operator/orders", None),
        ("GET", "/operator/orders/o-1", None),
        ("POST", "/operator/orders/o-1/advance", {"stage": "AT_PICKUP_POINT"}),
        ("POST", "/operator/orders/o-1/cancel", {"reason": "нет"}),
    ]
    async with httpx.AsyncClient(base_url=seeded.public_url) as visitor:
        for method, url, body in calls:
            shopper = await seeded.http.request(method, url, json=body)
            assert shopper.status_code == 403, (url, shopper.text)
            assert shopper.json() == {"errorMessage": "Раздел только для операторов"}
            assert (await visitor.request(method, url, json=body)).status_code == 401
    page = await seeded.http.get("/operator/order/o-1")
    assert page.status_code == 403
    assert "Раздел только для операторов" in page.text
    assert "Операторская" not in (await seeded.http.get("/")).text


async def test_an_operator_moves_a_pickup_order_to_the_shoppers_hands(
    seeded: Shop, operator: httpx.AsyncClient
) -> None:
    oid = await _paid_order(seeded, operator)
    listed = (await operator.get("/operator/orders")).json()["orders"]
    mine = next(o for o in listed if o["orderId"] == oid)
    assert (mine["stage"], mine["kind"], mine["nextStage"]) == (
        "PICKING",
        "PICKUP",
        "SENT_TO_PICKUP_POINT",
    )
    assert mine["status"] == "PAID"

    moved = await _advance(operator, oid, "SENT_TO_PICKUP_POINT")
    assert moved.status_code == 200, moved.text
    assert moved.json()["nextStage"] == "AT_PICKUP_POINT"
    wrong = await _advance(operator, oid, "PICKED_UP")
    assert wrong.status_code == 409, wrong.text
    assert "errorMessage" in wrong.json()
    unknown = await _advance(operator, oid, "TELEPORTED")
    assert unknown.status_code == 400, unknown.text

    page = await operator.get(f"/operator/order/{oid}")
    assert page.status_code == 200
    assert "Перевести: Ждёт в пункте выдачи" in page.text
    assert "Отменить и вернуть деньги" in page.text
    assert f"/namespaces/default/workflows/delivery-{oid}" in page.text
    listing = await operator.get("/operator")
    assert listing.status_code == 200
    assert f'href="/operator/order/{oid}"' in listing.text
    assert 'href="/operator" data-test="operator-link">Операторская' in listing.text
    form = await operator.post(
        f"/operator/order/{oid}/advance", data={"stage": "AT_PICKUP_POINT"}
    )  # the page's form: 303 back to the order's page
    assert form.status_code == 303, form.text
    assert form.headers["location"] == f"/operator/order/{oid}"
    done = await _advance(operator, oid, "PICKED_UP")
    assert done.status_code == 200, done.text
    assert (done.json()["stage"], done.json()["nextStage"]) == ("PICKED_UP", "")

    await _status(seeded, oid, "COMPLETED")
    detail = (await operator.get(f"/operator/orders/{oid}")).json()
    assert [e["stage"] for e in detail["timeline"]] == [
        "PICKING",
        "SENT_TO_PICKUP_POINT",
        "AT_PICKUP_POINT",
        "PICKED_UP",
    ]
    name = operator.headers["X-Test-Name"]
    assert [(a["operator"], a["action"], a["detail"]) for a in detail["actions"]] == [
        (name, "ADVANCE", "SENT_TO_PICKUP_POINT"),
        (name, "ADVANCE", "AT_PICKUP_POINT"),
        (name, "ADVANCE", "PICKED_UP"),
    ], "each accepted move once; the refused ones never"
    assert detail["status"] == "COMPLETED"
    late = await operator.post(f"/operator/orders/{oid}/cancel", json={"reason": "поздно"})
    assert late.status_code == 409, late.text


async def test_cancel_and_refund_on_the_way_to_the_pickup_point(
    seeded: Shop, operator: httpx.AsyncClient
) -> None:
    oid = await _paid_order(seeded, operator)
    assert await balance(seeded) < 100_000
    assert (await _advance(operator, oid, "SENT_TO_PICKUP_POINT")).status_code == 200

    cancelled = await operator.post(
        f"/operator/orders/{oid}/cancel", json={"reason": "Повреждена упаковка"}
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["stage"], body["refunded"], body["mayCancel"]) == ("CANCELED", True, False)
    assert await balance(seeded) == 100_000, "the wallet got the money back"
    await _status(seeded, oid, "CANCELED")
    again = await operator.post(f"/operator/orders/{oid}/cancel", json={"reason": "ещё раз"})
    assert again.status_code == 409, again.text
    assert [(a["action"], a["detail"]) for a in body["actions"]] == [
        ("ADVANCE", "SENT_TO_PICKUP_POINT"),
        ("CANCEL", "Повреждена упаковка"),
    ]
