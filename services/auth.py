"""auth: users, password hashes (argon2id), login sessions, and the shopper's own changes to
their account (profile, password, sessions, a confirmed e-mail change)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import AlreadyExistsError, AuthError, NotFoundError, ValidationError
from core.timeutil import utcnow
from models.auth import (
    OPERATOR,
    PendingCredential,
    SessionPublic,
    User,
    UserSession,
)
from models.sso import LinkedIdentity

if TYPE_CHECKING:
    pass

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
# Verified against when the login is unknown, so an unknown login costs what a wrong password
# does (the 404 already says the login is unknown; the timing says nothing more).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
CREDENTIAL_TTL = timedelta(hours=1)
# A session's "last used" is written at most this often: not a write on every request.
SESSION_TOUCH = timedelta(minutes=5)
# A session unused this long ends (settings.session_idle_minutes; this is its default).
SESSION_IDLE = timedelta(days=1)
EMAIL_TAKEN = {"email": "этот e-mail уже зарегистрирован"}


def hash_password(password: str) -> str:
    """argon2id hash of `password`; CPU-bound (~50 ms), so async callers run it in a thread."""
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Constant-time check of `password` against a stored argon2 hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _username_is(username: str) -> Any:
    """The condition "User.username is `username`, whatever the case"."""
    return col(User.username_key) == username.lower()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def get_user(*, session: AsyncSession, username: str) -> User:
    """The user with this login, or NotFoundError."""
    user = (await session.exec(select(User).where(_username_is(username)))).first()
    if user is None:
        raise NotFoundError("Пользователь не найден")
    return user


async def ensure_available(*, session: AsyncSession, username: str, email: str) -> None:
    """AlreadyExistsError naming each taken field, if the login or e-mail is in use."""
    taken = (
        await session.exec(
            select(User.username, User.email).where(
                or_(_username_is(username), func.lower(col(User.email)) == email.lower())
            )
        )
    ).all()
    fields = {}
    for found_username, found_email in taken:
        if found_username.lower() == username.lower():
            fields["username"] = "этот логин уже занят"
        if found_email.lower() == email.lower():
            fields["email"] = "этот e-mail уже зарегистрирован"
    if fields:
        raise AlreadyExistsError("Пользователь уже существует", fields=fields)


async def stash_credential(
    *,
    session: AsyncSession,
    password_hash: str,
    identity: tuple[str, str] | None = None,
) -> str:
    """Keep a password hash ("" for none: the account signs in through `identity`, a provider
    and its subject, linked when the user is created) until registration creates the user;
    returns the reference id."""
    provider, subject = identity or (None, None)
    credential = PendingCredential(
        id=secrets.token_urlsafe(24),
        password_hash=password_hash,
        provider=provider,
        subject=subject,
    )
    session.add(credential)
    await session.flush()
    return credential.id


async def create_user(
    *,
    session: AsyncSession,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    phone: str,
    credential_id: str,
) -> User:
    """Create the user from a stashed credential; a retry with the same credential returns it."""
    existing = (await session.exec(select(User).where(_username_is(username)))).first()
    if existing is not None:
        if existing.registration_ref == credential_id:
            return existing
        raise AlreadyExistsError(
            "Пользователь уже существует", fields={"username": "этот логин уже занят"}
        )
    credential = await session.get(PendingCredential, credential_id)
    if credential is None or credential.created_at < utcnow() - CREDENTIAL_TTL:
        raise NotFoundError("Срок регистрации истёк, заполните форму ещё раз")
    user = User(
        username=username,
        username_key=username.lower(),
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        password_hash=credential.password_hash,
        registration_ref=credential_id,
    )
    session.add(user)
    await session.delete(credential)
    try:
        await session.flush()
        if credential.provider and credential.subject:
            assert user.id is not None
            session.add(
                LinkedIdentity(
                    user_id=user.id,
                    provider=credential.provider,
                    subject=credential.subject,
                    email=email,
                )
            )
            await session.flush()
    except IntegrityError as exc:  # a registration of a case twin (or of the e-mail) raced this
        raise AlreadyExistsError(
            "Пользователь уже существует", fields={"email": "этот e-mail уже зарегистрирован"}
        ) from exc
    return user


async def delete_user(*, session: AsyncSession, username: str, registration_ref: str) -> bool:
    """Undo `create_user` of one registration (never someone else's account of the same name)."""
    result = await session.exec(
        delete(User).where(
            col(User.username) == username, col(User.registration_ref) == registration_ref
        )
    )
    return bool(result.rowcount)


async def login(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    old_token: str | None,
    ttl: timedelta,
) -> tuple[User, str]:
    """Check the password and open a new session (the old one, if any, ends); returns the token."""
    if not username or not password:
        raise ValidationError("Username and password should be provided: укажите логин и пароль")
    user = (await session.exec(select(User).where(_username_is(username)))).first()
    # Off the event loop (argon2 takes ~50 ms of CPU), and for an unknown login too.
    matches = await asyncio.to_thread(
        password_matches, _DUMMY_HASH if user is None else user.password_hash, password
    )
    if user is None:
        raise NotFoundError("Пользователь с таким логином не найден")
    if not matches:
        raise AuthError("Неверный логин или пароль")
    return user, await open_session(session=session, user=user, old_token=old_token, ttl=ttl)


async def open_session(
    *, session: AsyncSession, user: User, old_token: str | None, ttl: timedelta
) -> str:
    """A new session of `user` (the old one, if any, ends); returns its token."""
    if old_token:
        await logout(session=session, token=old_token)
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    now = utcnow()
    session.add(
        UserSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + ttl,
            last_used_at=now,
        )
    )
    await session.flush()
    return token


