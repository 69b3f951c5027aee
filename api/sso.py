"""Single sign-on's JSON steps (defined here; the spec names SSO but no contract): completing
the registration of an identity an outside provider vouched for, linking it to the account with
its e-mail by that account's password, and the shopper's linked providers (list, unlink). The
redirects to and from the provider are pages (web/sso_pages.py)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from edge.deps import (
    ClientAddress,
    CurrentUser,
    SessionCookie,
    SessionDep,
    SessionFactoryDep,
    SettingsDep,
    SsoDep,
    SsoPendingCookie,
    TemporalDep,
)
from edge.session import SSO_PENDING_COOKIE, clear_sso_cookie, set_session_cookie
from flows import sso
from models.auth import NewCustomer
from models.base import CamelModel
from services import auth_limits, auth_sso

router = APIRouter(prefix="/auth/sso", tags=["auth"])


class Signed(CamelModel):
    """Where the page goes on: the shop (signed in), or the registration's progress page."""

    username: str
    next: str


class LinkBody(CamelModel):
    password: str = ""


class LinkedProvider(CamelModel):
    key: str
    title: str
    email: str


@router.post("/complete", response_model=Signed, responses={400: {}, 401: {}, 409: {}, 429: {}})
async def complete(
    body: NewCustomer,
    response: Response,
    address: ClientAddress,
    settings: SettingsDep,
    sessions: SessionFactoryDep,
    temporal: TemporalDep,
    pending: SsoPendingCookie = None,
    old_session: SessionCookie = None,
) -> Signed:
    """Register the shopper whose identity this browser holds, as completed on the page (a
    verified e-mail stays the provider's); signed in once the registration finished."""
    held = await sso.held(sessions=sessions, token=pending)
    await auth_limits.admit_registration(
        sessions=sessions, email=held.email or body.email, address=address, settings=settings
    )
    token = await sso.register(
        data=body,
        token=pending,
        sessions=sessions,
        temporal=temporal,
        settings=settings,
        old_token=old_session,
    )
    clear_sso_cookie(response, SSO_PENDING_COOKIE, settings)
    if token is None:
        return Signed(username=body.username, next=f"/register/done?username={body.username}")
    set_session_cookie(response, token, settings)
    return Signed(username=body.username, next=held.next_url)


@router.post("/link", response_model=Signed, responses={400: {}, 401: {}, 404: {}, 429: {}})
async def link(
    body: LinkBody,
    response: Response,
    address: ClientAddress,
    settings: SettingsDep,
    sessions: SessionFactoryDep,
    pending: SsoPendingCookie = None,
    old_session: SessionCookie = None,
) -> Signed:
    """Link the held identity to the account with its verified e-mail: that account's password
    proves it is the shopper's (wrong ones count as failed logins, with their limit)."""
    held = await sso.held(sessions=sessions, token=pending)
    user, token = await sso.link(
        token=pending,
        password=body.password,
        sessions=sessions,
        settings=settings,
        address=address,
        limit=auth_limits.login_limit(settings),
        old_token=old_session,
    )
    clear_sso_cookie(response, SSO_PENDING_COOKIE, settings)
    set_session_cookie(response, token, settings)
    return Signed(username=user.username, next=held.next_url)


@router.get("/linked", response_model=list[LinkedProvider], responses={401: {}})
async def linked(user: CurrentUser, session: SessionDep, providers: SsoDep) -> list[LinkedProvider]:
    """The providers the shopper signs in with."""
    return [
        LinkedProvider.model_validate(found, from_attributes=True)
        for found in await sso.linked(session, providers, user.username)
    ]


@router.post("/{key}/unlink", responses={401: {}, 404: {}, 409: {}})
async def unlink(key: str, user: CurrentUser, session: SessionDep) -> dict[str, str]:
    """Stop signing in with `key`, while a password or another provider remains."""
    await auth_sso.unlink(session=session, username=user.username, provider=key)
    return {}
