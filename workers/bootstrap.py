"""The composition root: builds every dependency of the worker from settings, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.auth import AuthActivities
from activities.billing import BillingActivities
from activities.delivery import DeliveryActivities
from activities.notification import NotificationActivities
from activities.order import OrderActivities
from activities.payment import PaymentActivities
from activities.store import StoreActivities
from adapters.bank import BankGateway, HttpBankGateway
from adapters.couriers import CourierGateway, HttpCourierGateway
from adapters.mailer import Mailer, SmtpMailer
from core.db import SessionFactory, create_engine, create_session_factory
from core.settings import Settings
from workflows.checkout import CheckoutWorkflow
from workflows.payment import LateBankPaymentWorkflow, PaymentWorkflow
from workflows.policies import (
    AUTH_QUEUE,
    BILLING_QUEUE,
    DELIVERY_QUEUE,
    NOTIFICATION_QUEUE,
    ORDER_QUEUE,
    PAYMENT_QUEUE,
    STORE_QUEUE,
    WORKFLOW_QUEUE,
)
from workflows.registration import RegistrationWorkflow

# Modules every workflow imports that hold only constants, dataclasses and pure helpers: loaded
# once instead of again inside the sandbox for every new run (the sandbox's import cost was most
# of the worker's CPU per checkout in bench/checkout.py). Workflow modules themselves stay
# sandboxed.
PURE_MODULES = ("models.payloads", "workflows.policies", "workflows.saga")
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(*PURE_MODULES)
)

WORKFLOWS: Sequence[type] = (
    RegistrationWorkflow,
    CheckoutWorkflow,
    PaymentWorkflow,
    LateBankPaymentWorkflow,
)


@dataclass
class Dependencies:
    engine: AsyncEngine | None
    session_factory: SessionFactory
    mailer: Mailer
    store_url: str
    couriers: CourierGateway
    bank: BankGateway


def build_dependencies(settings: Settings) -> Dependencies:
    engine = create_engine(settings.database_url)
    return Dependencies(
        engine=engine,
        session_factory=create_session_factory(engine),
        mailer=SmtpMailer(
            host=settings.smtp_host, port=settings.smtp_port, sender=settings.mail_from
        ),
        store_url=settings.public_url,
        couriers=HttpCourierGateway(settings.couriers_url),
        bank=HttpBankGateway(settings.bank_url),
    )


def activities_by_queue(deps: Dependencies) -> dict[str, list[Any]]:
    """Each domain's activities, keyed by the task queue that serves them."""
    auth = AuthActivities(deps.session_factory)
    billing = BillingActivities(deps.session_factory)
    payment = PaymentActivities(deps.session_factory, deps.bank)
    notification = NotificationActivities(deps.session_factory, deps.mailer, deps.store_url)
    order = OrderActivities(deps.session_factory)
    store = StoreActivities(deps.session_factory)
    delivery = DeliveryActivities(deps.session_factory, deps.couriers)
    return {
        AUTH_QUEUE: [auth.create_user, auth.delete_user],
        BILLING_QUEUE: [
            billing.open_wallet,
            billing.close_empty_wallet,
            billing.debit_wallet,
            billing.refund_wallet,
            billing.debit_gift_card,
            billing.refund_gift_card,
        ],
        PAYMENT_QUEUE: [
            payment.create_profile,
            payment.delete_profile,
            payment.create_bank_payment,
            payment.charge_saved_card,
            payment.bank_payment_status,
            payment.save_card,
            payment.refund_bank_payment,
        ],
        NOTIFICATION_QUEUE: [
            notification.create_account,
            notification.delete_account,
            notification.send_welcome_mail,
            notification.send_result_mail,
        ],
        ORDER_QUEUE: [order.begin_checkout, order.finish_checkout],
        STORE_QUEUE: [store.hold_stock, store.release_stock, store.confirm_stock],
        DELIVERY_QUEUE: [delivery.quote, delivery.open_case, delivery.cancel_case],
    }


def build_workers(
    client: Client, deps: Dependencies, queues: Sequence[str] | None = None
) -> list[Worker]:
    """One Worker per task queue (all of them unless `queues` names some)."""
    wanted = set(queues) if queues else None
    workers = []
    if wanted is None or WORKFLOW_QUEUE in wanted:
        workers.append(
            Worker(
                client,
                task_queue=WORKFLOW_QUEUE,
                workflows=list(WORKFLOWS),
                workflow_runner=WORKFLOW_RUNNER,
            )
        )
    for queue, activities in activities_by_queue(deps).items():
        if wanted is None or queue in wanted:
            workers.append(Worker(client, task_queue=queue, activities=activities))
    return workers
