"""Sessions end when unused for `session_idle_minutes` (beside the absolute TTL), and every session
of a user ends when the user is made an operator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from core.db import SessionFactory, transaction
from core.errors import AuthError
from core.timeutil import utcnow
from models.auth import UserSession
from services import auth
from tests.support.auth import login, register
from tests.support.shop import Shop, api_settings
from tests.support.users import add_user

IDLE = timedelta(minutes=api_settings().session_idle_minutes)


async def _last_used(sessions: SessionFactory, ago: timedelta) -> None:
    async with transaction(sessions) as session:
        await session.exec(update(UserSession).values(last_used_at=utcnow() - ago))


async def test_a_session_unused_for_the_idle_timeout_is_refused(shop: Shop) -> None:
    body = await register(shop)
    assert (await login(shop, body)).status_code == 200
    await _last_used(shop.sessions, IDLE - timedelta(minutes=10))
    assert (await shop.http.get("/auth/auth")).status_code == 200, "used within the idle time"
    await _last_used(shop.sessions, IDLE + timedelta(minutes=1))
    assert (await shop.http.get("/auth/auth")).status_code == 401


async def test_idle_timeout_in_the_service(sessions: SessionFactory) -> None:
    await add_user(sessions, "dora")
    async with transaction(sessions) as session:
        _, token = await auth.login(
            session=session,
            username="dora",
            password="correct horse",
            old_token=None,
            ttl=timedelta(days=14),
        )
    await _last_used(sessions, timedelta(hours=2))
    async with transaction(sessions) as session:
        with pytest.raises(AuthError):
            await auth.authenticate(session=session, token=token, idle=timedelta(hours=1))
    async with transaction(sessions) as session:
        assert await auth.authenticate(session=session, token=token, idle=timedelta(hours=3))


async def test_grant_operator_ends_the_users_sessions(sessions: SessionFactory) -> None:
    await add_user(sessions, "erin")
    await add_user(sessions, "fred")
    tokens = []
    for username in ("erin", "erin", "fred"):
        async with transaction(sessions) as session:
            _, token = await auth.login(
                session=session,
                username=username,
                password="correct horse",
                old_token=None,
                ttl=timedelta(hours=1),
            )
        tokens.append(token)
    async with transaction(sessions) as session:
        await auth.grant_operator(session=session, username="erin")
    for token in tokens[:2]:
        async with transaction(sessions) as session:
            with pytest.raises(AuthError):
                await auth.authenticate(session=session, token=token)
    async with transaction(sessions) as session:
        assert (await auth.authenticate(session=session, token=tokens[2])).username == "fred"
        left = (await session.exec(select(UserSession).where(col(UserSession.user_id) > 0))).all()
    assert len(left) == 1, "only the other user's session stays"
