"""The auth contracts of spec section 4: fields, cookies and every status code."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from core.db import SessionFactory, transaction
from edge.app import create_app
from flows.engine import LazyTemporalClient
from models.auth import User
from tests.support.auth import login, new_customer, register
from tests.support.shop import Shop, api_settings
from workflows.policies import CUSTOMER_ID, FLOW_STATUS


async def whoami(shop: Shop, token: str) -> httpx.Response:
    """GET /auth/auth with exactly this session id (the client's jar is replaced)."""
    shop.http.cookies.clear()
    shop.http.cookies.set("sessionId", token, domain="shop.test")
    return await shop.http.get("/auth/auth")


async def test_register_answers_the_user_and_runs_the_whole_registration(shop: Shop) -> None:
    body = new_customer()
    response = await shop.http.post("/auth/register", json=body)

    assert response.status_code == 200
    assert response.json() == {
        "username": body["username"],
        "firstName": "Алиса",
        "lastName": "Иванова",
        "email": body["email"],
        "phone": "+79123456789",
    }
    assert [m.to for m in shop.mailer.sent] == [body["email"]]
    handle = shop.env.client.get_workflow_handle(f"registration-{body['username']}")
    described = await handle.describe()
    assert described.status == WorkflowExecutionStatus.COMPLETED
    assert described.typed_search_attributes.get(CUSTOMER_ID) == body["username"]
    assert described.typed_search_attributes.get(FLOW_STATUS) == "COMPLETED"


async def test_register_without_required_fields_is_400_naming_them(shop: Shop) -> None:
    response = await shop.http.post("/auth/register", json={"firstName": "Алиса"})
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert {"username", "password", "email"} <= set(fields)
    assert "errorMessage" in response.json()


async def test_register_with_malformed_fields_is_400_per_field(shop: Shop) -> None:
    response = await shop.http.post(
        "/auth/register", json=new_customer(email="nope", phone="12", password="short")
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email", "phone", "password"}


async def test_register_rejects_non_json_bodies_cleanly(shop: Shop) -> None:
    response = await shop.http.post(
        "/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "errorMessage" in response.json()


async def test_second_registration_of_username_or_email_is_409_and_creates_nothing(
    shop: Shop,
) -> None:
    first = await register(shop)
    same_name = new_customer(username=first["username"])
    same_mail = new_customer(email=first["email"])

    for body, field in ((same_name, "username"), (same_mail, "email")):
        response = await shop.http.post("/auth/register", json=body)
        assert response.status_code == 409
        assert field in response.json()["fields"]
    assert len(shop.mailer.sent) == 1
    no_run = shop.env.client.get_workflow_handle(f"registration-{same_mail['username']}")
    with pytest.raises(RPCError) as caught:
        await no_run.describe()
    assert caught.value.status == RPCStatusCode.NOT_FOUND


async def test_login_sets_an_httponly_session_cookie_and_auth_answers_the_user(shop: Shop) -> None:
    body = await register(shop)
    response = await login(shop, body)

    assert response.status_code == 200
    assert response.json()["username"] == body["username"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("sessionId=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    me = await shop.http.get("/auth/auth")
    assert me.status_code == 200
    assert me.json()["firstName"] == "Алиса"


async def test_login_status_codes(shop: Shop) -> None:
    body = await register(shop)
    missing = await shop.http.post("/auth/login", json={"username": body["username"]})
    unknown = await shop.http.post("/auth/login", json={"username": "nobody_here", "password": "x"})
    wrong = await shop.http.post(
        "/auth/login", json={"username": body["username"], "password": "wrong"}
    )

    assert missing.status_code == 400
    assert unknown.status_code == 404
    assert wrong.status_code == 401
    assert wrong.json() == {"errorMessage": "Неверный логин или пароль"}
    assert "set-cookie" not in wrong.headers


async def test_login_rotates_the_session_so_the_old_id_stops_working(shop: Shop) -> None:
    body = await register(shop)
    await login(shop, body)
    old = shop.http.cookies["sessionId"]
    await login(shop, body)
    new = shop.http.cookies["sessionId"]

    assert new != old
    stale = await whoami(shop, old)
    assert stale.status_code == 401


async def test_logout_empties_the_cookie_and_ends_the_session_server_side(shop: Shop) -> None:
    body = await register(shop)
    await login(shop, body)
    token = shop.http.cookies["sessionId"]

    response = await shop.http.get("/auth/logout")
    assert response.status_code == 200
    assert 'sessionId=""' in response.headers["set-cookie"]
    replayed = await whoami(shop, token)
    assert replayed.status_code == 401


async def test_auth_without_a_session_is_401(shop: Shop) -> None:
    assert (await shop.http.get("/auth/auth")).status_code == 401
    forged = await whoami(shop, "forged")
    assert forged.status_code == 401


async def test_a_removed_users_session_no_longer_authenticates(shop: Shop) -> None:
    body = await register(shop)
    await login(shop, body)
    token = shop.http.cookies["sessionId"]
    async with transaction(shop.sessions) as session:
        await session.exec(delete(User).where(User.username == body["username"]))
    response = await whoami(shop, token)
    assert response.status_code == 401


async def test_register_answers_202_while_no_worker_runs(
    sessions: SessionFactory, dev_server_env: WorkflowEnvironment
) -> None:
    app = create_app(
        api_settings(registration_wait_seconds=0.5),
        session_factory=sessions,
        temporal=LazyTemporalClient.of(dev_server_env.client),
    )
    body = new_customer()
    handle = dev_server_env.client.get_workflow_handle(f"registration-{body['username']}")
    result_page = f"/register/done?username={body['username']}"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as http:
        response = await http.post("/auth/register", json=body)
        assert response.status_code == 202
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        waiting = (await http.get(result_page, headers={"accept": "text/html"})).text
        await handle.terminate("test cleanup")
        ended = (await http.get(result_page, headers={"accept": "text/html"})).text
    assert "Регистрация выполняется" in waiting
    assert "ожидает обработки" in waiting
    assert "Регистрация не удалась" in ended


async def test_unknown_path_is_404_in_the_error_shape(shop: Shop) -> None:
    response = await shop.http.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json() == {"errorMessage": "Страница не найдена"}
