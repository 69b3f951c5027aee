"""EmailChangeWorkflow in the time-skipping environment, every activity a stand-in: the link is
mailed per request, only the newest link confirms, the change reaches auth and notification, an
unconfirmed change expires after 24 h."""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from models.payloads import Changed, MailResult, Queues
from models.payloads_account import (
    ConfirmationMailInput,
    EmailChangeInput,
    EmailChangeRequest,
    EmailChangeState,
    EmailConfirmation,
    NewEmailInput,
)
from tests.workflows.helpers import running_workers, unique
from workflows.account import EmailChangeWorkflow
from workflows.policies import AUTH, NOTIFICATION
from workflows.refs import EmailChange

pytestmark = pytest.mark.timeout(60)


@dataclass
class FakeAccount:
    mails: list[ConfirmationMailInput] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)

    def by_queue(self) -> dict[str, Sequence[Callable[..., Any]]]:
        @activity.defn(name="account.send_email_confirmation")
        async def send(data: ConfirmationMailInput) -> MailResult:
            self.mails.append(data)
            return MailResult(message_id=f"<m{len(self.mails)}>", sent=True)

        @activity.defn(name="account.change_email")
        async def change_email(data: NewEmailInput) -> Changed:
            if data.new_email in self.taken:
                raise ApplicationError(
                    "Этот e-mail уже зарегистрирован",
                    {"email": "этот e-mail уже зарегистрирован"},
                    type="AlreadyExistsError",
                    non_retryable=True,
                )
            self.changes.append(f"auth:{data.new_email}")
            return Changed(True)

        @activity.defn(name="account.change_email_channel")
        async def change_channel(data: NewEmailInput) -> Changed:
            self.changes.append(f"notification:{data.new_email}")
            return Changed(True)

        return {AUTH: [change_email], NOTIFICATION: [send, change_channel]}


async def _request(
    client: Client, queues: Queues, username: str, email: str
) -> tuple[WorkflowHandle[Any, EmailChangeState], EmailChangeState]:
    handle = await client.start_workflow(
        EmailChange.workflow.name,
        EmailChangeInput(username=username, queues=queues),
        id=f"email-change-{username}",
        task_queue=queues.workflows,
        result_type=EmailChange.workflow.result,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    state = await handle.execute_update(
        EmailChange.request.name, EmailChangeRequest(new_email=email), result_type=EmailChangeState
    )
    return handle, state


async def _confirm(handle: WorkflowHandle[Any, EmailChangeState], counter: int) -> EmailChangeState:
    state: EmailChangeState = await handle.execute_update(
        EmailChange.confirm.name, EmailConfirmation(counter=counter), result_type=EmailChangeState
    )
    return state


async def test_only_the_newest_link_confirms_and_the_change_reaches_both_domains(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeAccount()
    client = time_skipping_env.client
    username = unique("alice")
    async with running_workers(client, [EmailChangeWorkflow], fake.by_queue()) as queues:
        handle, first = await _request(client, queues, username, "one@example.ru")
        _, second = await _request(client, queues, username, "two@example.ru")
        assert (first.counter, second.counter) == (1, 2)
        assert second.new_email == "two@example.ru"

        with pytest.raises(WorkflowUpdateFailedError) as stale:
            await _confirm(handle, 1)
        assert "Ссылка устарела" in str(stale.value.cause)

        changed = await _confirm(handle, 2)
        assert changed.status == "CHANGED"
        assert (await handle.result()).status == "CHANGED"

    assert [(m.counter, m.new_email) for m in fake.mails] == [
        (1, "one@example.ru"),
        (2, "two@example.ru"),
    ]
    assert {m.run_id for m in fake.mails} == {handle.result_run_id}
    assert fake.changes == ["auth:two@example.ru", "notification:two@example.ru"]


async def test_an_address_taken_meanwhile_is_refused_and_nothing_changes(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeAccount(taken={"taken@example.ru"})
    client = time_skipping_env.client
    async with running_workers(client, [EmailChangeWorkflow], fake.by_queue()) as queues:
        handle, _ = await _request(client, queues, unique("bob"), "taken@example.ru")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await _confirm(handle, 1)
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError)
        assert cause.type == "AlreadyExistsError"
        assert (await handle.result()).status == "FAILED"
    assert fake.changes == []


async def test_an_unconfirmed_change_expires_after_24_hours(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeAccount()
    client = time_skipping_env.client
    async with running_workers(client, [EmailChangeWorkflow], fake.by_queue()) as queues:
        handle, state = await _request(client, queues, unique("carol"), "late@example.ru")
        assert state.status == "WAITING"
        await time_skipping_env.sleep(timedelta(hours=23))
        still = await handle.query(EmailChange.state.name, result_type=EmailChangeState)
        assert still.status == "WAITING"
        await time_skipping_env.sleep(timedelta(hours=2))
        ended = await handle.result()
    assert ended.status == "EXPIRED"
    assert len(fake.mails) == 1
    assert fake.changes == []


def test_the_payloads_use_only_the_standard_library() -> None:
    """models/payloads_account.py is loaded inside the workflow sandbox, like models.payloads."""
    source = Path(__file__).parents[2] / "models" / "payloads_account.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    modules = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module != "models.payloads"
    }
    modules |= {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}
