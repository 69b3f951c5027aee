"""Single sign-on as the edge reaches it: «Войти через …» sends the shopper to the provider; on
the way back the identity signs in as its linked account, or is held while the shopper completes
a registration (the Registration workflow, the identity linked to the user it creates) or proves
the password of the account with the same verified e-mail. Every failure is a domain error with
a Russian message; the provider's own text stays in the logs."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.oidc import Identity, OidcProvider, SsoFailure
from core.attempts import AttemptLimit, limited
from core.db import SessionFactory, transaction
from core.errors import AuthError, NotFoundError, UnavailableError
from core.settings import Settings, SsoProvider
from flows.engine import TemporalClient
from flows.registration import run_registration
from models.auth import LoginAttempt, NewCustomer, User
from models.sso import SsoPending
from services import auth, auth_sso

log = logging.getLogger("shopflow.sso")
PROVIDER_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Provider:
    settings: SsoProvider
    client: OidcProvider

    @property
    def title(self) -> str:
        return self.settings.title


class Providers:
    """The configured providers by key, sharing one HTTP client (closed by `aclose`); none
    configured, none made."""

    def __init__(self, configured: list[SsoProvider]):
        self._http = httpx.AsyncClient(timeout=PROVIDER_TIMEOUT_SECONDS) if configured else None
        self.by_key: Mapping[str, Provider] = {}
        if self._http is not None:
            self.by_key = {p.key: Provider(p, _client(p, self._http)) for p in configured}

    def get(self, key: str) -> Provider:
        found = self.by_key.get(key)
        if found is None:
            raise NotFoundError("Такого способа входа нет")
        return found

    def titles(self) -> list[tuple[str, str]]:
        """(key, title) of each provider, for the «Войти через …» buttons."""
        return [(key, p.title) for key, p in self.by_key.items()]

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _client(provider: SsoProvider, http: httpx.AsyncClient) -> OidcProvider:
    return OidcProvider(
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=provider.client_secret.get_secret_value(),
        http=http,
    )


def _explained(provider: Provider, failure: SsoFailure) -> Exception:
    log.warning("sign-in through %s failed: %s", provider.settings.key, failure)
    if failure.kind == "unavailable":
        return UnavailableError(f"{provider.title} сейчас не отвечает: попробуйте войти позже")
    if failure.kind == "rejected":
        return AuthError("Код входа истёк или уже использован: начните вход заново")
    return AuthError(f"Ответ {provider.title} не прошёл проверку: начните вход заново")


async def start(
    *, provider: Provider, sessions: SessionFactory, redirect_uri: str, next_url: str
) -> tuple[str, str]:
    """The provider's URL to send the shopper to, and the state to bind to their browser."""
    try:
        asked = await provider.client.authorization(redirect_uri)
    except SsoFailure as failure:
        raise _explained(provider, failure) from failure
    async with transaction(sessions) as session:
        await auth_sso.begin(
            session=session,
            provider=provider.settings.key,
            state=asked.state,
            nonce=asked.nonce,
            code_verifier=asked.code_verifier,
            next_url=next_url,
        )
    return asked.url, asked.state


@dataclass(frozen=True)
class Arrival:
    """Where a shopper coming back from the provider goes on: signed in (`token`: the session),
    or holding an identity (`token`: the held identity) to `link` to the account with its
    e-mail or to `register`."""

    outcome: Literal["signed_in", "link", "register"]
    token: str
    next_url: str


async def arrive(
    *,
    provider: Provider,
    sessions: SessionFactory,
    state: str,
    browser_state: str | None,
    code: str,
    error: str,
    redirect_uri: str,
    settings: Settings,
    old_token: str | None,
    current: User | None = None,
) -> Arrival:
    """The provider sent the shopper back: check the state (this browser's, used once), trade
    the code, verify the ID token, and find or hold the identity. A signed-in shopper (`current`)
    coming back with an identity no account has links it to their own account."""
    if error:  # refused consent (some providers send no state with it): nothing to sign in
        raise AuthError(f"Вход через {provider.title} отменён")
    async with transaction(sessions) as session:  # committed: a state is used once, whatever next
        attempt = await auth_sso.take_attempt(
            session=session, provider=provider.settings.key, state=state
        )
    if not browser_state or browser_state != state:
        raise AuthError(auth_sso.BAD_STATE)  # another browser's sign-in, or a forged link
    try:
        identity = await provider.client.identity(
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=attempt.code_verifier,
            nonce=attempt.nonce,
        )
    except SsoFailure as failure:
        raise _explained(provider, failure) from failure
    async with transaction(sessions) as session:
        if (
            current is not None
            and await auth_sso.linked_user(
                session=session, provider=provider.settings.key, subject=identity.subject
            )
            is None
        ):
            await auth_sso.link(
                session=session,
                user=current,
                provider=provider.settings.key,
                subject=identity.subject,
                email=identity.email,
            )
            assert old_token is not None
            return Arrival("signed_in", old_token, attempt.next_url)
        return await _found_or_held(
            session, provider, identity, attempt.next_url, settings, old_token
        )


