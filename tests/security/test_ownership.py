"""Ownership (IDOR) as one suite: every endpoint and page that takes an id of an order, a
checkout, a saved card or gift card, a purchase (or billing's username) answers 404 to a shopper
it does not belong to — the store never confirms another shopper's thing exists — shows none of
its data, and changes nothing (the owner's orders, checkout, fulfilment, purchase, cards, wallet
and stock read the same after). A shopper who is not an operator gets 403 from the operators'
area; a client without a session gets 401 from the contracts and the login page from the pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from core.money import format_roubles, to_kopecks
from tests.api.test_my_orders import paid_order
from tests.support.auth import login, register
from tests.support.billing import back_as, issue
from tests.support.cards import remembered_card
from tests.support.checkout import balance, post, to_payment
from tests.support.errors import assert_error
from tests.support.orders import items, place
from tests.support.shop import Shop
from tests.support.stock import stock_of

GRANTEE = {"granteeName": "Мария", "granteeEmail": "maria@example.ru", "design": "flowers"}
BROWSER = {"Origin": "http://shop.test"}  # the store's own page: what the CSRF defence lets by


@dataclass(frozen=True)
class Call:
    """One request to an endpoint (a page: as a browser asks for it)."""

    method: str
    url: str
    json: dict[str, Any] | None = None
    params: dict[str, str | int] | None = None
    form: dict[str, str] | None = None
    page: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.url} {self.params or ''}".strip()

    async def send(self, http: httpx.AsyncClient) -> httpx.Response:
        headers = {**BROWSER, "Accept": "text/html"} if self.page else BROWSER
        return await http.request(
            self.method,
            self.url,
            json=self.json,
            params=self.params,
            data=self.form,
            headers=headers,
        )


@dataclass(frozen=True)
class Owned:
    """Shopper A's things: the cart (NEW), an order at checkout (pickup chosen), a paid order
    being picked, a remembered bank card, an activated gift card, a gift card purchase awaiting
    «Оплатить»."""

    username: str
    cart: dict[str, Any]
    checkout_id: str
    paid_id: str
    totals: tuple[float, ...]
    card_id: int
    gift_card_id: int
    purchase_id: str
    point_id: int

    def secrets(self) -> list[str]:
        """What must not show in an answer to anyone else: the ids, the owner, the amounts."""
        ids = [self.username, *self.order_ids(), self.purchase_id]
        return ids + [format_roubles(to_kopecks(str(total))) for total in self.totals]

    def api_calls(self) -> list[Call]:
        cart, checkout, paid, purchase = (
            self.cart["id"],
            f"/checkout/{self.checkout_id}",
            {"id": self.paid_id},
            f"/purchase/{self.purchase_id}",
        )
        change = {"id": cart, "version": self.cart["version"]}
        more = items((self.cart["orderItems"][0]["product"]["id"], 2))
        wallet = {"method": "WALLET"}
        return [
            Call("GET", "/order/get", params={"orderId": cart}),
            Call("PUT", "/order/adjust", json={**change, "orderItems": more}),
            Call("PUT", "/order/cancel", json=change),
            Call("PUT", "/order/process", json=change),
            Call("GET", "/order/timeline", params={"orderId": self.paid_id}),
            Call("POST", "/order/cancel-paid", json=paid),
            Call("GET", f"{checkout}/state"),
            Call("POST", f"{checkout}/delivery", json=self.pickup()),
            Call("POST", f"{checkout}/confirm-delivery-cost", json={"cost": 0}),
            Call("POST", f"{checkout}/pay", json=wallet),
            Call("POST", f"{checkout}/leave-bank-page", json={}),
            Call("POST", f"{checkout}/back", json={}),
            Call("POST", "/payment/pay", json={"orderId": self.checkout_id, "tokenType": "WALLET"}),
            Call("DELETE", "/payment/tokens/delete", params=self.token("BANK_CARD", self.card_id)),
            Call(
                "DELETE",
                "/payment/tokens/delete",
                params=self.token("GIFT_CARD", self.gift_card_id),
            ),
            Call("GET", "/billing/token/get", params={"username": self.username}),
            Call("POST", "/billing/trxn/get", json={"username": self.username}),
            Call("GET", f"{purchase}/state"),
            Call("POST", f"{purchase}/pay", json=wallet),
            Call("POST", f"{purchase}/leave-bank-page", json={}),
        ]

    def page_calls(self) -> list[Call]:
        urls = [
            f"/orders/{self.paid_id}",
            f"/orders/{self.cart['id']}",
            f"/checkout/{self.checkout_id}",
            f"/checkout/{self.checkout_id}/result",
            f"/checkout/{self.checkout_id}/return",
            f"/purchase/{self.purchase_id}",
            f"/purchase/{self.purchase_id}/return",
        ]
        cancel = Call("POST", f"/orders/{self.paid_id}", page=True)  # «Отменить заказ»
        return [Call("GET", url, page=True) for url in urls] + [cancel]

    def operator_calls(self) -> list[Call]:
        api, page = f"/operator/orders/{self.paid_id}", f"/operator/order/{self.paid_id}"
        move, reason = {"stage": "SENT_TO_PICKUP_POINT"}, {"reason": "не моё"}
        return [
            Call("GET", "/operator/orders"),
            Call("GET", api),
            Call("POST", f"{api}/advance", json=move),
            Call("POST", f"{api}/cancel", json=reason),
            Call("GET", "/operator", page=True),
            Call("GET", page, page=True),
            Call("POST", f"{page}/advance", form=move, page=True),
            Call("POST", f"{page}/cancel", form=reason, page=True),
        ]

    def order_ids(self) -> tuple[str, str, str]:
        return self.cart["id"], self.checkout_id, self.paid_id

    def pickup(self) -> dict[str, Any]:
        return {"kind": "PICKUP", "pickupPointId": self.point_id}

    @staticmethod
    def token(kind: str, token_id: int) -> dict[str, str | int]:
        return {"tokenType": kind, "id": token_id}


async def owned_by(shop: Shop) -> Owned:
    """The things of the shop's logged-in shopper (A)."""
    username: str = (await shop.http.get("/auth/auth")).json()["username"]
    paid_id, paid_total = await paid_order(shop)  # funds the wallet first
    checkout_id, checkout_total = await to_payment(shop)
    checkout = (await shop.http.get("/order/get", params={"orderId": checkout_id})).json()
    cart = await place(shop.http, (checkout["orderItems"][0]["product"]["id"], 1))
    gift = await issue(shop, 700, f"ownership-{uuid.uuid4().hex}")
    activated = await post(
        shop.http, "/payment/activate", {"activationCode": gift["activationCode"]}
    )
    assert activated.status_code == 200, activated.text
    purchase = await post(shop.http, "/purchase/giftcard", {**GRANTEE, "amount": 1500})
    assert purchase.status_code == 200, purchase.text
    points = (await shop.http.get("/delivery/points")).json()["pickupPoints"]
    return Owned(
        username=username,
        cart=cart,
        checkout_id=checkout_id,
        paid_id=paid_id,
        totals=(paid_total, checkout_total, float(cart["total"]), 1500.0),
        card_id=await remembered_card(shop.sessions, shop.bank, username),
        gift_card_id=activated.json()["id"],
        purchase_id=purchase.json()["purchaseId"],
        point_id=points[-1]["id"],
    )


