"""The shopper's own account changes in the auth service (profile, password, sessions, a
confirmed e-mail) and the e-mail change mail in notification, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from core.db import SessionFactory, transaction
from core.errors import AlreadyExistsError, AuthError, ValidationError
from core.timeutil import utcnow
from models.auth import SessionPublic, User, UserSession
from models.notification import Notification
from services import auth, notification
from tests.support.users import PASSWORD, add_user

TTL = timedelta(hours=1)


async def _login(sessions: SessionFactory, username: str, password: str = PASSWORD) -> str:
    async with transaction(sessions) as session:
        _, token = await auth.login(
            session=session, username=username, password=password, old_token=None, ttl=TTL
        )
    return token


async def _whoami(sessions: SessionFactory, token: str) -> User:
    async with transaction(sessions) as session:
        return await auth.authenticate(session=session, token=token)


async def _sessions_of(sessions: SessionFactory, username: str, token: str) -> list[SessionPublic]:
    async with transaction(sessions) as session:
        return await auth.list_sessions(session=session, username=username, token=token)


async def test_profile_changes_name_and_phone_at_once(sessions: SessionFactory) -> None:
    await add_user(sessions, "alice")
    async with transaction(sessions) as session:
        await auth.update_profile(
            session=session,
            username="alice",
            first_name="Алла",
            last_name="",
            phone="+79001112233",
        )
    async with transaction(sessions) as session:
        user = await auth.get_user(session=session, username="alice")
    assert (user.first_name, user.last_name, user.phone) == ("Алла", "", "+79001112233")
    assert user.email == "alice@example.ru"


async def test_password_change_needs_the_current_one(sessions: SessionFactory) -> None:
    await add_user(sessions, "alice")
    token = await _login(sessions, "alice")
    with pytest.raises(ValidationError) as refused:
        async with transaction(sessions) as session:
            await auth.change_password(
                session=session,
                username="alice",
                current_password="wrong password",
                new_password="new password 1",
                token=token,
            )
    assert "currentPassword" in refused.value.fields
    assert (await _login(sessions, "alice")) != ""  # the old password still works


async def test_password_change_ends_every_other_session(sessions: SessionFactory) -> None:
    await add_user(sessions, "alice")
    await add_user(sessions, "bob")
    kept, stolen = await _login(sessions, "alice"), await _login(sessions, "alice")
    bobs = await _login(sessions, "bob")
    async with transaction(sessions) as session:
        ended = await auth.change_password(
            session=session,
            username="alice",
            current_password=PASSWORD,
            new_password="new password 1",
            token=kept,
        )
    assert ended == 1
    assert (await _whoami(sessions, kept)).username == "alice"
    assert (await _whoami(sessions, bobs)).username == "bob", "another shopper's session stays"
    with pytest.raises(AuthError):
        await _whoami(sessions, stolen)
    with pytest.raises(AuthError):
        await _login(sessions, "alice")
    assert await _login(sessions, "alice", "new password 1")


async def test_sessions_list_marks_this_one_and_shows_no_secret(sessions: SessionFactory) -> None:
    await add_user(sessions, "alice")
    first = await _login(sessions, "alice")
    second = await _login(sessions, "alice")
    listed = await _sessions_of(sessions, "alice", second)
    assert [s.current for s in listed] == [True, False], "newest first, this one marked"
    assert all(s.last_used_at is not None for s in listed)
    async with transaction(sessions) as session:
        hashes = (await session.exec(select(UserSession.token_hash))).all()
    shown = " ".join(s.model_dump_json() for s in listed)
    assert not any(secret in shown for secret in [first, second, *hashes])


async def test_end_other_sessions_keeps_only_this_one(sessions: SessionFactory) -> None:
    await add_user(sessions, "alice")
    others = [await _login(sessions, "alice") for _ in range(2)]
    this = await _login(sessions, "alice")
    async with transaction(sessions) as session:
        assert await auth.end_other_sessions(session=session, username="alice", token=this) == 2
    for token in others:
        with pytest.raises(AuthError):
            await _whoami(sessions, token)
    assert [s.current for s in await _sessions_of(sessions, "alice", this)] == [True]


async def test_last_used_is_written_at_most_every_few_minutes(sessions: SessionFactory) -> None:
    await add_user(sessions, "alice")
    token = await _login(sessions, "alice")
    long_ago = utcnow() - auth.SESSION_TOUCH - timedelta(minutes=1)
    recently = utcnow() - timedelta(minutes=1)
    for stamp, touched in ((recently, False), (long_ago, True)):
        async with transaction(sessions) as session:
            await session.exec(update(UserSession).values(last_used_at=stamp))
        await _whoami(sessions, token)
        (listed,) = await _sessions_of(sessions, "alice", token)
        assert listed.last_used_at is not None
        assert (listed.last_used_at > stamp + timedelta(seconds=30)) is touched


async def test_email_change_refuses_the_own_and_a_taken_address(sessions: SessionFactory) -> None:
    await add_user(sessions, "alice")
    await add_user(sessions, "bob")
    with pytest.raises(ValidationError):
        async with transaction(sessions) as session:
            await auth.ensure_email_change_allowed(
                session=session, username="alice", email="alice@example.ru"
            )
    with pytest.raises(AlreadyExistsError) as taken:
        async with transaction(sessions) as session:
            await auth.change_email(session=session, username="alice", new_email="bob@example.ru")
    assert taken.value.fields == {"email": "этот e-mail уже зарегистрирован"}


async def test_email_change_applies_once_and_a_retry_is_harmless(sessions: SessionFactory) -> None:
    await add_user(sessions, "alice")
    for _ in range(2):
        async with transaction(sessions) as session:
            await auth.change_email(session=session, username="alice", new_email="new@example.ru")
    async with transaction(sessions) as session:
        emails = (await session.exec(select(User.email).where(col(User.username) == "alice"))).all()
    assert emails == ["new@example.ru"]


def _matches(
    token: str,
    secret: str = "s",  # noqa: S107
    wid: str = "email-change-a",
    run: str = "r1",
    n: int = 1,
) -> bool:
    return auth.email_change_token_matches(
        secret=secret, workflow_id=wid, run_id=run, counter=n, token=token
    )


def test_the_link_token_is_bound_to_run_counter_and_secret() -> None:
    token = auth.email_change_token(
        secret="s", workflow_id="email-change-a", run_id="r1", counter=1
    )
    assert _matches(token)
    assert not _matches(token, n=2)
    assert not _matches(token, run="r2")
    assert not _matches(token, secret="t")
    assert not _matches(token, wid="email-change-b")
    assert not _matches("ё" * 43)


async def test_the_confirmation_mail_goes_to_the_new_address_once(sessions: SessionFactory) -> None:
    """Recorded once under its key, to the NEW address, and without the link: the link holds the
    token, filled in only as the mail is handed to the mail system."""
    subject, body = notification.email_change_mail(username="alice", hours=24)
    for _ in range(2):
        async with transaction(sessions) as session:
            await notification.record_email(
                session=session,
                idempotency_key="email-change-alice-r1-1",
                username="alice",
                subject=subject,
                body=body,
                address="new@example.ru",
            )
    async with transaction(sessions) as session:
        (mail,) = (await session.exec(select(Notification))).all()
    assert mail.address == "new@example.ru"
    assert notification.LINK_MARKER in mail.body
    assert "/account/email/confirm" not in mail.body
