"""A session cookie is worth nothing once it is replaced or ended: logging in again rotates it
(the old cookie is refused), and a logged-out cookie replayed is refused."""

from __future__ import annotations

import httpx

from edge.session import SESSION_COOKIE
from tests.support.auth import login, register
from tests.support.shop import Shop


async def whoami_with(shop: Shop, token: str) -> httpx.Response:
    """GET /auth/auth carrying only the session cookie `token` (as someone who copied it)."""
    kept = dict(shop.http.cookies)
    shop.http.cookies.clear()
    shop.http.cookies.set(SESSION_COOKIE, token)
    try:
        return await shop.http.get("/auth/auth")
    finally:
        shop.http.cookies.clear()
        for name, value in kept.items():
            shop.http.cookies.set(name, value)


async def test_logging_in_again_rotates_the_session_and_the_old_cookie_is_refused(
    shop: Shop,
) -> None:
    customer = await register(shop)
    assert (await login(shop, customer)).status_code == 200
    first = shop.http.cookies[SESSION_COOKIE]
    assert (await login(shop, customer)).status_code == 200
    second = shop.http.cookies[SESSION_COOKIE]
    assert second != first
    replayed = await whoami_with(shop, first)
    assert replayed.status_code == 401
    assert (await shop.http.get("/auth/auth")).status_code == 200


async def test_a_logged_out_cookie_replayed_is_refused(shop: Shop) -> None:
    customer = await register(shop)
    assert (await login(shop, customer)).status_code == 200
    stolen = shop.http.cookies[SESSION_COOKIE]
    assert (await shop.http.post("/logout")).status_code == 303
    replayed = await whoami_with(shop, stolen)
    assert replayed.status_code == 401
