"""Logging out: the page's «Выйти» is a POST form; a GET (which any other site can make the
browser send) ends nothing, and the spec's GET /auth/logout is refused from another site."""

from __future__ import annotations

from edge.csrf import CROSS_SITE_MESSAGE
from tests.support.auth import login, register
from tests.support.shop import Shop

CROSS = {"Sec-Fetch-Site": "cross-site"}


async def logged_in(shop: Shop) -> Shop:
    response = await login(shop, await register(shop))
    assert response.status_code == 200, response.text
    return shop


async def test_a_get_of_the_logout_page_ends_nothing(shop: Shop) -> None:
    await logged_in(shop)
    for headers in (CROSS, {}):
        response = await shop.http.get("/logout", headers=headers)
        assert response.status_code == 303
        assert response.headers["location"] == "/"
        assert (await shop.http.get("/auth/auth")).status_code == 200, "still logged in"


async def test_a_logout_post_from_another_site_is_refused(shop: Shop) -> None:
    await logged_in(shop)
    for headers in (CROSS, {"Origin": "http://evil.example"}):
        response = await shop.http.post("/logout", headers=headers)
        assert response.status_code == 403
        assert response.json() == {"errorMessage": CROSS_SITE_MESSAGE}
    assert (await shop.http.get("/auth/auth")).status_code == 200, "still logged in"


async def test_the_logout_form_ends_the_session(shop: Shop) -> None:
    await logged_in(shop)
    page = await shop.http.get("/", headers={"accept": "text/html"})
    assert '<form class="logout" method="post" action="/logout">' in page.text
    assert 'href="/logout"' not in page.text
    response = await shop.http.post("/logout", headers={"Origin": "http://shop.test"})
    assert response.status_code == 303
    assert response.headers["location"] == "/?loggedOut=1"
    assert (await shop.http.get("/auth/auth")).status_code == 401


async def test_the_spec_logout_from_another_site_is_refused(shop: Shop) -> None:
    await logged_in(shop)
    response = await shop.http.get("/auth/logout", headers=CROSS)
    assert response.status_code == 403
    assert (await shop.http.get("/auth/auth")).status_code == 200, "still logged in"
    assert (await shop.http.get("/auth/logout")).status_code == 200
    assert (await shop.http.get("/auth/auth")).status_code == 401
