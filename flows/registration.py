"""Registration as the edge reaches it: `POST /auth/register` runs the Registration workflow and
waits a little for it; the «регистрация» page reads where it stands."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Literal

from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from core.db import SessionFactory, transaction
from core.errors import AlreadyExistsError
from core.settings import Settings
from flows.engine import TemporalClient, domain_error, not_found, queues_of
from models.auth import USERNAME_PATTERN, NewCustomer, RegisterRequest
from models.payloads import RegistrationInput
from services import auth
from workflows.policies import CUSTOMER_ID, FLOW_STATUS, REGISTRATION_TIMEOUT
from workflows.refs import Registration


def workflow_id(username: str) -> str:
    return f"registration-{username}"


async def register_customer(
    *, data: RegisterRequest, sessions: SessionFactory, temporal: TemporalClient, settings: Settings
) -> bool:
    """Run the registration workflow; True once it finished, False if it is still running."""
    async with transaction(sessions) as session:
        await auth.ensure_available(session=session, username=data.username, email=data.email)
    password_hash = await asyncio.to_thread(auth.hash_password, data.password)
    return await run_registration(
        data=data,
        password_hash=password_hash,
        sessions=sessions,
        temporal=temporal,
        settings=settings,
    )


async def run_registration(
    *,
    data: NewCustomer,
    password_hash: str,
    sessions: SessionFactory,
    temporal: TemporalClient,
    settings: Settings,
    identity: tuple[str, str] | None = None,
) -> bool:
    """The registration workflow for `data`, its credential stashed first (`identity`, a provider
    and subject, is linked to the user it creates); True once it finished, False if it is still
    running."""
    async with transaction(sessions) as session:
        await auth.ensure_available(session=session, username=data.username, email=data.email)
        credential_id = await auth.stash_credential(
            session=session, password_hash=password_hash, identity=identity
        )
    queues = queues_of(settings)
    try:
        handle = await temporal.start_workflow(
            Registration.workflow.name,
            RegistrationInput(
                username=data.username,
                first_name=data.first_name,
                last_name=data.last_name,
                email=data.email,
                phone=data.phone,
                credential_id=credential_id,
                queues=queues,
            ),
            id=workflow_id(data.username),
            task_queue=queues.workflows,
            result_type=Registration.workflow.result,
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
    # NONE when there was no registration
    status: Literal["COMPLETED", "RUNNING", "FAILED", "NONE"]
    step: str


NO_REGISTRATION = RegistrationProgress(status="NONE", step="")


async def registration_progress(*, temporal: TemporalClient, username: str) -> RegistrationProgress:
    """Where the registration of `username` stands, read from its workflow run."""
    if not re.fullmatch(USERNAME_PATTERN, username):
        return NO_REGISTRATION
    handle = temporal.get_workflow_handle(workflow_id(username))
    try:
        described = await handle.describe()
    except RPCError as exc:
        if not_found(exc):
            return NO_REGISTRATION
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
