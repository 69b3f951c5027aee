"""auth contracts (spec section 4): /auth/register, /auth/login, /auth/logout, /auth/auth; and
the account's own (defined here, the spec leaves them open): /auth/profile, /auth/password,
/auth/email (a change confirmed by a mailed link), /auth/sessions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Cookie, Response
from fastapi.responses import JSONResponse

from core.errors import NotFoundError
from edge.deps import (
    ClientAddress,
    CurrentUser,
    SessionCookie,
    SessionDep,
    SessionFactoryDep,
    SettingsDep,
    TemporalDep,
)
from edge.session import clear_session_cookie, set_session_cookie
from flows.account import confirm_email_change, request_email_change
from flows.registration import register_customer
from models.auth import (
    USERNAME_PATTERN,
    EmailChangeBody,
    EmailChangePublic,
    EmailConfirmBody,
    LoginRequest,
    PasswordChange,
    ProfileUpdate,
    RegisterRequest,
    SessionsEnded,
    SessionsPublic,
    User,
    UserPublic,
)
from models.payloads_account import EmailChangeState
from services import auth, auth_limits

router = APIRouter(prefix="/auth", tags=["auth"])


def _public(user: User | RegisterRequest) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


@router.post(
    "/register",
    response_model=UserPublic,
    responses={
        202: {"description": "Accepted; the account is still being set up"},
        400: {},
        409: {},
        429: {"description": "Too many registrations for the e-mail or from the address"},
    },
)
async def register(
    body: RegisterRequest,
    address: ClientAddress,
    settings: SettingsDep,
    sessions: SessionFactoryDep,
    temporal: TemporalDep,
) -> JSONResponse:
    """Register a new customer: auth user, wallet, payment profile, notifications, welcome mail.
    Past the limit on registrations per e-mail and per client address: 429 with Retry-After."""
    await auth_limits.admit_registration(
        sessions=sessions, email=body.email, address=address, settings=settings
    )
    finished = await register_customer(
        data=body, sessions=sessions, temporal=temporal, settings=settings
    )
    return JSONResponse(
        _public(body).model_dump(mode="json", by_alias=True), status_code=200 if finished else 202
    )


@router.post(
    "/login",
    response_model=UserPublic,
    responses={
        400: {},
        401: {},
        404: {},
        429: {"description": "Too many failed logins: wait Retry-After seconds"},
    },
)
async def login(
    body: LoginRequest,
    response: Response,
    address: ClientAddress,
    sessions: SessionFactoryDep,
    settings: SettingsDep,
    old_session: SessionCookie = None,
    old_session_id: Annotated[str | None, Cookie(alias="oldSessionId")] = None,
) -> UserPublic:
    """Check the password and rotate the session: the old session id stops working. Past the limit
    on failed logins per account and per client address: 429 with Retry-After, whatever the
    password."""
    username = body.username.strip()
    if username and body.password and not re.fullmatch(USERNAME_PATTERN, username):
        # No login can look like this (nor reach the database: a NUL is an error in PostgreSQL).
        raise NotFoundError("Пользователь с таким логином не найден")
    user, token = await auth_limits.login_limited(
        sessions=sessions,
        username=username,
        password=body.password,
        old_token=old_session or old_session_id,
        ttl=timedelta(hours=settings.session_ttl_hours),
        address=address,
        limit=auth_limits.login_limit(settings),
    )
    set_session_cookie(response, token, settings)
    return _public(user)


@router.get("/logout")
async def logout(
    response: Response, session: SessionDep, settings: SettingsDep, token: SessionCookie = None
) -> dict[str, str]:
    """End the session server-side and empty the cookie."""
    if token:
        await auth.logout(session=session, token=token)
    clear_session_cookie(response, settings)
    return {}


@router.get("/auth", response_model=UserPublic, responses={401: {}, 404: {}})
async def whoami(user: CurrentUser) -> UserPublic:
    """The customer behind the session cookie."""
    return _public(user)


def email_change_public(state: EmailChangeState) -> EmailChangePublic:
    expires = datetime.fromtimestamp(state.expires_at, UTC) if state.expires_at else None
    return EmailChangePublic(
        status=state.status, new_email=state.new_email, expires_at=expires, detail=state.detail
    )


@router.put("/profile", response_model=UserPublic, responses={400: {}, 401: {}})
async def update_profile(body: ProfileUpdate, user: CurrentUser, session: SessionDep) -> UserPublic:
    """Change the name and the phone (the registration's rules)."""
    changed = await auth.update_profile(
        session=session,
        username=user.username,
        first_name=body.first_name,
        last_name=body.last_name,
        phone=body.phone,
    )
    return _public(changed)


@router.put("/password", response_model=SessionsEnded, responses={400: {}, 401: {}})
async def change_password(
    body: PasswordChange, user: CurrentUser, session: SessionDep, token: SessionCookie = None
) -> SessionsEnded:
    """A new password, once the current one is proven; every other session ends."""
    ended = await auth.change_password(
        session=session,
        username=user.username,
        current_password=body.current_password,
        new_password=body.new_password,
        token=token or "",
    )
    return SessionsEnded(ended=ended)


@router.post(
    "/email",
    status_code=202,
    response_model=EmailChangePublic,
    responses={400: {}, 401: {}, 409: {}},
)
async def request_email(
    body: EmailChangeBody,
    user: CurrentUser,
    settings: SettingsDep,
    sessions: SessionFactoryDep,
    temporal: TemporalDep,
) -> EmailChangePublic:
    """Mail a confirmation link to the new address; the e-mail changes once it is followed (within
    24 h). A new request replaces the pending one."""
    state = await request_email_change(
        temporal=temporal,
        sessions=sessions,
        settings=settings,
        username=user.username,
        email=body.email,
    )
    return email_change_public(state)


@router.post(
    "/email/confirm", response_model=EmailChangePublic, responses={400: {}, 404: {}, 409: {}}
)
async def confirm_email(
    body: EmailConfirmBody, settings: SettingsDep, temporal: TemporalDep
) -> EmailChangePublic:
    """The mailed link's parameters: the e-mail changes. No session needed (the link is the
    proof), so it may be opened on another device."""
    state = await confirm_email_change(temporal=temporal, settings=settings, link=body)
    return email_change_public(state)


@router.get("/sessions", response_model=SessionsPublic, responses={401: {}})
async def sessions_list(
    user: CurrentUser, session: SessionDep, token: SessionCookie = None
) -> SessionsPublic:
    """The shopper's live sessions, newest first; `current` marks this one."""
    found = await auth.list_sessions(session=session, username=user.username, token=token)
    return SessionsPublic(sessions=found)


@router.post("/sessions/end-others", response_model=SessionsEnded, responses={401: {}})
async def end_other_sessions(
    user: CurrentUser, session: SessionDep, token: SessionCookie = None
) -> SessionsEnded:
    """«Завершить все другие сеансы»: only this session stays."""
    ended = await auth.end_other_sessions(
        session=session, username=user.username, token=token or ""
    )
    return SessionsEnded(ended=ended)