async def _found_or_held(
    session: AsyncSession,
    provider: Provider,
    identity: Identity,
    next_url: str,
    settings: Settings,
    old_token: str | None,
) -> Arrival:
    key = provider.settings.key
    user = await auth_sso.linked_user(session=session, provider=key, subject=identity.subject)
    if user is not None:
        token = await _session_for(session, user, settings, old_token)
        return Arrival("signed_in", token, next_url)
    known = identity.email_verified and (
        await auth_sso.user_with_email(session=session, email=identity.email) is not None
    )
    held = await auth_sso.hold_pending(
        session=session,
        pending=SsoPending(
            token_hash="",
            provider=key,
            subject=identity.subject,
            email=identity.email[:254],
            email_verified=identity.email_verified,
            given_name=identity.given_name[:64],
            family_name=identity.family_name[:64],
            phone=identity.phone[:32],
            next_url=next_url,
        ),
    )
    return Arrival("link" if known else "register", held, next_url)


async def _session_for(
    session: AsyncSession, user: User, settings: Settings, old_token: str | None
) -> str:
    return await auth.open_session(
        session=session,
        user=user,
        old_token=old_token,
        ttl=timedelta(hours=settings.session_ttl_hours),
    )


@dataclass(frozen=True)
class Linked:
    key: str
    title: str
    email: str


async def linked(session: AsyncSession, providers: Providers, username: str) -> list[Linked]:
    """The providers the shopper signs in with, titled as configured now."""
    titles = dict(providers.titles())
    return [
        Linked(key=i.provider, title=titles.get(i.provider, i.provider), email=i.email)
        for i in await auth_sso.identities(session=session, username=username)
    ]


async def held(*, sessions: SessionFactory, token: str | None) -> SsoPending:
    """The identity this browser holds (for the completion and link pages)."""
    async with transaction(sessions) as session:
        return await auth_sso.get_pending(session=session, token=token)


async def register(
    *,
    data: NewCustomer,
    token: str | None,
    sessions: SessionFactory,
    temporal: TemporalClient,
    settings: Settings,
    old_token: str | None,
) -> str | None:
    """Register the held identity's shopper as completed on the page (a verified e-mail stays
    the provider's); the session token once the registration finished, None while it runs (the
    shopper then signs in through the provider again, the identity already linked)."""
    pending = await held(sessions=sessions, token=token)
    if pending.email_verified:
        data = data.model_copy(update={"email": pending.email})
    finished = await run_registration(
        data=data,
        password_hash="",  # no password: this account signs in through its provider
        sessions=sessions,
        temporal=temporal,
        settings=settings,
        identity=(pending.provider, pending.subject),
    )
    async with transaction(sessions) as session:
        assert token is not None
        await auth_sso.drop_pending(session=session, token=token)
        if not finished:
            return None
        user = await auth.get_user(session=session, username=data.username)
        return await _session_for(session, user, settings, old_token)


async def link(
    *,
    token: str | None,
    password: str,
    sessions: SessionFactory,
    settings: Settings,
    address: str,
    limit: AttemptLimit,
    old_token: str | None,
) -> tuple[User, str]:
    """Link the held identity to the account with its verified e-mail once its password is
    proven (wrong passwords count as failed logins of that account); the account and a new
    session token."""
    pending = await held(sessions=sessions, token=token)
    async with transaction(sessions) as session:
        owner = await auth_sso.user_with_email(session=session, email=pending.email)
    if owner is None or token is None:
        raise NotFoundError("Аккаунта с этим e-mail нет")

    async def prove(session: AsyncSession) -> tuple[User, str]:
        user, _ = await auth_sso.link_with_password(session=session, token=token, password=password)
        return user, await _session_for(session, user, settings, old_token)

    return await limited(
        sessions=sessions,
        table=LoginAttempt,
        subject=owner.username.lower(),
        address=address,
        limit=limit,
        attempt=prove,
        refusal=lambda minutes: f"Слишком много попыток. Попробуйте снова через {minutes} мин.",
    )
