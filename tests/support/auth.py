"""A customer through the auth contracts: a registration body, registering, logging in."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.shop import Shop


def new_customer(**overrides: str) -> dict[str, Any]:
    name = f"u{uuid.uuid4().hex[:10]}"
    body = {
        "username": name,
        "firstName": "Алиса",
        "lastName": "Иванова",
        "email": f"{name}@example.ru",
        "phone": "+7 912 345-67-89",
        "password": "correct horse",
    }
    body.update(overrides)
    return body


async def register(shop: Shop, **overrides: str) -> dict[str, Any]:
    body = new_customer(**overrides)
    response = await shop.http.post("/auth/register", json=body)
    assert response.status_code == 200, response.text
    return body


async def login(shop: Shop, body: dict[str, Any]) -> httpx.Response:
    return await shop.http.post(
        "/auth/login", json={"username": body["username"], "password": body["password"]}
    )


async def login_shopper(shop: Shop) -> Shop:
    """A registered, logged-in shopper (the shop's database is a copy of the catalogue
    template: `seeded_sessions`)."""
    await login(shop, await register(shop))
    return shop


async def log_in_new_customer(http: httpx.AsyncClient) -> dict[str, Any]:
    """A new customer registered and logged in on `http`; their registration body."""
    body = new_customer()
    assert (await http.post("/auth/register", json=body)).status_code == 200
    credentials = {"username": body["username"], "password": body["password"]}
    assert (await http.post("/auth/login", json=credentials)).status_code == 200
    return body
