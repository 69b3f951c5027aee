"""auth service on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from core.db import SessionFactory, transaction
from core.errors import AlreadyExistsError, AuthError, NotFoundError, ValidationError
from core.timeutil import utcnow
from models.auth import PendingCredential, User, UserSession
from services import auth
from tests.support.users import add_user

TTL = timedelta(hours=1)


async def test_password_is_stored_as_argon2id_never_in_clear(sessions: SessionFactory) -> None:
    await add_user(sessions)
    async with transaction(sessions) as session:
        user = await auth.get_user(session=session, username="alice")
        leftovers = (await session.exec(select(PendingCredential))).all()
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    assert leftovers == [], "the stashed hash is consumed when the user is created"


async def test_create_user_retried_with_same_credential_returns_the_same_user(
    sessions: SessionFactory,
) -> None:
    credential = await add_user(sessions)
    async with transaction(sessions) as session:
        again = await auth.create_user(
            session=session,
            username="alice",
            first_name="Алиса",
            last_name="Иванова",
            email="alice@example.ru",
            phone="+79123456789",
            credential_id=credential,
        )
        users = (await session.exec(select(User))).all()
    assert again.username == "alice"
    assert len(users) == 1


async def test_taken_username_and_email_are_reported_per_field(sessions: SessionFactory) -> None:
    await add_user(sessions)
    async with transaction(sessions) as session:
        with pytest.raises(AlreadyExistsError) as caught:
            await auth.ensure_available(session=session, username="alice", email="alice@example.ru")
    assert set(caught.value.fields) == {"username", "email"}


async def test_second_user_with_same_email_is_refused_and_nothing_is_created(
    sessions: SessionFactory,
) -> None:
    await add_user(sessions)
    async with transaction(sessions) as session:
        credential = await auth.stash_credential(session=session, password_hash="x")
    with pytest.raises(AlreadyExistsError):
        async with transaction(sessions) as session:
            await auth.create_user(
                session=session,
                username="bob",
                first_name="Боб",
                last_name="",
                email="alice@example.ru",
                phone="+79000000000",
                credential_id=credential,
            )
    async with transaction(sessions) as session:
        names = (await session.exec(select(User.username))).all()
        still_stashed = await session.get(PendingCredential, credential)
    assert names == ["alice"]
    assert still_stashed is not None, "a refused registration rolls back whole"


async def test_expired_or_unknown_credential_is_refused(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        session.add(
            PendingCredential(id="old", password_hash="x", created_at=utcnow() - timedelta(hours=2))
        )
    for credential in ("old", "never-stashed"):
        async with transaction(sessions) as session:
            with pytest.raises(NotFoundError):
                await auth.create_user(
                    session=session,
                    username="carol",
                    first_name="Кира",
                    last_name="",
                    email="carol@example.ru",
                    phone="+79000000001",
                    credential_id=credential,
                )


async def test_delete_user_undoes_only_its_own_registration(sessions: SessionFactory) -> None:
    credential = await add_user(sessions)
    async with transaction(sessions) as session:
        assert not await auth.delete_user(
            session=session, username="alice", registration_ref="other"
        )
        assert await auth.delete_user(
            session=session, username="alice", registration_ref=credential
        )
        assert not await auth.delete_user(
            session=session, username="alice", registration_ref=credential
        )


async def test_login_checks_input_user_and_password(sessions: SessionFactory) -> None:
    await add_user(sessions)
    async with transaction(sessions) as session:
        with pytest.raises(ValidationError):
            await auth.login(session=session, username="", password="x", old_token=None, ttl=TTL)
        with pytest.raises(NotFoundError):
            await auth.login(
                session=session, username="nobody", password="x", old_token=None, ttl=TTL
            )
        with pytest.raises(AuthError):
            await auth.login(
                session=session, username="alice", password="wrong", old_token=None, ttl=TTL
            )
        user, token = await auth.login(
            session=session, username="alice", password="correct horse", old_token=None, ttl=TTL
        )
        assert user.username == "alice"
        stored = (await session.exec(select(UserSession.token_hash))).all()
    assert token not in stored, "only the token's hash is stored"


async def test_login_rotates_the_session_and_logout_ends_it(sessions: SessionFactory) -> None:
    await add_user(sessions)
    async with transaction(sessions) as session:
        _, first = await auth.login(
            session=session, username="alice", password="correct horse", old_token=None, ttl=TTL
        )
    async with transaction(sessions) as session:
        _, second = await auth.login(
            session=session, username="alice", password="correct horse", old_token=first, ttl=TTL
        )
    async with transaction(sessions) as session:
        with pytest.raises(AuthError):
            await auth.authenticate(session=session, token=first)
        assert (await auth.authenticate(session=session, token=second)).username == "alice"
        await auth.logout(session=session, token=second)
    async with transaction(sessions) as session:
        with pytest.raises(AuthError):
            await auth.authenticate(session=session, token=second)


async def test_expired_session_is_refused(sessions: SessionFactory) -> None:
    await add_user(sessions)
    async with transaction(sessions) as session:
        _, token = await auth.login(
            session=session, username="alice", password="correct horse", old_token=None, ttl=-TTL
        )
    async with transaction(sessions) as session:
        with pytest.raises(AuthError):
            await auth.authenticate(session=session, token=token)


async def test_racing_registrations_of_one_username_create_one_user(
    sessions: SessionFactory,
) -> None:
    async def attempt(i: int) -> str:
        try:
            await add_user(sessions, "racer", email=f"racer{i}@example.ru")
        except AlreadyExistsError:
            return "refused"
        return "created"

    outcomes = await asyncio.gather(*(attempt(i) for i in range(5)))
    assert outcomes.count("created") == 1
    async with transaction(sessions) as session:
        assert len((await session.exec(select(User))).all()) == 1
