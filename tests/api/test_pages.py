"""The web front's pages as served (the browser tests drive them in Chromium)."""

from __future__ import annotations

import re

from models.auth import PHONE_PATTERN
from tests.support.auth import login, register
from tests.support.shop import Shop

HTML = {"accept": "text/html"}


async def test_anonymous_header_offers_registration_and_login(shop: Shop) -> None:
    page = (await shop.http.get("/", headers=HTML)).text
    assert 'href="/register">Зарегистрироваться<' in page
    assert 'href="/login">Войти<' in page
    assert "Личный кабинет" not in page


async def test_registration_page_renders_the_servers_own_rules_and_a_disabled_button(
    shop: Shop,
) -> None:
    page = (await shop.http.get("/register", headers=HTML)).text
    for name in ("username", "firstName", "lastName", "email", "phone"):
        assert f'name="{name}"' in page
    assert 'name="password" type="password"' in page
    assert f'pattern="{PHONE_PATTERN}"' in page
    assert re.search(r'<button type="submit" disabled>Зарегистрировать</button>', page)


async def test_account_page_needs_a_login_then_shows_the_wallet(shop: Shop) -> None:
    anonymous = await shop.http.get("/account", headers=HTML)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/account"

    body = await register(shop)
    await login(shop, body)
    page = (await shop.http.get("/account", headers=HTML)).text
    assert body["username"] in page
    assert body["email"] in page
    assert "0,00\u00a0₽" in page


async def test_registration_result_page_tells_the_runs_outcome(shop: Shop) -> None:
    body = await register(shop)
    page = (await shop.http.get(f"/register/done?username={body['username']}", headers=HTML)).text
    assert "Регистрация завершена" in page
    assert body["email"] not in page, "the result page shows nobody's personal data"
    unknown = (await shop.http.get("/register/done?username=ghost", headers=HTML)).text
    assert "Регистрация не найдена" in unknown
    nonsense = await shop.http.get("/register/done?username=%3Cscript%3E", headers=HTML)
    assert nonsense.status_code == 200
    assert "<script>" not in nonsense.text


async def test_logout_page_ends_the_session_and_returns_home(shop: Shop) -> None:
    body = await register(shop)
    await login(shop, body)
    response = await shop.http.post("/logout")
    assert response.status_code == 303
    assert (await shop.http.get("/auth/auth")).status_code == 401


async def test_a_browser_gets_a_russian_error_page_not_json(shop: Shop) -> None:
    response = await shop.http.get("/nowhere", headers=HTML)
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Страница не найдена" in response.text


async def test_search_page_explains_bad_queries_and_unknown_products_are_404(shop: Shop) -> None:
    bad = await shop.http.get("/search?q=", headers=HTML)
    assert bad.status_code == 200
    assert 'role="alert"' in bad.text
    assert "Введите, что вы ищете" in bad.text
    missing = await shop.http.get("/product/424242", headers=HTML)
    assert missing.status_code == 404
    assert "Товар не найден" in missing.text
