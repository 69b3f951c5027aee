"""The shopper's e-mail change as the edge reaches it: `POST /auth/email` starts (or reaches)
the EmailChange run and asks it for a new link; the link's page checks the token and confirms;
the account page reads what is pending. Every wait is bounded; every refusal is a domain error."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError

from core.db import SessionFactory, transaction
from core.errors import ConflictError, UnavailableError, ValidationError
from core.settings import Settings
from flows.engine import TemporalClient, bounded, domain_error, not_found, queues_of
from models.auth import USERNAME_PATTERN, EmailConfirmBody
from models.payloads_account import (
    EmailChangeInput,
    EmailChangeRequest,
    EmailChangeState,
    EmailConfirmation,
)
from services import auth
from workflows.policies import CUSTOMER_ID, FLOW_STATUS
from workflows.refs import EmailChange

STALE_LINK = "Ссылка устарела: откройте последнее письмо или запросите смену e-mail ещё раз"
BAD_LINK = "Ссылка повреждена: откройте её из письма целиком"
# Longer than the link lives: a run waits a day at most, plus the mail's retries.
EMAIL_CHANGE_TIMEOUT = timedelta(days=3)
# The account page shows a pending change if the engine answers at once; it never waits long.
PAGE_WAIT_SECONDS = 2.0


def workflow_id(username: str) -> str:
    return f"email-change-{username}"


async def request_email_change(
    *,
    temporal: TemporalClient,
    sessions: SessionFactory,
    settings: Settings,
    username: str,
    email: str,
) -> EmailChangeState:
    """Mail a confirmation link to `email` (a free address, not the shopper's own); the pending
    request, if any, is replaced and its link stops working."""
    async with transaction(sessions) as session:
        await auth.ensure_email_change_allowed(session=session, username=username, email=email)
    queues = queues_of(settings)
    start: WithStartWorkflowOperation[Any, EmailChangeState] = WithStartWorkflowOperation(
        EmailChange.workflow.name,
        EmailChangeInput(username=username, queues=queues),
        id=workflow_id(username),
        task_queue=queues.workflows,
        result_type=EmailChange.workflow.result,
        execution_timeout=EMAIL_CHANGE_TIMEOUT,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CUSTOMER_ID, username),
                SearchAttributePair(FLOW_STATUS, "WAITING"),
            ]
        ),
        static_summary=f"Смена e-mail клиента {username}",
    )
    try:
        return await bounded(
            temporal.execute_update_with_start_workflow(
                EmailChange.request.name,
                EmailChangeRequest(new_email=email),
                start_workflow_operation=start,
                result_type=EmailChange.request.result,
            ),
            settings.update_wait_seconds,
        )
    except WorkflowUpdateFailedError as exc:
        raise domain_error(exc) from exc


async def pending_email_change(
    *, temporal: TemporalClient, settings: Settings, username: str
) -> EmailChangeState | None:
    """The change waiting for its link to be followed, if any. For a page: with the engine down
    or slow it answers None rather than failing the page."""
    handle = temporal.get_workflow_handle(workflow_id(username))
    wait = min(PAGE_WAIT_SECONDS, settings.update_wait_seconds)
    try:
        described = await bounded(handle.describe(), wait)
        if described.status != WorkflowExecutionStatus.RUNNING:
            return None
        state = await bounded(
            handle.query(EmailChange.state.name, result_type=EmailChange.state.result), wait
        )
    except (RPCError, UnavailableError):
        return None
    return state if state.status == "WAITING" and state.counter > 0 else None


async def confirm_email_change(
    *, temporal: TemporalClient, settings: Settings, link: EmailConfirmBody
) -> EmailChangeState:
    """The link was followed: check its token (the secret never leaves this process), then have
    the run change the address; answers once it is changed."""
    wid = workflow_id(link.username)
    if not re.fullmatch(USERNAME_PATTERN, link.username) or not auth.email_change_token_matches(
        secret=settings.account_secret.get_secret_value(),
        workflow_id=wid,
        run_id=link.run,
        counter=link.counter,
        token=link.token,
    ):
        raise ValidationError(BAD_LINK)
    handle = temporal.get_workflow_handle(wid, run_id=link.run)
    try:
        return await bounded(
            handle.execute_update(
                EmailChange.confirm.name,
                EmailConfirmation(counter=link.counter),
                result_type=EmailChange.confirm.result,
            ),
            settings.update_wait_seconds,
        )
    except WorkflowUpdateFailedError as exc:
        raise domain_error(exc, STALE_LINK) from exc
    except RPCError as exc:
        if not_found(exc):  # the run ended (expired, replaced by a later one, or done)
            raise ConflictError(STALE_LINK) from exc
        raise
