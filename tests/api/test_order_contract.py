"""order contracts (spec section 4): place, adjust, cancel, process, get — every status code."""

from __future__ import annotations

from typing import Any

from tests.support.auth import login, register
from tests.support.orders import in_stock, items, place
from tests.support.shop import Shop


async def test_place_answers_the_spec_shape(seeded: Shop) -> None:
    kettle, other = await in_stock(seeded.http)
    body = await place(seeded.http, (kettle["id"], 2), (other["id"], 1))

    assert body["status"] == "NEW"
    assert body["version"] == 0
    first = body["orderItems"][0]
    assert set(first) == {"id", "product", "quantity"}
    assert first["product"] == {
        "id": kettle["id"],
        "name": kettle["name"],
        "price": kettle["price"],
    }
    assert first["quantity"] == 2
    assert body["total"] == round(kettle["price"] * 2 + other["price"], 2)
    got = await seeded.http.get("/order/get", params={"orderId": body["id"]})
    assert got.status_code == 200
    assert got.json() == body


async def test_adjust_with_the_current_version_then_a_stale_one(seeded: Shop) -> None:
    kettle, other = await in_stock(seeded.http)
    placed = await place(seeded.http, (kettle["id"], 1))
    change = {
        "id": placed["id"],
        "version": 0,
        "orderItems": items((kettle["id"], 3), (other["id"], 1)),
    }

    adjusted = await seeded.http.put("/order/adjust", json=change)
    stale = await seeded.http.put(
        "/order/adjust", json=change | {"orderItems": items((other["id"], 2))}
    )

    assert adjusted.status_code == 200
    assert adjusted.json()["version"] == 1
    assert stale.status_code == 409
    assert "другой вкладке" in stale.json()["errorMessage"]
    current = (await seeded.http.get("/order/get", params={"orderId": placed["id"]})).json()
    assert [(i["product"]["id"], i["quantity"]) for i in current["orderItems"]] == [
        (kettle["id"], 3),
        (other["id"], 1),
    ]


async def test_cancel_then_changes_are_409(seeded: Shop) -> None:
    (kettle,) = await in_stock(seeded.http, count=1)
    placed = await place(seeded.http, (kettle["id"], 1))
    cancelled = await seeded.http.put("/order/cancel", json={"id": placed["id"], "version": 0})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "CANCELED"
    again = await seeded.http.put(
        "/order/adjust", json={"id": placed["id"], "version": 1, "orderItems": []}
    )
    assert again.status_code == 409


async def test_process_hands_the_order_to_checkout(seeded: Shop) -> None:
    (kettle,) = await in_stock(seeded.http, count=1)
    placed = await place(seeded.http, (kettle["id"], 1))
    stale = await seeded.http.put("/order/process", json={"id": placed["id"], "version": 7})
    assert stale.status_code == 409
    response = await seeded.http.put("/order/process", json={"id": placed["id"], "version": 0})
    assert response.status_code == 200
    assert response.json()["status"] == "IN_PROGRESS"
    assert response.json()["version"] == 1
    locked = await seeded.http.put(
        "/order/adjust", json={"id": placed["id"], "version": 1, "orderItems": []}
    )
    assert locked.status_code == 409, "an order in checkout cannot be edited"
    cancel = await seeded.http.put("/order/cancel", json={"id": placed["id"], "version": 1})
    assert cancel.status_code == 409


async def test_unknown_product_and_unknown_order_are_404(seeded: Shop) -> None:
    missing_product = await seeded.http.post(
        "/order/place", json={"orderItems": items((987654, 1))}
    )
    assert missing_product.status_code == 404
    assert "987654" in missing_product.json()["errorMessage"]
    for request in (
        seeded.http.get("/order/get", params={"orderId": "no-such-order"}),
        seeded.http.put(
            "/order/adjust", json={"id": "no-such-order", "version": 0, "orderItems": []}
        ),
        seeded.http.put("/order/cancel", json={"id": "no-such-order", "version": 0}),
        seeded.http.put("/order/process", json={"id": "no-such-order", "version": 0}),
    ):
        assert (await request).status_code == 404


async def test_another_shoppers_order_is_404_and_untouched(seeded: Shop) -> None:
    (kettle,) = await in_stock(seeded.http, count=1)
    placed = await place(seeded.http, (kettle["id"], 1))
    await login(seeded, await register(seeded))  # the client is now someone else

    assert (
        await seeded.http.get("/order/get", params={"orderId": placed["id"]})
    ).status_code == 404
    hijack = {"id": placed["id"], "version": 0, "orderItems": items((kettle["id"], 2))}
    assert (await seeded.http.put("/order/adjust", json=hijack)).status_code == 404
    assert (await seeded.http.put("/order/cancel", json=hijack)).status_code == 404


async def test_bad_bodies_are_400(seeded: Shop) -> None:
    (kettle,) = await in_stock(seeded.http, count=1)
    bodies: list[dict[str, Any]] = [
        {},
        {"orderItems": []},
        {"orderItems": items((kettle["id"], 0))},
        {"orderItems": items((kettle["id"], -1))},
        {"orderItems": [{"product": {"id": "abc"}, "quantity": 1}]},
        {"orderItems": items((kettle["id"], 1)), "id": "bad id with spaces"},
    ]
    for body in bodies:
        response = await seeded.http.post("/order/place", json=body)
        assert response.status_code == 400, body
        assert "errorMessage" in response.json()


async def test_more_than_in_stock_is_409(seeded: Shop) -> None:
    candidates = await in_stock(seeded.http, count=60)
    scarce = next(c for c in candidates if sum(p["quantity"] for p in c["productPlaces"]) < 99)
    available = sum(p["quantity"] for p in scarce["productPlaces"])
    response = await seeded.http.post(
        "/order/place", json={"orderItems": items((scarce["id"], available + 1))}
    )
    assert response.status_code == 409
    assert f"не больше {available} шт." in response.json()["errorMessage"]


async def test_every_order_contract_needs_a_session(seeded: Shop) -> None:
    seeded.http.cookies.clear()
    for request in (
        seeded.http.post("/order/place", json={"orderItems": items((1, 1))}),
        seeded.http.put("/order/adjust", json={"id": "x", "version": 0, "orderItems": []}),
        seeded.http.put("/order/cancel", json={"id": "x", "version": 0}),
        seeded.http.put("/order/process", json={"id": "x", "version": 0}),
        seeded.http.get("/order/get", params={"orderId": "x"}),
    ):
        response = await request
        assert response.status_code == 401
        assert "errorMessage" in response.json()
