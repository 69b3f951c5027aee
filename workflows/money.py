"""Workflow helpers that move money, shared by the checkout and the payment runs.

- `take_at_once`: the methods the store's own services answer at once — WALLET and GIFT_CARD (one
  debit in billing, a local activity) and a remembered BANK_CARD (one server-to-server charge of
  its bank token). The checkout calls it inline: no child run where a payment answers at once.
- `refund_payment`: give a payment back by the way it came (a saga compensation).
- `send_payment_mail`: the result of an attempt (the spec's Format 3) as an e-mail.

Every money step's idempotency key is the attempt's key (`payment_key`): a retried activity or a
restarted worker reaches the same debit or bank payment.
"""

from __future__ import annotations

from temporalio import workflow

from models.payloads import (
    BankOutcome,
    BankPaymentRef,
    BankRefundInput,
    GiftCardMoveInput,
    MailKind,
    MoneyMoved,
    PaymentInput,
    PaymentResult,
    Queues,
    RefundInput,
    ResultMailInput,
    SavedCardChargeInput,
    WalletMoveInput,
)
from workflows.failures import STEP_FAILURES, application_error
from workflows.policies import (
    BANK_STEP,
    BILLING,
    COMPENSATION,
    DB_STEP,
    MAIL_STEP,
    NOTIFICATION,
    PAYMENT,
)

with workflow.unsafe.imports_passed_through():
    from activities.billing import BillingActivities
    from activities.money import format_roubles
    from activities.notification import NotificationActivities
    from activities.payment import PaymentActivities

# The refusals a shopper can act on: the attempt ends DECLINED with their reason.
DECLINES = {
    "InsufficientFundsError",
    "PaymentDeclinedError",
    "ValidationError",
    "NotFoundError",
    "ConflictError",
}
AT_ONCE = {"WALLET", "GIFT_CARD"}


def payment_key(data: PaymentInput) -> str:
    return data.key or f"payment-{data.purpose}-{data.reference_id}-{data.attempt}"


def answers_at_once(method: str, token_id: int | None) -> bool:
    """Wallet, gift card and a remembered card: no bank page, no waiting."""
    return method in AT_ONCE or (method == "BANK_CARD" and token_id is not None)


def roubles(kopecks: int) -> str:
    """An amount in a step's summary, as the pages and mails show it (`core.money`)."""
    return format_roubles(kopecks)


class Declined(Exception):
    """An attempt the shopper's means refused: non-retryable, shown with its reason."""

    def __init__(self, message: str, error_type: str = "PaymentDeclinedError") -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type


def declined_by(exc: BaseException) -> Declined:
    """A refusal keeps its reason; a service that stayed down past the step's retries fails the
    attempt too (the shopper may try again), rather than the run."""
    cause = application_error(exc)
    if cause is not None and cause.type in DECLINES:
        return Declined(cause.message, cause.type or "PaymentDeclinedError")
    workflow.logger.warning("payment step failed: %s", exc)
    return Declined("Платёжный сервис временно недоступен: попробуйте ещё раз", "UnavailableError")


def paid(
    data: PaymentInput,
    *,
    transaction_id: int | None = None,
    masked: str = "",
    bank_payment_id: str = "",
) -> PaymentResult:
    return PaymentResult(
        status="PAID",
        method=data.method,
        amount_kopecks=data.amount_kopecks,
        transaction_id=transaction_id,
        token_id=data.token_id,
        masked=masked,
        bank_payment_id=bank_payment_id,
    )


def declined(data: PaymentInput, refusal: Declined) -> PaymentResult:
    return PaymentResult(
        status="DECLINED",
        method=data.method,
        amount_kopecks=data.amount_kopecks,
        message=refusal.message,
        error_type=refusal.error_type,
        token_id=data.token_id,
    )


def from_bank(data: PaymentInput, outcome: BankOutcome) -> PaymentResult:
    if not outcome.paid:
        raise Declined(outcome.decline_reason or "Банк отклонил операцию")
    return paid(data, masked=outcome.masked, bank_payment_id=outcome.payment_id)


def description(data: PaymentInput) -> str:
    what = {"order": "Заказ", "giftcard": "Подарочная карта", "topup": "Пополнение кошелька"}
    return f"Shopflow: {what.get(data.purpose, data.purpose)} {data.reference_id[:8]}"


