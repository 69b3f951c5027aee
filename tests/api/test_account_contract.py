"""«Личный кабинет» contracts: PUT /auth/profile, PUT /auth/password, POST /auth/email and
/auth/email/confirm (the EmailChange run on the real dev server, the link read from the mail),
GET /auth/sessions and POST /auth/sessions/end-others; every refusal in the spec's error shape."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.db import transaction
from services import notification
from tests.support.auth import login, register
from tests.support.errors import assert_error
from tests.support.mail_links import confirmation_links
from tests.support.shop import Shop

pytestmark = pytest.mark.timeout(90)


async def _two_sessions(shop: Shop) -> tuple[dict[str, Any], str, str]:
    """A registered shopper logged in twice (as from two devices); returns both tokens."""
    body = await register(shop)
    tokens = []
    for _ in range(2):
        shop.http.cookies.clear()
        assert (await login(shop, body)).status_code == 200
        tokens.append(shop.http.cookies["sessionId"])
    return body, tokens[0], tokens[1]


def _as(shop: Shop, token: str) -> None:
    shop.http.cookies.clear()
    shop.http.cookies.set("sessionId", token)


async def test_profile_changes_at_once_with_the_registration_rules(shop: Shop) -> None:
    await login(shop, await register(shop))
    bad = await shop.http.put(
        "/auth/profile", json={"firstName": "R2-D2", "lastName": "", "phone": "12"}
    )
    assert_error(bad, 400, "firstName", "phone")
    ok = await shop.http.put(
        "/auth/profile", json={"firstName": " Мария ", "lastName": "", "phone": "8 900 111-22-33"}
    )
    assert ok.status_code == 200, ok.text
    me = (await shop.http.get("/auth/auth")).json()
    assert (me["firstName"], me["lastName"], me["phone"]) == ("Мария", "", "+79001112233")
    shop.http.cookies.clear()
    assert_error(await shop.http.put("/auth/profile", json={}), 401)


async def test_password_change_checks_the_current_and_ends_the_other_sessions(shop: Shop) -> None:
    body, stolen, mine = await _two_sessions(shop)
    _as(shop, mine)
    wrong = await shop.http.put(
        "/auth/password", json={"currentPassword": "nope", "newPassword": "new password 1"}
    )
    assert_error(wrong, 400, "currentPassword")
    short = await shop.http.put(
        "/auth/password", json={"currentPassword": body["password"], "newPassword": "short"}
    )
    assert_error(short, 400, "newPassword")
    changed = await shop.http.put(
        "/auth/password",
        json={"currentPassword": body["password"], "newPassword": "new password 1"},
    )
    assert changed.json() == {"ended": 1}
    assert (await shop.http.get("/auth/auth")).status_code == 200
    _as(shop, stolen)
    assert_error(await shop.http.get("/auth/auth"), 401)
    shop.http.cookies.clear()
    assert_error(await login(shop, body), 401)
    assert (await login(shop, {**body, "password": "new password 1"})).status_code == 200


async def test_sessions_are_listed_without_secrets_and_the_others_end(shop: Shop) -> None:
    _, other, mine = await _two_sessions(shop)
    _as(shop, mine)
    listed = await shop.http.get("/auth/sessions")
    assert listed.status_code == 200
    sessions = listed.json()["sessions"]
    assert [s["current"] for s in sessions] == [True, False]
    assert set(sessions[0]) == {"startedAt", "lastUsedAt", "expiresAt", "current"}
    assert other not in listed.text
    assert mine not in listed.text
    assert (await shop.http.post("/auth/sessions/end-others")).json() == {"ended": 1}
    assert len((await shop.http.get("/auth/sessions")).json()["sessions"]) == 1
    _as(shop, other)
    assert_error(await shop.http.get("/auth/sessions"), 401)
    assert_error(await shop.http.post("/auth/sessions/end-others"), 401)


async def test_email_changes_once_the_newest_mailed_link_is_followed(shop: Shop) -> None:
    neighbour = await register(shop)
    body = await register(shop)
    await login(shop, body)
    own = await shop.http.post("/auth/email", json={"email": body["email"]})
    assert_error(own, 400, "email")
    taken = await shop.http.post("/auth/email", json={"email": neighbour["email"].upper()})
    assert_error(taken, 409, "email")
    assert_error(await shop.http.post("/auth/email", json={"email": "not an address"}), 400)

    first, second = f"first-{body['email']}", f"second-{body['email']}"
    for address in (first, second):
        asked = await shop.http.post("/auth/email", json={"email": address})
        assert asked.status_code == 202, asked.text
        assert asked.json()["status"] == "WAITING"
        assert asked.json()["newEmail"] == address
    handle = shop.env.client.get_workflow_handle(f"email-change-{body['username']}")
    links: list[list[dict[str, Any]]] = []
    for address in (first, second):
        for _ in range(100):  # the run mails each link right after answering
            if confirmation_links(shop, address):
                break
            await asyncio.sleep(0.05)
        links.append(confirmation_links(shop, address))
    (old,), (new,) = links
    history = await handle.fetch_history()
    assert new["token"] not in history.to_json(), "the token never enters the history"

    forged = await shop.http.post("/auth/email/confirm", json={**new, "token": "A" * 43})
    assert_error(forged, 400)
    assert_error(await shop.http.post("/auth/email/confirm", json={"counter": "x"}), 400)
    assert_error(await shop.http.post("/auth/email/confirm", json=old), 409)
    shop.http.cookies.clear()  # the link needs no session: it may be opened on another device
    confirmed = await shop.http.post("/auth/email/confirm", json=new)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "CHANGED"
    assert_error(await shop.http.post("/auth/email/confirm", json=new), 409)

    await login(shop, body)
    assert (await shop.http.get("/auth/auth")).json()["email"] == second
    async with transaction(shop.sessions) as session:
        assert await notification.email_address(session=session, username=body["username"]) == (
            second
        )
