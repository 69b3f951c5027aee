"""Single sign-on through the OpenID Connect provider emulator (a real provider process): a new
identity registers (the Registration workflow: wallet and all) and signs in again to the same
account; an account with the identity's verified e-mail is linked only with its password; and
every failure — a state of another browser or used twice, a replayed code, a nonce that does not
match, refused consent, the provider down — ends on a Russian page, never a 500 nor a session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory, transaction
from models.sso import SsoAttempt
from services import billing
from tests.conftest import BankEmulator, OidcEmulator, free_ports
from tests.support.auth import new_customer, register
from tests.support.errors import assert_error
from tests.support.shop import Shop, open_shop
from tests.support.sso import (
    HTML,
    TITLE,
    authorize,
    new_identity,
    provider_settings,
    sign_in,
    to_provider,
)


@pytest.fixture
async def shop(
    sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
    oidc_provider: OidcEmulator,
) -> AsyncIterator[Shop]:
    async with open_shop(
        sessions,
        dev_server_env,
        couriers_url,
        bank_emulator,
        sso_providers=provider_settings(oidc_provider.issuer),
    ) as running:
        yield running


async def me(http: httpx.AsyncClient) -> str | None:
    response = await http.get("/auth/auth")
    return str(response.json()["username"]) if response.status_code == 200 else None


async def complete(shop: Shop, **fields: str) -> httpx.Response:
    body = new_customer() | fields
    body.pop("password")
    return await shop.http.post("/auth/sso/complete", json=body)


async def test_a_new_identity_registers_then_signs_in_to_the_same_account(
    shop: Shop, oidc_provider: OidcEmulator
) -> None:
    sub = new_identity(oidc_provider, phone_number="+7 903 111-22-33")
    back = await sign_in(shop.http, sub, next_url="/account")
    assert (back.status_code, back.headers["location"]) == (303, "/auth/sso/register")
    assert await me(shop.http) is None, "no account yet, so no session"
    form = await shop.http.get("/auth/sso/register", headers=HTML)
    assert "Регистрация через Тестовый ID" in form.text
    assert f"{sub}@mail.example" in form.text
    assert "Борис" in form.text

    # The shopper types a login; the rest came from the provider (the e-mail stays its own).
    done = await complete(shop, email="another@example.ru", phone="+7 903 111-22-33")
    assert done.status_code == 200, done.text
    username = done.json()["username"]
    assert done.json()["next"] == "/account"
    assert await me(shop.http) == username
    async with transaction(shop.sessions) as session:
        wallet = await billing.get_wallet(session=session, username=username)
    assert wallet.balance_kopecks == 0
    account = (await shop.http.get("/auth/auth")).json()
    assert account["email"] == f"{sub}@mail.example"
    assert [m.subject for m in shop.mailer.sent if m.to == account["email"]], "welcome mail"

    await shop.http.post("/logout")
    assert await me(shop.http) is None
    again = await sign_in(shop.http, sub)
    assert (again.status_code, again.headers["location"]) == (303, "/")
    assert await me(shop.http) == username
    linked = (await shop.http.get("/auth/sso/linked")).json()
    assert linked == [{"key": "mock", "title": TITLE, "email": f"{sub}@mail.example"}]


async def test_a_state_from_another_browser_is_refused(
    shop: Shop, oidc_provider: OidcEmulator
) -> None:
    sub = new_identity(oidc_provider)
    callback = await authorize(await to_provider(shop.http), sub)
    shop.http.cookies.set("ssoState", "not-the-one-we-sent", domain="shop.test")
    answer = await shop.http.get(callback, headers=HTML)
    assert answer.status_code == 401
    assert "Ссылка входа устарела или уже использована" in answer.text
    assert "Traceback" not in answer.text
    assert await me(shop.http) is None


async def test_a_callback_works_once(shop: Shop, oidc_provider: OidcEmulator) -> None:
    sub = new_identity(oidc_provider)
    callback = await authorize(await to_provider(shop.http), sub)
    assert (await shop.http.get(callback, headers=HTML)).status_code == 303
    replayed = await shop.http.get(callback, headers=HTML)
    assert replayed.status_code == 401
    assert "уже использована" in replayed.text


async def test_a_replayed_code_is_refused_by_the_provider(
    shop: Shop, oidc_provider: OidcEmulator
) -> None:
    sub = new_identity(oidc_provider)
    first = await authorize(await to_provider(shop.http), sub)
    assert (await shop.http.get(first, headers=HTML)).status_code == 303
    code = httpx.URL(first).params["code"]
    # A fresh sign-in of this browser (its state is good), presented with the used code.
    fresh = httpx.URL(await authorize(await to_provider(shop.http), sub))
    replay = fresh.copy_set_param("code", code)
    answer = await shop.http.get(f"{replay.path}?{replay.query.decode()}", headers=HTML)
    assert answer.status_code == 401
    assert "Код входа истёк или уже использован" in answer.text


async def test_an_id_token_for_another_nonce_is_refused(
    shop: Shop, oidc_provider: OidcEmulator
) -> None:
    sub = new_identity(oidc_provider)
    callback = await authorize(await to_provider(shop.http), sub)
    async with transaction(shop.sessions) as session:  # the nonce we keep is not the one sent
        for attempt in (await session.exec(select(SsoAttempt))).all():
            attempt.nonce = "a-nonce-the-provider-never-saw"
            session.add(attempt)
    answer = await shop.http.get(callback, headers=HTML)
    assert answer.status_code == 401
    assert f"Ответ {TITLE} не прошёл проверку" in answer.text
    assert await me(shop.http) is None


async def test_refused_consent_ends_on_a_clear_page(
    shop: Shop, oidc_provider: OidcEmulator
) -> None:
    callback = await authorize(await to_provider(shop.http), "", deny=True)
    answer = await shop.http.get(callback, headers=HTML)
    assert answer.status_code == 401
    assert f"Вход через {TITLE} отменён" in answer.text


async def test_the_provider_down_ends_on_a_clear_page(
    sessions: SessionFactory,
    dev_server_env: WorkflowEnvironment,
    couriers_url: str,
    bank_emulator: BankEmulator,
) -> None:
    (closed,) = free_ports(1)  # nothing listens there
    async with open_shop(
        sessions,
        dev_server_env,
        couriers_url,
        bank_emulator,
        sso_providers=provider_settings(f"http://127.0.0.1:{closed}"),
    ) as down:
        answer = await down.http.get("/auth/sso/mock/start", headers=HTML)
        assert answer.status_code == 503
        assert f"{TITLE} сейчас не отвечает" in answer.text
        assert "Traceback" not in answer.text
        assert "ConnectError" not in answer.text


async def test_an_existing_account_is_linked_only_with_its_password(
    shop: Shop, oidc_provider: OidcEmulator
) -> None:
    local = await register(shop)
    sub = new_identity(oidc_provider, email=local["email"].upper())
    back = await sign_in(shop.http, sub)
    assert (back.status_code, back.headers["location"]) == (303, "/auth/sso/link")
    page = await shop.http.get("/auth/sso/link", headers=HTML)
    assert local["email"] in page.text

    wrong = await shop.http.post("/auth/sso/link", json={"password": "not the password"})
    assert_error(wrong, 400, "password")
    assert await me(shop.http) is None
    right = await shop.http.post("/auth/sso/link", json={"password": local["password"]})
    assert right.status_code == 200, right.text
    assert await me(shop.http) == local["username"]

    await shop.http.post("/logout")
    again = await sign_in(shop.http, sub)
    assert again.headers["location"] == "/"
    assert await me(shop.http) == local["username"], "the same local account"


async def test_an_unverified_email_is_never_linked(shop: Shop, oidc_provider: OidcEmulator) -> None:
    local = await register(shop)
    sub = new_identity(oidc_provider, email=local["email"], email_verified=False)
    back = await sign_in(shop.http, sub)
    assert back.headers["location"] == "/auth/sso/register", "not offered the account"
    taken = await complete(shop, email=local["email"])
    assert_error(taken, 409, "email")


async def test_unlinking_keeps_a_way_in(shop: Shop, oidc_provider: OidcEmulator) -> None:
    sub = new_identity(oidc_provider)
    await sign_in(shop.http, sub)
    assert (await complete(shop)).status_code == 200
    only = await shop.http.post("/auth/sso/mock/unlink")
    assert_error(only, 409)
    assert "единственный способ входа" in only.json()["errorMessage"]

    # An account with a password may drop its provider; the next sign-in must link again.
    local = await register(shop)
    linked = new_identity(oidc_provider, email=local["email"])
    await shop.http.post("/logout")
    await sign_in(shop.http, linked)
    await shop.http.post("/auth/sso/link", json={"password": local["password"]})
    assert (await shop.http.post("/auth/sso/mock/unlink")).status_code == 200
    assert (await shop.http.get("/auth/sso/linked")).json() == []
    await shop.http.post("/logout")
    assert (await sign_in(shop.http, linked)).headers["location"] == "/auth/sso/link"


async def test_buttons_only_for_configured_providers(shop: Shop, sessions: SessionFactory) -> None:
    login = await shop.http.get("/login", headers=HTML)
    assert f"Войти через {TITLE}" in login.text
    assert f"Войти через {TITLE}" in (await shop.http.get("/register", headers=HTML)).text
    from edge.app import create_app
    from tests.support.shop import api_settings

    plain = create_app(api_settings(), session_factory=sessions)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=plain), base_url="http://shop.test"
    ) as http:
        assert "Войти через" not in (await http.get("/login", headers=HTML)).text
        unknown = await http.get("/auth/sso/mock/start", headers=HTML)
        assert unknown.status_code == 404


async def test_an_account_without_a_password_sets_its_first(
    shop: Shop, oidc_provider: OidcEmulator
) -> None:
    sub = new_identity(oidc_provider)
    await sign_in(shop.http, sub)
    done = await complete(shop)
    username = done.json()["username"]
    form = await shop.http.get("/account", headers=HTML)
    assert "Задать пароль" in form.text
    assert 'name="currentPassword"' not in form.text
    guessed = {"username": username, "password": "any password at all"}
    assert_error(await shop.http.post("/auth/login", json=guessed), 401)  # no password matches

    first = await shop.http.put("/auth/password", json={"newPassword": "a new password"})
    assert first.status_code == 200, first.text
    # Now the password is a way in: the provider may go, and the login works.
    assert (await shop.http.post("/auth/sso/mock/unlink")).status_code == 200
    await shop.http.post("/logout")
    login = await shop.http.post(
        "/auth/login", json={"username": username, "password": "a new password"}
    )
    assert login.status_code == 200, login.text
    # From here on the current password is asked for.
    again = await shop.http.put("/auth/password", json={"newPassword": "another password"})
    assert_error(again, 400, "currentPassword")