async def logout(*, session: AsyncSession, token: str) -> None:
    """End the session; the token stops working at once."""
    await session.exec(delete(UserSession).where(col(UserSession.token_hash) == _token_hash(token)))


async def authenticate(
    *, session: AsyncSession, token: str | None, idle: timedelta = SESSION_IDLE
) -> User:
    """The user behind a live session token, or AuthError: past its absolute expiry, or unused
    for `idle` (its `last_used_at` is at most SESSION_TOUCH behind)."""
    if not token:
        raise AuthError("Войдите в магазин")
    found = await session.get(UserSession, _token_hash(token))
    now = utcnow()
    if (
        found is None
        or found.expires_at <= now
        or (found.last_used_at or found.created_at) <= now - idle
    ):
        raise AuthError("Сессия истекла, войдите снова")
    user = await session.get(User, found.user_id)
    if user is None:
        raise NotFoundError("Пользователь не найден")
    if found.last_used_at is None or found.last_used_at <= now - SESSION_TOUCH:
        found.last_used_at = now
        session.add(found)
    return user


async def grant_operator(*, session: AsyncSession, username: str) -> User:
    """Make the user an operator (the operators' area); NotFoundError for an unknown login. Every
    session of the user ends: the new privilege comes with a new login, never an old cookie."""
    user = await get_user(session=session, username=username)
    user.role = OPERATOR
    session.add(user)
    await session.exec(delete(UserSession).where(col(UserSession.user_id) == user.id))
    await session.flush()
    return user


async def update_profile(
    *, session: AsyncSession, username: str, first_name: str, last_name: str, phone: str
) -> User:
    """Change the shopper's name and phone (already checked by models.auth.ProfileUpdate)."""
    user = await get_user(session=session, username=username)
    user.first_name, user.last_name, user.phone = first_name, last_name, phone
    session.add(user)
    await session.flush()
    return user


async def _user_id(session: AsyncSession, username: str) -> int:
    user = await get_user(session=session, username=username)
    assert user.id is not None
    return user.id


async def change_password(
    *, session: AsyncSession, username: str, current_password: str, new_password: str, token: str
) -> int:
    """Set a new password once the current one is proven (an account that signs in only through
    an outside provider has none: its session proves it, and it sets its first); every other
    session of the shopper ends (the one holding `token` stays). Returns how many ended."""
    user = await get_user(session=session, username=username)
    if user.password_hash and not await asyncio.to_thread(
        password_matches, user.password_hash, current_password
    ):
        raise ValidationError(
            "Текущий пароль указан неверно",
            fields={"currentPassword": "неверный текущий пароль"},
        )
    user.password_hash = await asyncio.to_thread(hash_password, new_password)
    session.add(user)
    return await end_other_sessions(session=session, username=username, token=token)


async def list_sessions(
    *, session: AsyncSession, username: str, token: str | None
) -> list[SessionPublic]:
    """The shopper's live sessions, newest first; `current` marks the one holding `token`."""
    current = _token_hash(token) if token else ""
    found = await session.exec(
        select(UserSession)
        .where(
            UserSession.user_id == await _user_id(session, username),
            col(UserSession.expires_at) > utcnow(),
        )
        .order_by(col(UserSession.created_at).desc())
    )
    return [
        SessionPublic(
            started_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            current=hmac.compare_digest(row.token_hash, current),
        )
        for row in found.all()
    ]


async def end_other_sessions(*, session: AsyncSession, username: str, token: str) -> int:
    """End every session of the shopper but the one holding `token`; how many ended."""
    result = await session.exec(
        delete(UserSession).where(
            col(UserSession.user_id) == await _user_id(session, username),
            col(UserSession.token_hash) != _token_hash(token),
        )
    )
    return int(result.rowcount or 0)


async def ensure_email_change_allowed(*, session: AsyncSession, username: str, email: str) -> None:
    """ValidationError if `email` is already the shopper's, AlreadyExistsError if another
    customer has it."""
    owner = (await session.exec(select(User.username).where(User.email == email))).first()
    if owner == username:
        raise ValidationError(
            "Это и есть ваш текущий e-mail", fields={"email": "это ваш текущий e-mail"}
        )
    if owner is not None:
        raise AlreadyExistsError("Этот e-mail уже зарегистрирован", fields=EMAIL_TAKEN)


async def change_email(*, session: AsyncSession, username: str, new_email: str) -> User:
    """Give the shopper the confirmed address; a retry after it was changed returns the user."""
    user = await get_user(session=session, username=username)
    if user.email == new_email:
        return user
    await ensure_email_change_allowed(session=session, username=username, email=new_email)
    user.email = new_email
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # taken by a registration that raced this change
        raise AlreadyExistsError("Этот e-mail уже зарегистрирован", fields=EMAIL_TAKEN) from exc
    return user


def email_change_token(*, secret: str, workflow_id: str, run_id: str, counter: int) -> str:
    """The token of an e-mail change link: an HMAC of the run and the request's counter, so the
    link needs no stored secret and neither the history nor a log holds it."""
    digest = hmac.new(
        secret.encode(), f"{workflow_id}/{run_id}/{counter}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def email_change_token_matches(
    *, secret: str, workflow_id: str, run_id: str, counter: int, token: str
) -> bool:
    """Constant-time check of a link's token."""
    expected = email_change_token(
        secret=secret, workflow_id=workflow_id, run_id=run_id, counter=counter
    )
    return hmac.compare_digest(expected.encode(), token.encode())
