"""auth contracts (spec section 4): /auth/register, /auth/login, /auth/logout, /auth/auth."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Cookie, Response
from fastapi.responses import JSONResponse

from core.errors import NotFoundError
from edge.deps import (
    CurrentUser,
    SessionCookie,
    SessionDep,
    SessionFactoryDep,
    SettingsDep,
    TemporalDep,
)
from edge.session import clear_session_cookie, set_session_cookie
from flows.registration import register_customer
from models.auth import USERNAME_PATTERN, LoginRequest, RegisterRequest, User, UserPublic
from services import auth

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
    },
)
async def register(
    body: RegisterRequest, settings: SettingsDep, sessions: SessionFactoryDep, temporal: TemporalDep
) -> JSONResponse:
    """Register a new customer: auth user, wallet, payment profile, notifications, welcome mail."""
    finished = await register_customer(
        data=body, sessions=sessions, temporal=temporal, settings=settings
    )
    return JSONResponse(
        _public(body).model_dump(mode="json", by_alias=True), status_code=200 if finished else 202
    )


@router.post("/login", response_model=UserPublic, responses={400: {}, 401: {}, 404: {}})
async def login(
    body: LoginRequest,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    old_session: SessionCookie = None,
    old_session_id: Annotated[str | None, Cookie(alias="oldSessionId")] = None,
) -> UserPublic:
    """Check the password and rotate the session: the old session id stops working."""
    username = body.username.strip()
    if username and body.password and not re.fullmatch(USERNAME_PATTERN, username):
        # No login can look like this (nor reach the database: a NUL is an error in PostgreSQL).
        raise NotFoundError("Пользователь с таким логином не найден")
    user, token = await auth.login(
        session=session,
        username=username,
        password=body.password,
        old_token=old_session or old_session_id,
        ttl=timedelta(hours=settings.session_ttl_hours),
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
