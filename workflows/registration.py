"""RegistrationWorkflow: auth user → billing wallet → payment profile and notification account →
welcome mail. Everything before the mail is undone, newest first, if a later step fails for good."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from models.payloads import (
    CustomerInput,
    NotificationAccountInput,
    RegistrationInput,
    RegistrationResult,
    WelcomeMailInput,
)
from workflows import refs
from workflows.failures import business_failure
from workflows.policies import (
    AUTH,
    BILLING,
    COMPENSATION,
    DB_STEP,
    FLOW_STATUS,
    MAIL_STEP,
    NOTIFICATION,
    PAYMENT,
)
from workflows.saga import Saga

with workflow.unsafe.imports_passed_through():
    from activities.auth import AuthActivities
    from activities.billing import BillingActivities
    from activities.notification import NotificationActivities
    from activities.payment import PaymentActivities


@workflow.defn(name=refs.Registration.workflow.name)
class RegistrationWorkflow:
    @workflow.init
    def __init__(self, data: RegistrationInput) -> None:
        self._step = "начало"
        self._saga = Saga()
        self._queues = data.queues

    @workflow.query(name=refs.Registration.current_step.name)
    def current_step(self) -> str:
        """Where the registration is, for an operator (Temporal UI → Queries)."""
        return self._step

    def _enter(self, step: str, status: str) -> None:
        self._step = step
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(status)])

    async def _step_with_undo(
        self, domain: str, do: Any, undo: Any, arg: Any, undo_arg: Any, summary: str
    ) -> Any:
        """Register the undo first (a timed-out step may still have happened), then run the step."""
        self._saga.on_failure(
            summary,
            lambda: workflow.execute_activity_method(
                undo,
                undo_arg,
                summary=f"Откат: {summary}",
                **COMPENSATION.options(self._queues, domain),
            ),
        )
        return await workflow.execute_activity_method(
            do, arg, summary=summary, **DB_STEP.options(self._queues, domain)
        )

    @workflow.run
    async def run(self, data: RegistrationInput) -> RegistrationResult:
        name = data.username
        customer = CustomerInput(username=name)
        try:
            self._enter("создание пользователя", "CREATING_USER")
            user = await self._step_with_undo(
                AUTH,
                AuthActivities.create_user,
                AuthActivities.delete_user,
                data,
                data,
                f"Пользователь {name} в auth",
            )
            self._enter("открытие кошелька", "OPENING_WALLET")
            wallet = await self._step_with_undo(
                BILLING,
                BillingActivities.open_wallet,
                BillingActivities.close_empty_wallet,
                customer,
                customer,
                f"Кошелёк {name} в billing",
            )
            self._enter("платёжный профиль и уведомления", "OPENING_ACCOUNTS")
            # Independent of each other: run side by side.
            profile, account = await asyncio.gather(
                self._step_with_undo(
                    PAYMENT,
                    PaymentActivities.create_profile,
                    PaymentActivities.delete_profile,
                    customer,
                    customer,
                    f"Платёжный профиль {name} в payment",
                ),
                self._step_with_undo(
                    NOTIFICATION,
                    NotificationActivities.create_account,
                    NotificationActivities.delete_account,
                    NotificationAccountInput(username=name, email=data.email, phone=data.phone),
                    customer,
                    f"Учётная запись уведомлений {name} (e-mail, SMS, push)",
                ),
            )
        except (ActivityError, asyncio.CancelledError) as exc:
            self._enter("откат", "COMPENSATING")
            await self._saga.compensate()
            self._enter("отменена", "FAILED")
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise business_failure(exc) from exc

        # The customer exists from here on; a mail outage must not undo the registration.
        self._enter("приветственное письмо", "SENDING_WELCOME")
        mail_sent = await self._send_welcome(data)
        self._enter("готово", "COMPLETED")
        return RegistrationResult(
            username=name,
            user_id=user.user_id,
            wallet_id=wallet.id,
            payment_profile_id=profile.id,
            notification_account_id=account.id,
            welcome_mail_sent=mail_sent,
        )

    async def _send_welcome(self, data: RegistrationInput) -> bool:
        try:
            await workflow.execute_activity_method(
                NotificationActivities.send_welcome_mail,
                WelcomeMailInput(
                    username=data.username,
                    first_name=data.first_name,
                    idempotency_key=f"registration-{data.username}-{data.credential_id}-welcome",
                ),
                summary=f"Приветственное письмо {data.username}",
                **MAIL_STEP.options(data.queues, NOTIFICATION),
            )
        except ActivityError as exc:
            workflow.logger.warning("welcome mail to %s not sent: %s", data.username, exc.cause)
            return False
        return True
