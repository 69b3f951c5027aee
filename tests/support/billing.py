"""Shoppers and money for the billing and payment contract tests: a registered shopper, gift
cards issued and charged through the internal contracts, the shopper's payment means."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.auth import login, register
from tests.support.shop import Shop, service


async def shopper(shop: Shop) -> str:
    """A newly registered shopper (wallet open), logged in; their username."""
    username: str = (await register(shop))["username"]
    await back_as(shop, username)
    return username


async def back_as(shop: Shop, username: str) -> None:
    """Log in as a shopper `shopper` registered (the client holds one session at a time)."""
    response = await login(shop, {"username": username, "password": "correct horse"})
    assert response.status_code == 200, response.text


async def issue(shop: Shop, amount: float, key: str, **extra: str) -> dict[str, Any]:
    response = await shop.http.post(
        "/billing/token/create",
        json={"amount": amount, "idempotencyKey": key, **extra},
        headers=service(),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def charge(shop: Shop, **body: Any) -> httpx.Response:
    return await shop.http.post("/billing/token/charge", json=body, headers=service())


async def tokens(shop: Shop, username: str) -> dict[str, Any]:
    response = await shop.http.get("/billing/token/get", params={"username": username})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