async def take_at_once(data: PaymentInput) -> PaymentResult:
    """One attempt by a method that answers at once; DECLINED (never raised) when refused."""
    try:
        if data.method == "BANK_CARD" and data.token_id is not None:
            return from_bank(data, await _charge_saved_card(data))
        if data.method in AT_ONCE:
            return await _debit(data)
        raise Declined("Неизвестный способ оплаты", "ValidationError")
    except Declined as refusal:
        return declined(data, refusal)


async def _debit(data: PaymentInput) -> PaymentResult:
    key, reference = payment_key(data), f"{data.purpose}:{data.reference_id}"
    try:
        if data.method == "WALLET":
            moved: MoneyMoved = await workflow.execute_local_activity_method(
                BillingActivities.debit_wallet,
                WalletMoveInput(data.username, data.amount_kopecks, key, reference),
                summary=f"Списать {roubles(data.amount_kopecks)} с кошелька {data.username}",
                **DB_STEP.local(),
            )
        else:
            if data.token_id is None:
                raise Declined("Выберите подарочную карту", "ValidationError")
            moved = await workflow.execute_local_activity_method(
                BillingActivities.debit_gift_card,
                GiftCardMoveInput(
                    data.username, data.token_id, data.amount_kopecks, key, reference
                ),
                summary=f"Списать {roubles(data.amount_kopecks)} с подарочной карты",
                **DB_STEP.local(),
            )
    except STEP_FAILURES as exc:
        raise declined_by(exc) from exc
    return paid(data, transaction_id=moved.transaction_id, masked=moved.masked)


async def _charge_saved_card(data: PaymentInput) -> BankOutcome:
    assert data.token_id is not None
    try:
        outcome: BankOutcome = await workflow.execute_activity_method(
            PaymentActivities.charge_saved_card,
            SavedCardChargeInput(
                username=data.username,
                card_id=data.token_id,
                amount_kopecks=data.amount_kopecks,
                idempotency_key=payment_key(data),
                description=description(data),
            ),
            summary=f"Списать {roubles(data.amount_kopecks)} с сохранённой карты",
            **BANK_STEP.options(data.queues, PAYMENT),
        )
    except STEP_FAILURES as exc:
        raise declined_by(exc) from exc
    return outcome


async def bank_status(payment_id: str, queues: Queues) -> BankOutcome:
    return await workflow.execute_activity_method(
        PaymentActivities.bank_payment_status,
        BankPaymentRef(payment_id),
        summary=f"Статус платежа {payment_id} в банке",
        **BANK_STEP.options(queues, PAYMENT),
    )


async def refund_payment(data: RefundInput, queues: Queues) -> None:
    """Give a payment back by the way it came (a saga compensation: retried for a day)."""
    done = data.payment
    amount = done.amount_kopecks
    if done.method == "WALLET":
        await workflow.execute_activity_method(
            BillingActivities.refund_wallet,
            WalletMoveInput(data.username, amount, data.idempotency_key, data.reference),
            summary=f"Откат: вернуть {roubles(amount)} на кошелёк",
            **COMPENSATION.options(queues, BILLING),
        )
    elif done.method == "GIFT_CARD":
        assert done.token_id is not None
        await workflow.execute_activity_method(
            BillingActivities.refund_gift_card,
            GiftCardMoveInput(
                data.username, done.token_id, amount, data.idempotency_key, data.reference
            ),
            summary=f"Откат: вернуть {roubles(amount)} на подарочную карту {done.masked}",
            **COMPENSATION.options(queues, BILLING),
        )
    else:
        await workflow.execute_activity_method(
            PaymentActivities.refund_bank_payment,
            BankRefundInput(done.bank_payment_id, amount, data.idempotency_key),
            summary=f"Откат: вернуть {roubles(amount)} через банк ({done.bank_payment_id})",
            **COMPENSATION.options(queues, PAYMENT),
        )


async def send_payment_mail(
    *,
    kind: MailKind,
    username: str,
    reference_id: str,
    key: str,
    result: PaymentResult,
    queues: Queues,
) -> None:
    """Format 3 as an e-mail; a mail that cannot be sent does not change the payment."""
    try:
        await workflow.execute_activity_method(
            NotificationActivities.send_result_mail,
            ResultMailInput(
                kind=kind,
                order_id=reference_id,
                username=username,
                success=result.status in ("PAID", "REFUNDED"),
                amount_kopecks=result.amount_kopecks,
                detail=result.message,
                idempotency_key=key,
                method=result.method,
                masked=result.masked,
            ),
            summary=f"Письмо о результате оплаты {username}",
            **MAIL_STEP.options(queues, NOTIFICATION),
        )
    except STEP_FAILURES as exc:
        workflow.logger.warning("payment mail not sent: %s", exc)
