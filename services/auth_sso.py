"""auth: single sign-on through outside OpenID Connect providers. A sign-in in flight is kept by
its state (used once, for ATTEMPT_TTL); a provider's identity signs in as the account it is
linked to; an identity no account has is held (PENDING_TTL) until the shopper completes a
registration (whose created user is linked in the same transaction) or proves the password of
the account that has its verified e-mail."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import AuthError, ConflictError, NotFoundError, ValidationError
from core.timeutil import utcnow
from models.auth import User
from models.sso import LinkedIdentity, SsoAttempt, SsoPending
from services.auth import get_user, password_matches

ATTEMPT_TTL = timedelta(minutes=10)  # from «Войти через …» to coming back with a code
PENDING_TTL = timedelta(minutes=30)  # from coming back to completing the registration form
BAD_STATE = "Ссылка входа устарела или уже использована: начните вход заново"
PENDING_GONE = "Вход через внешний сервис устарел: начните его заново"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def begin(
    *,
    session: AsyncSession,
    provider: str,
    state: str,
    nonce: str,
    code_verifier: str,
    next_url: str,
) -> None:
    """Keep a sign-in sent to `provider` until the shopper comes back with `state`."""
    await session.exec(
        delete(SsoAttempt).where(col(SsoAttempt.created_at) < utcnow() - ATTEMPT_TTL)
    )
    session.add(
        SsoAttempt(
            state_hash=_hash(state),
            provider=provider,
            nonce=nonce,
            code_verifier=code_verifier,
            next_url=next_url,
        )
    )
    await session.flush()


async def take_attempt(*, session: AsyncSession, provider: str, state: str) -> SsoAttempt:
    """The sign-in `state` names, deleted (a second callback with it is refused); AuthError if
    none, too old, or begun with another provider."""
    attempt = await session.get(SsoAttempt, _hash(state)) if state else None
    if attempt is None:
        raise AuthError(BAD_STATE)
    await session.delete(attempt)
    await session.flush()
    if attempt.provider != provider or attempt.created_at < utcnow() - ATTEMPT_TTL:
        raise AuthError(BAD_STATE)
    return attempt


async def linked_user(*, session: AsyncSession, provider: str, subject: str) -> User | None:
    """The account `provider`'s `subject` signs in as, if linked."""
    found = await session.exec(
        select(User)
        .join(LinkedIdentity, col(LinkedIdentity.user_id) == col(User.id))
        .where(LinkedIdentity.provider == provider, LinkedIdentity.subject == subject)
    )
    return found.first()


async def user_with_email(*, session: AsyncSession, email: str) -> User | None:
    if not email:
        return None
    return (await session.exec(select(User).where(User.email == email.lower()))).first()


async def hold_pending(*, session: AsyncSession, pending: SsoPending) -> str:
    """Hold an unlinked identity for the shopper's next step; returns the token naming it."""
    await session.exec(
        delete(SsoPending).where(col(SsoPending.created_at) < utcnow() - PENDING_TTL)
    )
    token = secrets.token_urlsafe(32)
    pending.token_hash = _hash(token)
    session.add(pending)
    await session.flush()
    return token


async def get_pending(*, session: AsyncSession, token: str | None) -> SsoPending:
    found = await session.get(SsoPending, _hash(token)) if token else None
    if found is None or found.created_at < utcnow() - PENDING_TTL:
        raise AuthError(PENDING_GONE)
    return found


async def drop_pending(*, session: AsyncSession, token: str) -> None:
    await session.exec(delete(SsoPending).where(col(SsoPending.token_hash) == _hash(token)))


async def link(
    *, session: AsyncSession, user: User, provider: str, subject: str, email: str
) -> LinkedIdentity:
    """Link `provider`'s `subject` to `user`; ConflictError if either is linked already."""
    assert user.id is not None
    identity = LinkedIdentity(user_id=user.id, provider=provider, subject=subject, email=email)
    session.add(identity)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise ConflictError(
            "Этот вход уже связан с другим аккаунтом, или у аккаунта уже есть вход через этот "
            "сервис"
        ) from exc
    return identity


async def link_with_password(
    *, session: AsyncSession, token: str, password: str
) -> tuple[User, SsoPending]:
    """Link a held identity to the account with its verified e-mail once that account's password
    is proven; the held identity is then dropped."""
    pending = await get_pending(session=session, token=token)
    user = await user_with_email(session=session, email=pending.email)
    if user is None or not pending.email_verified:
        raise NotFoundError("Аккаунта с этим e-mail нет")
    if not await asyncio.to_thread(password_matches, user.password_hash, password):
        raise ValidationError(
            "Пароль указан неверно", fields={"password": "неверный пароль от аккаунта"}
        )
    await link(
        session=session,
        user=user,
        provider=pending.provider,
        subject=pending.subject,
        email=pending.email,
    )
    await drop_pending(session=session, token=token)
    return user, pending


async def identities(*, session: AsyncSession, username: str) -> list[LinkedIdentity]:
    """The providers the shopper signs in with, oldest link first."""
    user = await get_user(session=session, username=username)
    found = await session.exec(
        select(LinkedIdentity)
        .where(LinkedIdentity.user_id == user.id)
        .order_by(col(LinkedIdentity.created_at))
    )
    return list(found.all())


async def unlink(*, session: AsyncSession, username: str, provider: str) -> None:
    """Unlink `provider` while another way in remains (a password, or another provider)."""
    user = await get_user(session=session, username=username)
    others = await session.exec(
        select(func.count())
        .select_from(LinkedIdentity)
        .where(LinkedIdentity.user_id == user.id, LinkedIdentity.provider != provider)
    )
    if not user.password_hash and not others.one():
        raise ConflictError(
            "Это единственный способ входа в аккаунт: сначала задайте пароль или свяжите "
            "другой сервис"
        )
    result = await session.exec(
        delete(LinkedIdentity).where(
            col(LinkedIdentity.user_id) == user.id, col(LinkedIdentity.provider) == provider
        )
    )
    if not result.rowcount:
        raise NotFoundError("Этот сервис не связан с аккаунтом")