async def snapshot(shop: Shop, owned: Owned) -> dict[str, Any]:
    """All of A's things as A reads them (the client logged in as A)."""
    reads = [
        *(("/order/get", {"orderId": oid}) for oid in owned.order_ids()),
        ("/order/timeline", {"orderId": owned.paid_id}),
        (f"/checkout/{owned.checkout_id}/state", {}),
        (f"/purchase/{owned.purchase_id}/state", {}),
        ("/payment/tokens/get", {}),
    ]
    seen: dict[str, Any] = {}
    for url, params in reads:
        response = await shop.http.get(url, params=params)
        assert response.status_code == 200, f"{url} {params}: {response.text}"
        seen[f"{url} {params}"] = response.json()
    products = {
        line["product"]["id"]
        for key, order in seen.items()
        if key.startswith("/order/get")
        for line in order["orderItems"]
    }
    seen["stock"] = {pid: await stock_of(shop.sessions, pid) for pid in sorted(products)}
    seen["wallet"] = await balance(shop)
    return seen


def answered(call: Call, response: httpx.Response, status: int, secrets: list[str]) -> str:
    """'' if `response` is `status` in the right shape (a page for a browser's GET; else a page or
    the spec's error body) and shows none of `secrets`; else what the endpoint answered."""
    html = response.headers.get("content-type", "").startswith("text/html")
    try:
        assert response.status_code == status
        assert html or not (call.page and call.method == "GET"), "a browser's GET: a page"
        if not html:
            assert_error(response, status)
        assert not [secret for secret in secrets if secret in response.text]
    except (AssertionError, ValueError):
        return f"{call}: {response.status_code} {response.text[:300]}"
    return ""


async def wrong_answers(
    http: httpx.AsyncClient, calls: list[Call], status: int, secrets: list[str]
) -> list[str]:
    """Every call that did not answer `status` (one line per endpoint, naming it)."""
    found = [answered(call, await call.send(http), status, secrets) for call in calls]
    return [line for line in found if line]


async def test_another_shoppers_things_are_not_found_through_any_endpoint(seeded: Shop) -> None:
    owned = await owned_by(seeded)
    before = await snapshot(seeded, owned)
    await login(seeded, await register(seeded))  # the same browser, now shopper B

    calls = owned.api_calls() + owned.page_calls()
    leaks = await wrong_answers(seeded.http, calls, 404, owned.secrets())

    assert not leaks, "answered other than 404:\n" + "\n".join(leaks)
    await back_as(seeded, owned.username)
    assert await snapshot(seeded, owned) == before, "A's things changed"


async def test_a_shopper_who_is_not_an_operator_is_refused_the_operators_area(
    seeded: Shop,
) -> None:
    owned = await owned_by(seeded)
    before = await snapshot(seeded, owned)

    # The owner themself: the operators' moves would skip the shopper's rules (cancel only while
    # picked), so owning the order must not open them.
    refused = await wrong_answers(seeded.http, owned.operator_calls(), 403, owned.secrets())

    assert not refused, "answered other than 403:\n" + "\n".join(refused)
    assert await snapshot(seeded, owned) == before, "the shopper's things changed"


async def test_a_client_without_a_session_is_asked_to_log_in_everywhere(seeded: Shop) -> None:
    owned = await owned_by(seeded)
    before = await snapshot(seeded, owned)
    seeded.http.cookies.clear()

    api = [call for call in owned.api_calls() + owned.operator_calls() if not call.page]
    unauthorized = await wrong_answers(seeded.http, api, 401, owned.secrets())
    pages = [call for call in owned.page_calls() + owned.operator_calls() if call.page]
    to_login = [
        f"{call}: {response.status_code} {response.headers.get('location')}"
        for call in pages
        if (response := await call.send(seeded.http)).status_code != 303
        or not response.headers["location"].startswith("/login?next=")
    ]

    assert not unauthorized, "answered other than 401:\n" + "\n".join(unauthorized)
    assert not to_login, "not sent to the login page:\n" + "\n".join(to_login)
    await back_as(seeded, owned.username)
    assert await snapshot(seeded, owned) == before, "A's things changed"
