"""One defence against cross-site requests (edge/csrf.py): a state-changing request a browser
says came from another site is refused with 403 and changes nothing; the store's own pages, the
bank's callback and server-to-server calls (no Origin, no Sec-Fetch-Site) pass."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from edge.csrf import CROSS_SITE_MESSAGE
from tests.support.billing import issue, shopper, tokens
from tests.support.callbacks import callback, notice
from tests.support.checkout import to_payment
from tests.support.orders import in_stock, items, place
from tests.support.shop import Shop, service

# What a browser sends from another site's page: four ways, each refused.
CROSS_SITE: list[dict[str, str]] = [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
]
# The store's own page: its Host, or public_url's origin, or the browser's own navigation.
SAME_ORIGIN: list[dict[str, str]] = [
    {"Origin": "http://shop.test"},  # the request's own Host
    {},  # no header at all: not a browser
    {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "none"},
]


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json() == {"errorMessage": CROSS_SITE_MESSAGE}


async def orders(shop: Shop) -> list[dict[str, Any]]:
    response = await shop.http.get("/order/list")
    assert response.status_code == 200, response.text
    lines: list[dict[str, Any]] = response.json()
    return lines


async def test_order_place_from_another_site_is_refused(seeded: Shop) -> None:
    (product,) = await in_stock(seeded.http, count=1)
    body = {"orderItems": items((product["id"], 1))}
    for headers in CROSS_SITE:
        assert_refused(await seeded.http.post("/order/place", json=body, headers=headers))
    assert await orders(seeded) == [], "nothing placed"
    answers = [
        await seeded.http.post("/order/place", json=body, headers=headers)
        for headers in SAME_ORIGIN
    ]
    assert answers[0].status_code == 200, answers[0].text
    # The rest reach the order contract: one open order at a time (409), not the defence (403).
    assert [a.status_code for a in answers[1:]] == [409] * (len(SAME_ORIGIN) - 1)


async def test_order_adjust_from_another_site_is_refused(seeded: Shop) -> None:
    (product,) = await in_stock(seeded.http, count=1)
    placed = await place(seeded.http, (product["id"], 1))
    body = {
        "id": placed["id"],
        "version": placed["version"],
        "orderItems": items((product["id"], 3)),
    }
    for headers in CROSS_SITE:
        assert_refused(await seeded.http.put("/order/adjust", json=body, headers=headers))
    now = (await seeded.http.get("/order/get", params={"orderId": placed["id"]})).json()
    assert now["version"] == placed["version"]
    assert now["orderItems"][0]["quantity"] == 1
    adjusted = await seeded.http.put(
        "/order/adjust", json=body, headers={"Origin": seeded.public_url}
    )
    assert adjusted.status_code == 200, adjusted.text
    assert adjusted.json()["orderItems"][0]["quantity"] == 3


async def test_checkout_pay_from_another_site_is_refused(seeded: Shop) -> None:
    oid, _total = await to_payment(seeded)
    before = (await seeded.http.get(f"/checkout/{oid}/state")).json()
    for headers in CROSS_SITE:
        refused = await seeded.http.post(
            f"/checkout/{oid}/pay", json={"tokenType": "WALLET"}, headers=headers
        )
        assert_refused(refused)
    after = (await seeded.http.get(f"/checkout/{oid}/state")).json()
    assert after["step"] == before["step"], "no payment started"


async def test_gift_card_activation_from_another_site_is_refused(shop: Shop) -> None:
    username = await shopper(shop)
    card = await issue(shop, 1500, "csrf-gift-1")
    body = {"activationCode": card["activationCode"]}
    for headers in CROSS_SITE:
        assert_refused(await shop.http.post("/payment/activate", json=body, headers=headers))
    assert [t["tokenType"] for t in (await tokens(shop, username))["tokens"]] == ["WALLET"]
    activated = await shop.http.post(
        "/payment/activate", json=body, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert activated.status_code == 200, activated.text


async def test_the_cart_form_from_another_site_is_refused(seeded: Shop) -> None:
    (product,) = await in_stock(seeded.http, count=1)
    form = {"productId": str(product["id"])}
    for headers in CROSS_SITE:
        assert_refused(await seeded.http.post("/cart/add", data=form, headers=headers))
    assert await orders(seeded) == [], "nothing in a cart"
    added = await seeded.http.post("/cart/add", data=form, headers={"Origin": "http://shop.test"})
    assert added.status_code == 303, added.text


async def test_the_banks_callback_and_service_calls_pass_without_browser_headers(
    shop: Shop,
) -> None:
    answer = await callback(shop, "checkout", notice(), signature="not-a-signature")
    assert answer.status_code != 403, answer.text
    assert answer.json().get("errorMessage") != CROSS_SITE_MESSAGE
    created = await shop.http.post(
        "/billing/token/create",
        json={"amount": 100, "idempotencyKey": "csrf-service-1"},
        headers=service(),
    )
    assert created.status_code == 200, created.text


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_every_state_changing_method_is_checked(shop: Shop, method: str) -> None:
    refused = await shop.http.request(
        method, "/payment/tokens/delete", headers={"Origin": "https://evil.example"}
    )
    assert_refused(refused)


async def test_a_get_from_another_site_still_reads(shop: Shop) -> None:
    response = await shop.http.get(
        "/store/search", params={"q": "чайник"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 200
