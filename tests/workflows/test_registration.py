"""RegistrationWorkflow in the time-skipping environment, every activity a stand-in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from models.payloads import (
    Changed,
    CustomerInput,
    EntityRef,
    MailResult,
    NotificationAccountInput,
    Queues,
    RegistrationInput,
    RegistrationResult,
    UserRef,
    WelcomeMailInput,
)
from tests.workflows.helpers import running_workers, unique
from workflows.policies import AUTH, BILLING, CUSTOMER_ID, FLOW_STATUS, NOTIFICATION, PAYMENT
from workflows.registration import RegistrationWorkflow


@dataclass
class FakeDomains:
    """Stand-ins for the registration activities that log each call and fail on request."""

    calls: list[str] = field(default_factory=list)
    fail_times: dict[str, int] = field(default_factory=dict)  # transient failures, then success
    refuse: dict[str, str] = field(default_factory=dict)  # activity -> domain error code, for good

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if name in self.refuse:
            raise ApplicationError(f"{name} refused", type=self.refuse[name], non_retryable=True)
        if self.fail_times.get(name, 0) > 0:
            self.fail_times[name] -= 1
            raise RuntimeError(f"{name}: database unavailable (simulated)")

    def by_queue(self) -> dict[str, Sequence[Callable[..., Any]]]:
        @activity.defn(name="auth.create_user")
        async def create_user(data: RegistrationInput) -> UserRef:
            self._enter("auth.create_user")
            return UserRef(username=data.username, user_id=1)

        @activity.defn(name="auth.delete_user")
        async def delete_user(data: RegistrationInput) -> Changed:
            self._enter("auth.delete_user")
            return Changed(True)

        @activity.defn(name="billing.open_wallet")
        async def open_wallet(data: CustomerInput) -> EntityRef:
            self._enter("billing.open_wallet")
            return EntityRef(id=2)

        @activity.defn(name="billing.close_empty_wallet")
        async def close_empty_wallet(data: CustomerInput) -> Changed:
            self._enter("billing.close_empty_wallet")
            return Changed(True)

        @activity.defn(name="payment.create_profile")
        async def create_profile(data: CustomerInput) -> EntityRef:
            self._enter("payment.create_profile")
            return EntityRef(id=3)

        @activity.defn(name="payment.delete_profile")
        async def delete_profile(data: CustomerInput) -> Changed:
            self._enter("payment.delete_profile")
            return Changed(True)

        @activity.defn(name="notification.create_account")
        async def create_account(data: NotificationAccountInput) -> EntityRef:
            self._enter("notification.create_account")
            return EntityRef(id=4)

        @activity.defn(name="notification.delete_account")
        async def delete_account(data: CustomerInput) -> Changed:
            self._enter("notification.delete_account")
            return Changed(True)

        @activity.defn(name="notification.send_welcome_mail")
        async def send_welcome_mail(data: WelcomeMailInput) -> MailResult:
            self._enter("notification.send_welcome_mail")
            return MailResult(message_id="<1@test>", sent=True)

        return {
            AUTH: [create_user, delete_user],
            BILLING: [open_wallet, close_empty_wallet],
            PAYMENT: [create_profile, delete_profile],
            NOTIFICATION: [create_account, delete_account, send_welcome_mail],
        }


def _input(username: str, queues: Queues) -> RegistrationInput:
    return RegistrationInput(
        username=username,
        first_name="Алиса",
        last_name="Иванова",
        email=f"{username}@example.ru",
        phone="+79123456789",
        credential_id="cred-1",
        queues=queues,
    )


async def _register(client: Client, domains: FakeDomains, username: str) -> RegistrationResult:
    async with running_workers(client, [RegistrationWorkflow], domains.by_queue()) as queues:
        return await client.execute_workflow(
            RegistrationWorkflow.run,
            _input(username, queues),
            id=f"registration-{username}",
            task_queue=queues.workflows,
            search_attributes=TypedSearchAttributes([SearchAttributePair(CUSTOMER_ID, username)]),
        )


async def test_registration_creates_every_account_then_mails(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    domains = FakeDomains()
    username = unique("alice")
    result = await _register(time_skipping_env.client, domains, username)

    assert result == RegistrationResult(
        username=username,
        user_id=1,
        wallet_id=2,
        payment_profile_id=3,
        notification_account_id=4,
        welcome_mail_sent=True,
    )
    assert domains.calls[:2] == ["auth.create_user", "billing.open_wallet"]
    assert set(domains.calls[2:4]) == {"payment.create_profile", "notification.create_account"}
    assert domains.calls[4:] == ["notification.send_welcome_mail"]


async def test_a_failing_step_is_retried_until_it_succeeds(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    domains = FakeDomains(fail_times={"billing.open_wallet": 3})
    result = await _register(time_skipping_env.client, domains, unique("bob"))

    assert result.wallet_id == 2
    assert domains.calls.count("billing.open_wallet") == 4
    assert not any(".delete" in c or ".close" in c for c in domains.calls), "no compensation ran"


async def test_a_refused_step_undoes_the_earlier_ones_in_reverse(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    domains = FakeDomains(refuse={"notification.create_account": "AlreadyExistsError"})
    with pytest.raises(WorkflowFailureError) as caught:
        await _register(time_skipping_env.client, domains, unique("carol"))

    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "AlreadyExistsError"
    undo = [c for c in domains.calls if ".delete" in c or ".close" in c]
    assert undo == [
        "notification.delete_account",
        "payment.delete_profile",
        "billing.close_empty_wallet",
        "auth.delete_user",
    ]
    assert "notification.send_welcome_mail" not in domains.calls


async def test_a_refused_first_step_still_runs_its_own_idempotent_undo(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    domains = FakeDomains(refuse={"auth.create_user": "AlreadyExistsError"})
    with pytest.raises(WorkflowFailureError):
        await _register(time_skipping_env.client, domains, unique("dave"))
    assert domains.calls == ["auth.create_user", "auth.delete_user"]


async def test_registration_survives_a_mail_outage(time_skipping_env: WorkflowEnvironment) -> None:
    domains = FakeDomains(refuse={"notification.send_welcome_mail": "DomainError"})
    result = await _register(time_skipping_env.client, domains, unique("erin"))
    assert result.welcome_mail_sent is False
    assert "auth.delete_user" not in domains.calls


async def test_mail_waits_out_a_long_smtp_outage(time_skipping_env: WorkflowEnvironment) -> None:
    """Transient mail failures are retried with backoff for hours (time skips here)."""
    domains = FakeDomains(fail_times={"notification.send_welcome_mail": 12})
    client = time_skipping_env.client
    username = unique("frank")
    async with running_workers(client, [RegistrationWorkflow], domains.by_queue()) as queues:
        handle = await client.start_workflow(
            RegistrationWorkflow.run,
            _input(username, queues),
            id=f"registration-{username}",
            task_queue=queues.workflows,
            search_attributes=TypedSearchAttributes([SearchAttributePair(CUSTOMER_ID, username)]),
        )
        await time_skipping_env.sleep(timedelta(hours=1))
        result = await handle.result()
        status = (await handle.describe()).typed_search_attributes.get(FLOW_STATUS)
    assert result.welcome_mail_sent is True
    assert domains.calls.count("notification.send_welcome_mail") == 13
    assert status == "COMPLETED"
