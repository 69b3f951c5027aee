"""«Войти через …»: the redirect to the provider, its redirect back, and the pages where the
shopper completes a registration or proves the password of the account with their e-mail. A
failure (refused consent, a bad or used state, the provider down, an expired or replayed code)
ends on the error page with a Russian message and the right status, never a 500."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.db import SessionFactory
from edge.deps import (
    OptionalUser,
    SessionCookie,
    SessionFactoryDep,
    SettingsDep,
    SsoDep,
    SsoPendingCookie,
    SsoStateCookie,
)
from edge.redirects import safe_path
from edge.session import (
    SSO_PENDING_COOKIE,
    SSO_STATE_COOKIE,
    clear_sso_cookie,
    set_session_cookie,
    set_sso_cookie,
)
from flows import sso
from flows.sso import Providers
from models import auth as auth_models
from models.auth import User
from web.pages import FORM_PATTERNS, _page

router = APIRouter(include_in_schema=False)


def _callback_url(request: Request, key: str) -> str:
    """Where the provider sends the shopper back (registered with the provider as is)."""
    return f"{request.app.state.settings.public_url}/auth/sso/{key}/callback"


@router.get("/auth/sso/{key}/start")
async def start(
    request: Request,
    key: str,
    providers: SsoDep,
    sessions: SessionFactoryDep,
    settings: SettingsDep,
    next: str = "/",
) -> Response:
    provider = providers.get(key)
    url, state = await sso.start(
        provider=provider,
        sessions=sessions,
        redirect_uri=_callback_url(request, key),
        next_url=safe_path(next),
    )
    response = RedirectResponse(url, status_code=303)
    set_sso_cookie(response, SSO_STATE_COOKIE, state, settings)
    return response


@router.get("/auth/sso/{key}/callback")
async def callback(
    request: Request,
    key: str,
    providers: SsoDep,
    sessions: SessionFactoryDep,
    settings: SettingsDep,
    user: OptionalUser,
    browser_state: SsoStateCookie = None,
    old_session: SessionCookie = None,
    state: str = "",
    code: str = "",
    error: str = "",
) -> Response:
    arrival = await sso.arrive(
        provider=providers.get(key),
        sessions=sessions,
        state=state,
        browser_state=browser_state,
        code=code,
        error=error,
        redirect_uri=_callback_url(request, key),
        settings=settings,
        old_token=old_session,
        current=user,
    )
    if arrival.outcome == "signed_in":
        response = RedirectResponse(arrival.next_url, status_code=303)
        set_session_cookie(response, arrival.token, settings)
    else:
        response = RedirectResponse(f"/auth/sso/{arrival.outcome}", status_code=303)
        set_sso_cookie(response, SSO_PENDING_COOKIE, arrival.token, settings)
    clear_sso_cookie(response, SSO_STATE_COOKIE, settings)
    return response


async def _held_page(
    request: Request,
    providers: Providers,
    sessions: SessionFactory,
    user: User | None,
    pending: str | None,
    template: str,
    **context: Any,
) -> Response:
    """A page about the identity this browser holds (gone or expired: the error page)."""
    held = await sso.held(sessions=sessions, token=pending)
    title = providers.get(held.provider).title
    return _page(request, template, user=user, held=held, provider=title, **context)


@router.get("/auth/sso/register", response_class=HTMLResponse)
async def complete_page(
    request: Request,
    providers: SsoDep,
    sessions: SessionFactoryDep,
    user: OptionalUser,
    pending: SsoPendingCookie = None,
) -> Response:
    """The registration form, filled with what the provider gave; the shopper adds the rest."""
    return await _held_page(
        request,
        providers,
        sessions,
        user,
        pending,
        "auth/sso_register.html",
        patterns=FORM_PATTERNS,
        email_max=auth_models.EMAIL_MAX,
    )


@router.get("/auth/sso/link", response_class=HTMLResponse)
async def link_page(
    request: Request,
    providers: SsoDep,
    sessions: SessionFactoryDep,
    user: OptionalUser,
    pending: SsoPendingCookie = None,
) -> Response:
    """The account with this e-mail exists: its password links the provider to it."""
    return await _held_page(request, providers, sessions, user, pending, "auth/sso_link.html")
