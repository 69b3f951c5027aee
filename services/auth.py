"""auth: users, password hashes (argon2id) and login sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import AlreadyExistsError, AuthError, NotFoundError, ValidationError
from core.timeutil import utcnow
from models.auth import PendingCredential, User, UserSession

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
CREDENTIAL_TTL = timedelta(hours=1)


def hash_password(password: str) -> str:
    """argon2id hash of `password`; CPU-bound (~50 ms), so async callers run it in a thread."""
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Constant-time check of `password` against a stored argon2 hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def get_user(*, session: AsyncSession, username: str) -> User:
    """The user with this login, or NotFoundError."""
    user = (await session.exec(select(User).where(User.username == username))).first()
    if user is None:
        raise NotFoundError("Пользователь не найден")
    return user


async def ensure_available(*, session: AsyncSession, username: str, email: str) -> None:
    """AlreadyExistsError naming each taken field, if the login or e-mail is in use."""
    taken = (
        await session.exec(
            select(User.username, User.email).where(
                or_(col(User.username) == username, col(User.email) == email)
            )
        )
    ).all()
    fields = {}
    for found_username, found_email in taken:
        if found_username == username:
            fields["username"] = "этот логин уже занят"
        if found_email == email:
            fields["email"] = "этот e-mail уже зарегистрирован"
    if fields:
        raise AlreadyExistsError("Пользователь уже существует", fields=fields)


async def stash_credential(*, session: AsyncSession, password_hash: str) -> str:
    """Keep a password hash until registration creates the user; returns the reference id."""
    credential = PendingCredential(id=secrets.token_urlsafe(24), password_hash=password_hash)
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
    existing = (await session.exec(select(User).where(User.username == username))).first()
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
    except IntegrityError as exc:
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
    user = (await session.exec(select(User).where(User.username == username))).first()
    if user is None:
        raise NotFoundError("Пользователь с таким логином не найден")
    if not password_matches(user.password_hash, password):
        raise AuthError("Неверный логин или пароль")
    if old_token:
        await logout(session=session, token=old_token)
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    now = utcnow()
    session.add(
        UserSession(
            token_hash=_token_hash(token), user_id=user.id, created_at=now, expires_at=now + ttl
        )
    )
    await session.flush()
    return user, token


async def logout(*, session: AsyncSession, token: str) -> None:
    """End the session; the token stops working at once."""
    await session.exec(delete(UserSession).where(col(UserSession.token_hash) == _token_hash(token)))


async def authenticate(*, session: AsyncSession, token: str | None) -> User:
    """The user behind a live session token, or AuthError."""
    if not token:
        raise AuthError("Войдите в магазин")
    found = await session.get(UserSession, _token_hash(token))
    if found is None or found.expires_at <= utcnow():
        raise AuthError("Сессия истекла, войдите снова")
    user = await session.get(User, found.user_id)
    if user is None:
        raise NotFoundError("Пользователь не найден")
    return user
