"""auth's limits on tries (core/attempts.py): wrong passwords per account and per client
address (`login_limited`), registrations per e-mail and per client address
(`admit_registration`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from core.attempts import AttemptLimit, admitted, limited
from core.db import SessionFactory
from core.errors import ValidationError
from core.timeutil import utcnow
from models.auth import LoginAttempt, RegistrationAttempt, User
from services.auth import login

if TYPE_CHECKING:
    from core.settings import Settings


def login_limit(settings: Settings) -> AttemptLimit:
    """At most so many wrong passwords for one login and from one client address in the window."""
    return AttemptLimit(
        per_subject=settings.login_wrong_passwords_per_account,
        per_address=settings.login_wrong_passwords_per_address,
        window=timedelta(minutes=settings.login_window_minutes),
    )


async def login_limited(
    *,
    sessions: SessionFactory,
    username: str,
    password: str,
    old_token: str | None,
    ttl: timedelta,
    address: str,
    limit: AttemptLimit,
    clock: Callable[[], datetime] = utcnow,
) -> tuple[User, str]:
    """`login` behind the limit on wrong passwords (core/attempts.py `limited`, as gift card
    codes): once the login (any case) or the client address has `limit` failed logins within the
    window, TooManyAttemptsError — for the correct password too. A wrong password and an unknown
    login count; a successful login, an empty field and a refused try do not."""
    if not username or not password:
        raise ValidationError("Username and password should be provided: укажите логин и пароль")

    async def attempt(session: AsyncSession) -> tuple[User, str]:
        return await login(
            session=session, username=username, password=password, old_token=old_token, ttl=ttl
        )

    return await limited(
        sessions=sessions,
        table=LoginAttempt,
        subject=username.lower(),
        address=address,
        limit=limit,
        attempt=attempt,
        refusal=lambda minutes: (
            f"Слишком много попыток входа. Попробуйте снова через {minutes} мин."
        ),
        clock=clock,
    )


async def admit_registration(
    *,
    sessions: SessionFactory,
    email: str,
    address: str,
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Count a registration for this e-mail (any case) from this client address; past
    `registrations_per_email` or `registrations_per_address` within the window,
    TooManyAttemptsError. Every try counts (a login taken too: it tells which logins exist)."""
    await admitted(
        sessions=sessions,
        table=RegistrationAttempt,
        subject=email.lower(),
        address=address,
        limit=AttemptLimit(
            per_subject=settings.registrations_per_email,
            per_address=settings.registrations_per_address,
            window=timedelta(minutes=settings.registration_window_minutes),
        ),
        refusal=lambda minutes: f"Слишком много регистраций. Попробуйте снова через {minutes} мин.",
        clock=clock,
    )
