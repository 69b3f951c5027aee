"""Orders through the order contracts: products in stock, an order's items, placing one."""

from __future__ import annotations

from typing import Any

import httpx


async def in_stock(
    http: httpx.AsyncClient, query: str = "чайник", *, count: int = 2
) -> list[dict[str, Any]]:
    """Cards of products available somewhere."""
    page = (await http.get("/store/search", params={"q": query, "pageSize": 60})).json()
    found = [c for c in page["items"] if sum(p["quantity"] for p in c["productPlaces"]) >= 3]
    return found[:count]


def items(*pairs: tuple[int, int]) -> list[dict[str, Any]]:
    return [{"product": {"id": pid}, "quantity": qty} for pid, qty in pairs]


async def place(http: httpx.AsyncClient, *pairs: tuple[int, int]) -> dict[str, Any]:
    response = await http.post("/order/place", json={"orderItems": items(*pairs)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
