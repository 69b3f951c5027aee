"""RegistrationWorkflow: auth user → billing wallet → payment profile → notification account →
welcome mail. Everything before the mail is undone if a later step fails for good."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError

from models.payloads import (
    CreateUserInput,
    CustomerInput,
    NotificationAccountInput,
    RegistrationInput,
    RegistrationResult,
    WelcomeMailInput,
)
from workflows.policies import (
    AUTH_QUEUE,
    BILLING_QUEUE,
    COMPENSATION,
    DB_STEP,
    FLOW_STATUS,
    MAIL_STEP,
    NOTIFICATION_QUEUE,
    PAYMENT_QUEUE,
)
from workflows.saga import Saga, business_failure

with workflow.unsafe.imports_passed_through():
    from activities.auth import AuthActivities
    from activities.billing import BillingActivities
    from activities.notification import NotificationActivities
    from activities.payment import PaymentActivities


@workflow.defn(name="Registration")
class RegistrationWorkflow:
    def __init__(self) -> None:
        self._step = "начало"

    @workflow.query(name="current_step")
    def current_step(self) -> str:
        return self._step

    def _enter(self, step: str, status: str) -> None:
        self._step = step
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(status)])

    @workflow.run
    async def run(self, data: RegistrationInput) -> RegistrationResult:
        name = data.username
        customer = CustomerInput(username=name)
        user_input = CreateUserInput(
            username=name,
            first_name=data.first_name,
            last_name=data.last_name,
            email=data.email,
            phone=data.phone,
            credential_id=data.credential_id,
        )
        saga = Saga()
        try:
            self._enter("создание пользователя", "CREATING_USER")
            saga.on_failure(
                "auth.delete_user",
                lambda: workflow.execute_activity_method(
                    AuthActivities.delete_user,
                    user_input,
                    summary=f"Откат: удалить пользователя {name}",
                    **COMPENSATION.options(AUTH_QUEUE),
                ),
            )
            user = await workflow.execute_activity_method(
                AuthActivities.create_user,
                user_input,
                summary=f"Создать пользователя {name} в auth",
                **DB_STEP.options(AUTH_QUEUE),
            )

            self._enter("открытие кошелька", "OPENING_WALLET")
            saga.on_failure(
                "billing.close_empty_wallet",
                lambda: workflow.execute_activity_method(
                    BillingActivities.close_empty_wallet,
                    customer,
                    summary=f"Откат: закрыть пустой кошелёк {name}",
                    **COMPENSATION.options(BILLING_QUEUE),
                ),
            )
            wallet = await workflow.execute_activity_method(
                BillingActivities.open_wallet,
                customer,
                summary=f"Открыть кошелёк {name} в billing",
                **DB_STEP.options(BILLING_QUEUE),
            )

            self._enter("платёжный профиль и уведомления", "OPENING_ACCOUNTS")
            saga.on_failure(
                "payment.delete_profile",
                lambda: workflow.execute_activity_method(
                    PaymentActivities.delete_profile,
                    customer,
                    summary=f"Откат: удалить платёжный профиль {name}",
                    **COMPENSATION.options(PAYMENT_QUEUE),
                ),
            )
            saga.on_failure(
                "notification.delete_account",
                lambda: workflow.execute_activity_method(
                    NotificationActivities.delete_account,
                    customer,
                    summary=f"Откат: удалить учётную запись уведомлений {name}",
                    **COMPENSATION.options(NOTIFICATION_QUEUE),
                ),
            )
            # Independent of each other: run side by side.
            profile, account = await asyncio.gather(
                workflow.execute_activity_method(
                    PaymentActivities.create_profile,
                    customer,
                    summary=f"Создать платёжный профиль {name} в payment",
                    **DB_STEP.options(PAYMENT_QUEUE),
                ),
                workflow.execute_activity_method(
                    NotificationActivities.create_account,
                    NotificationAccountInput(username=name, email=data.email, phone=data.phone),
                    summary=f"Создать учётную запись уведомлений {name} (e-mail, SMS, push)",
                    **DB_STEP.options(NOTIFICATION_QUEUE),
                ),
            )
        except (ActivityError, asyncio.CancelledError) as exc:
            self._enter("откат", "COMPENSATING")
            await saga.compensate()
            self._enter("отменена", "FAILED")
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise business_failure(exc) from exc

        # The customer exists from here on; a mail outage must not undo the registration.
        self._enter("приветственное письмо", "SENDING_WELCOME")
        try:
            await workflow.execute_activity_method(
                NotificationActivities.send_welcome_mail,
                WelcomeMailInput(
                    username=name,
                    first_name=data.first_name,
                    idempotency_key=f"registration-{name}-{data.credential_id}-welcome",
                ),
                summary=f"Отправить приветственное письмо {name}",
                **MAIL_STEP.options(NOTIFICATION_QUEUE),
            )
            mail_sent = True
        except ActivityError as exc:
            workflow.logger.warning("welcome mail to %s not sent: %s", name, exc.cause or exc)
            mail_sent = False

        self._enter("готово", "COMPLETED")
        return RegistrationResult(
            username=name,
            user_id=user.user_id,
            wallet_id=wallet.id,
            payment_profile_id=profile.id,
            notification_account_id=account.id,
            welcome_mail_sent=mail_sent,
        )
