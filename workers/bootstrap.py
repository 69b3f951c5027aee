"""The composition root: builds every dependency of the worker from settings, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.account import DEV_ACCOUNT_SECRET, AccountActivities
from activities.auth import AuthActivities
from activities.billing import DEV_GIFT_CARD_SECRET, BillingActivities
from activities.delivery import DeliveryActivities
from activities.notification import NotificationActivities
from activities.order import OrderActivities
from activities.payment import PaymentActivities
from activities.store import StoreActivities
from adapters.bank import BankGateway, HttpBankGateway
from adapters.couriers import CourierGateway, HttpCourierGateway
from adapters.mailer import Mailer, SmtpMailer
from adapters.sms import HttpSmsGateway, SmsGateway
from core.db import SessionFactory, create_engine, create_session_factory
from core.settings import Settings
from models.payloads import Queues
from workflows.account import EmailChangeWorkflow
from workflows.checkout import CheckoutWorkflow
from workflows.fulfilment import FulfilmentWorkflow
from workflows.payment import LateBankPaymentWorkflow, PaymentWorkflow
from workflows.policies import AUTH, BILLING, DELIVERY, NOTIFICATION, ORDER, PAYMENT, STORE
from workflows.purchase import GiftCardWorkflow, WalletTopUpWorkflow
from workflows.registration import RegistrationWorkflow

# Modules every workflow imports that hold only constants, dataclasses and pure helpers: loaded
# once instead of again inside the sandbox for every new run (the sandbox's import cost was most
# of the worker's CPU per checkout in bench/checkout.py). Workflow modules themselves stay
# sandboxed.
PURE_MODULES = (
    "models.payloads",
    "models.payloads_account",
    "models.payloads_purchase",
    "models.payloads_fulfilment",
    "workflows.policies",
    "workflows.saga",
    "workflows.failures",
    "workflows.money",
    "workflows.refs",
)
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(*PURE_MODULES)
)

WORKFLOWS: Sequence[type] = (
    RegistrationWorkflow,
    CheckoutWorkflow,
    PaymentWorkflow,
    LateBankPaymentWorkflow,
    GiftCardWorkflow,
    WalletTopUpWorkflow,
    FulfilmentWorkflow,
    EmailChangeWorkflow,
)


@dataclass
class Dependencies:
    engine: AsyncEngine | None
    session_factory: SessionFactory
    mailer: Mailer
    store_url: str
    couriers: CourierGateway
    bank: BankGateway
    gift_card_secret: str = DEV_GIFT_CARD_SECRET
    # The key of e-mail change links (activities/account.py); the app checks them with it too.
    account_secret: str = DEV_ACCOUNT_SECRET
    sms: SmsGateway | None = None  # none: SMS notices are recorded, not sent


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
        gift_card_secret=settings.gift_card_secret.get_secret_value(),
        account_secret=settings.account_secret.get_secret_value(),
        sms=HttpSmsGateway(settings.sms_url, settings.sms_api_key.get_secret_value()),
    )


# The checkout's short database steps run as local activities: in the workflow's worker, whatever
# the queue layout (workflows/checkout.py, workflows/money.py).
LOCAL_ACTIVITIES = frozenset(
    {
        "order.begin_checkout",
        "order.finish_checkout",
        "store.hold_stock",
        "store.release_stock",
        "store.confirm_stock",
        "delivery.quote",
        "delivery.open_case",
        "billing.debit_wallet",
        "billing.debit_gift_card",
    }
)


def activities_by_domain(deps: Dependencies) -> dict[str, list[Any]]:
    """Each domain's activities (in the split layout each domain's queue serves its own)."""
    auth = AuthActivities(deps.session_factory)
    billing = BillingActivities(deps.session_factory, deps.gift_card_secret)
    payment = PaymentActivities(deps.session_factory, deps.bank)
    notification = NotificationActivities(
        deps.session_factory, deps.mailer, deps.store_url, deps.gift_card_secret, deps.sms
    )
    order = OrderActivities(deps.session_factory)
    store = StoreActivities(deps.session_factory)
    delivery = DeliveryActivities(deps.session_factory, deps.couriers)
    account = AccountActivities(
        deps.session_factory, deps.mailer, deps.store_url, deps.account_secret
    )
    return {
        AUTH: [auth.create_user, auth.delete_user, account.change_email],
        BILLING: [
            billing.open_wallet,
            billing.close_empty_wallet,
            billing.debit_wallet,
            billing.refund_wallet,
            billing.debit_gift_card,
            billing.refund_gift_card,
            billing.issue_gift_card,
            billing.credit_wallet,
        ],
        PAYMENT: [
            payment.create_profile,
            payment.delete_profile,
            payment.create_bank_payment,
            payment.charge_saved_card,
            payment.bank_payment_status,
            payment.save_card,
            payment.refund_bank_payment,
        ],
        NOTIFICATION: [
            notification.create_account,
            notification.delete_account,
            notification.send_welcome_mail,
            notification.send_result_mail,
            notification.send_gift_card_mail,
            notification.send_delivery_notice,
            account.send_email_confirmation,
            account.change_email_channel,
        ],
        ORDER: [order.begin_checkout, order.finish_checkout, order.close_order],
        STORE: [store.hold_stock, store.release_stock, store.confirm_stock],
        DELIVERY: [delivery.quote, delivery.open_case, delivery.cancel_case],
    }


def _name(activity: Any) -> str:
    defn = getattr(activity, "__temporal_activity_definition", None)
    return str(getattr(defn, "name", ""))


def build_workers(
    client: Client,
    deps: Dependencies,
    queues: Queues,
    only: Sequence[str] | None = None,
    activities: dict[str, list[Any]] | None = None,
    **worker_options: Any,
) -> list[Worker]:
    """The workers of a layout: one Worker for the one queue (workflows and every activity), or
    in the split layout one for the workflows (with the local activities they run) and one per
    domain queue. `only` names the queues to serve (all by default); `activities` replaces the
    real ones (tests, benchmarks)."""
    by_domain = activities if activities is not None else activities_by_domain(deps)
    wanted = set(only) if only else None
    every = [fn for functions in by_domain.values() for fn in functions]
    plan: list[tuple[str, list[Any], bool]] = []
    if not queues.split:
        plan.append((queues.workflows, every, True))
    else:
        local = [fn for fn in every if _name(fn) in LOCAL_ACTIVITIES]
        plan.append((queues.workflows, local, True))
        plan += [(queues.activities(domain), fns, False) for domain, fns in by_domain.items()]
    return [
        Worker(
            client,
            task_queue=queue,
            workflows=list(WORKFLOWS) if with_workflows else [],
            activities=functions,
            workflow_runner=WORKFLOW_RUNNER,
            **worker_options,
        )
        for queue, functions, with_workflows in plan
        if wanted is None or queue in wanted
    ]
