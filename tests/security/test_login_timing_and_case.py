"""Logins are one whatever their case (registration refuses a case twin, login takes any case);
argon2 runs off the event loop at login, for an unknown login too (against a dummy hash); stored
hashes are argon2id with services/auth.py's parameters; the session cookie's flags."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from argon2 import extract_parameters
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core.db import SessionFactory, transaction
from core.errors import AlreadyExistsError, AuthError, NotFoundError
from models.auth import User
from services import auth
from tests.support.auth import new_customer, register
from tests.support.errors import assert_error
from tests.support.shop import Shop
from tests.support.users import add_user


def _mixed_case_name() -> str:
    return f"Sp{uuid.uuid4().hex[:8]}T"


async def test_a_case_twin_cannot_register(shop: Shop) -> None:
    name = _mixed_case_name()
    await register(shop, username=name)
    twin = new_customer(username=name.lower(), email=f"{name.lower()}-twin@example.ru")
    response = await shop.http.post("/auth/register", json=twin)
    body = assert_error(response, 409, "username")
    assert body["fields"]["username"] == "этот логин уже занят"


async def test_a_case_twin_cannot_be_created_even_past_the_check(sessions: SessionFactory) -> None:
    await add_user(sessions, "Gina")
    with pytest.raises(AlreadyExistsError) as taken:
        await add_user(sessions, "gINA")
    assert taken.value.fields == {"username": "этот логин уже занят"}
    with pytest.raises(IntegrityError):  # the unique index, for a writer that skips the check
        async with transaction(sessions) as session:
            session.add(
                User(
                    username="GINA",
                    username_key="gina",
                    first_name="Гина",
                    email="gina-twin@example.ru",
                    phone="+79123456789",
                    password_hash="x",
                    registration_ref="r",
                )
            )
    async with transaction(sessions) as session:
        users = (await session.exec(select(User))).all()
    assert [user.username for user in users] == ["Gina"], "stored as typed, once"


async def test_login_in_another_case_works(shop: Shop) -> None:
    name = _mixed_case_name()
    body = await register(shop, username=name)
    response = await shop.http.post(
        "/auth/login", json={"username": name.swapcase(), "password": body["password"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["username"] == name, "the login as it was registered"


async def test_argon2_verifies_off_the_event_loop_for_unknown_logins_too(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_user(sessions, "hana")
    loop_thread = threading.get_ident()
    calls: list[tuple[str, bool]] = []
    matches = auth.password_matches

    def recording(password_hash: str, password: str) -> bool:
        calls.append((password_hash, threading.get_ident() != loop_thread))
        return matches(password_hash, password)

    monkeypatch.setattr(auth, "password_matches", recording)
    for username, error in (("hana", AuthError), ("nobody", NotFoundError)):
        async with transaction(sessions) as session:
            with pytest.raises(error):
                await auth.login(
                    session=session,
                    username=username,
                    password="wrong password",
                    old_token=None,
                    ttl=timedelta(hours=1),
                )
    assert len(calls) == 2, "an unknown login costs a verify too"
    assert all(in_thread for _, in_thread in calls), "never on the event loop"
    assert calls[1][0].startswith("$argon2id$"), "the dummy hash is a real argon2id hash"


async def test_stored_hashes_are_argon2id_with_the_configured_parameters(
    sessions: SessionFactory,
) -> None:
    await add_user(sessions, "iris")
    async with transaction(sessions) as session:
        user = await auth.get_user(session=session, username="iris")
    assert user.password_hash.startswith("$argon2id$v=19$")
    expected = auth._hasher
    found = extract_parameters(user.password_hash)
    assert (found.memory_cost, found.time_cost, found.parallelism) == (
        expected.memory_cost,
        expected.time_cost,
        expected.parallelism,
    )
    assert "correct horse" not in user.password_hash


def _cookie_flags(set_cookie: str) -> set[str]:
    return {part.strip().lower() for part in set_cookie.split(";")[1:]}


async def test_session_cookie_flags(shop: Shop) -> None:
    body = await register(shop)
    response = await shop.http.post(
        "/auth/login", json={"username": body["username"], "password": body["password"]}
    )
    flags = _cookie_flags(response.headers["set-cookie"])
    assert {"httponly", "samesite=lax"} <= flags
    assert "secure" not in flags


async def test_session_cookie_is_secure_when_configured(secure_shop: Shop) -> None:
    body = await register(secure_shop)
    response = await secure_shop.http.post(
        "/auth/login", json={"username": body["username"], "password": body["password"]}
    )
    assert {"httponly", "samesite=lax", "secure"} <= _cookie_flags(response.headers["set-cookie"])
