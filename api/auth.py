"""auth contracts (spec section 4): /auth/register, /auth/login, /auth/logout, /auth/auth."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Cookie, Response
from fastapi.responses import JSONResponse
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import (
    SESSION_COOKIE,
    CurrentUser,
    SessionCookie,
    SessionDep,
    SessionFactoryDep,
    SettingsDep,
    TemporalDep,
)
from api.temporal import domain_error, queues_of
from core.db import SessionFactory, transaction
from core.errors import AlreadyExistsError, NotFoundError
from core.settings import Settings
from models.auth import USERNAME_PATTERN, LoginRequest, RegisterRequest, User, UserPublic
from models.payloads import RegistrationInput, RegistrationResult
from services import auth
from workflows.policies import CUSTOMER_ID, FLOW_STATUS, REGISTRATION_TIMEOUT

router = APIRouter(prefix="/auth", tags=["auth"])


def _public(user: User | RegisterRequest) -> UserPublic:
    return UserPublic.model_validate(user, from_attributes=True)


async def register_customer(
    *, data: RegisterRequest, sessions: SessionFactory, temporal: Client, settings: Settings
) -> bool:
    """Run the registration workflow; True once it finished, False if it is still running."""
    async with transaction(sessions) as session:
        await auth.ensure_available(session=session, username=data.username, email=data.email)
    password_hash = await asyncio.to_thread(auth.hash_password, data.password)
    async with transaction(sessions) as session:
        credential_id = await auth.stash_credential(session=session, password_hash=password_hash)
    queues = queues_of(settings)
    try:
        handle = await temporal.start_workflow(
            "Registration",
            RegistrationInput(
                username=data.username,
                first_name=data.first_name,
                last_name=data.last_name,
                email=data.email,
                phone=data.phone,
                credential_id=credential_id,
                queues=queues,
            ),
            id=f"registration-{data.username}",
            task_queue=queues.workflows,
            result_type=RegistrationResult,
            execution_timeout=REGISTRATION_TIMEOUT,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CUSTOMER_ID, data.username),
                    SearchAttributePair(FLOW_STATUS, "STARTED"),
                ]
            ),
            static_summary=f"Регистрация клиента {data.username}",
        )
    except WorkflowAlreadyStartedError as exc:
        raise AlreadyExistsError(
            "Пользователь уже существует", fields={"username": "этот логин уже занят"}
        ) from exc
    try:
        await asyncio.wait_for(handle.result(), timeout=settings.registration_wait_seconds)
    except TimeoutError:
        return False
    except WorkflowFailureError as exc:
        raise domain_error(exc, "Операция не выполнена") from exc
    return True


def _set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        "",
        max_age=0,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


REGISTRATION_STEPS = {
    "STARTED": "ожидает обработки",
    "CREATING_USER": "создание пользователя",
    "OPENING_WALLET": "открытие кошелька",
    "OPENING_ACCOUNTS": "платёжный профиль и уведомления",
    "SENDING_WELCOME": "отправка приветственного письма",
    "COMPENSATING": "отмена",
}


@dataclass(frozen=True)
class RegistrationProgress:
    status: str  # COMPLETED, RUNNING, FAILED, or NONE when there was no registration
    step: str


async def registration_progress(*, temporal: Client, username: str) -> RegistrationProgress:
    """Where the registration of `username` stands, read from its workflow run."""
    if not re.fullmatch(USERNAME_PATTERN, username):
        return RegistrationProgress(status="NONE", step="")
    handle = temporal.get_workflow_handle(f"registration-{username}")
    try:
        described = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return RegistrationProgress(status="NONE", step="")
        raise
    if described.status == WorkflowExecutionStatus.COMPLETED:
        return RegistrationProgress(status="COMPLETED", step="готово")
    if described.status == WorkflowExecutionStatus.RUNNING:
        # Read from the search attribute, not a query: it answers even while no worker runs.
        flow_status = described.typed_search_attributes.get(FLOW_STATUS) or "STARTED"
        return RegistrationProgress(
            status="RUNNING", step=REGISTRATION_STEPS.get(flow_status, flow_status)
        )
    return RegistrationProgress(status="FAILED", step="")


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
    _set_session_cookie(response, token, settings)
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
