"""PaymentWorkflow `payment-{purpose}-{id}-{attempt}`: one attempt to take money for an order,
a gift card or a top-up, by the chosen method; the shopper gets the result by mail either way.

- WALLET and GIFT_CARD: one debit in billing.
- BANK_CARD with a remembered card: one server-to-server charge of its bank token.
- BANK_CARD «другая карта» and SBP: a payment on the bank's own page. The run tells its parent the
  page's URL (signal `bank_page`), then waits for the bank's callback (signal `bank_callback`,
  checked by the API), asking the bank itself every `poll_seconds` in case a callback is late or
  lost. The callback only wakes the run: the bank's answer to `bank_payment_status` decides, so a
  duplicated or reordered callback changes nothing. After `wait_seconds` the attempt fails, and a
  LateBankPayment run (`bank-late-{paymentId}`, outliving this one) refunds the payment should the
  bank still complete it.

Every money step's idempotency key is `payment-{purpose}-{id}-{attempt}`: a retried activity or a
restarted worker reaches the same debit or bank payment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

from models.payloads import (
    BankNotice,
    BankOutcome,
    BankPaymentInput,
    BankPaymentRef,
    BankRefundInput,
    BankSetup,
    GiftCardMoveInput,
    LatePaymentInput,
    MoneyMoved,
    PaymentInput,
    PaymentResult,
    RefundInput,
    ResultMailInput,
    SaveCardInput,
    SavedCardChargeInput,
    WalletMoveInput,
)
from workflows.policies import (
    BANK_STEP,
    BILLING_QUEUE,
    COMPENSATION,
    CUSTOMER_ID,
    DB_STEP,
    FLOW_STATUS,
    MAIL_STEP,
    NOTIFICATION_QUEUE,
    ORDER_ID,
    PAYMENT_METHOD,
    PAYMENT_QUEUE,
)

with workflow.unsafe.imports_passed_through():
    from activities.billing import BillingActivities
    from activities.notification import NotificationActivities
    from activities.payment import PaymentActivities

DECLINES = {
    "InsufficientFundsError",
    "PaymentDeclinedError",
    "ValidationError",
    "NotFoundError",
    "ConflictError",
}


def payment_key(data: PaymentInput) -> str:
    return f"payment-{data.purpose}-{data.reference_id}-{data.attempt}"


def _roubles(kopecks: int) -> str:
    return f"{kopecks / 100:.2f} ₽"


class Declined(Exception):
    """An attempt the shopper's means refused: non-retryable, shown with its reason."""

    def __init__(self, message: str, error_type: str = "PaymentDeclinedError") -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type


def _declined_by(exc: ActivityError) -> Declined:
    """A refusal keeps its reason; a service that stayed down past the step's retries fails the
    attempt too (the shopper may try again), rather than the run."""
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type in DECLINES:
        return Declined(cause.message, cause.type or "PaymentDeclinedError")
    workflow.logger.warning("payment step failed: %s", cause)
    return Declined("Платёжный сервис временно недоступен: попробуйте ещё раз", "UnavailableError")


async def woken(condition: Callable[[], bool], seconds: float) -> bool:
    """Wait until `condition` holds (True) or `seconds` pass (False)."""
    try:
        await workflow.wait_condition(condition, timeout=seconds)
    except TimeoutError:
        return False
    return True


async def bank_status(payment_id: str) -> BankOutcome:
    return await workflow.execute_activity_method(
        PaymentActivities.bank_payment_status,
        BankPaymentRef(payment_id),
        summary=f"Статус платежа {payment_id} в банке",
        **BANK_STEP.options(PAYMENT_QUEUE),
    )


async def refund_payment(data: RefundInput) -> None:
    """Give a payment back by the way it came (a saga compensation: retried for a day)."""
    paid = data.payment
    amount = paid.amount_kopecks
    if paid.method == "WALLET":
        await workflow.execute_activity_method(
            BillingActivities.refund_wallet,
            WalletMoveInput(data.username, amount, data.idempotency_key, data.reference),
            summary=f"Откат: вернуть {_roubles(amount)} на кошелёк",
            **COMPENSATION.options(BILLING_QUEUE),
        )
    elif paid.method == "GIFT_CARD":
        assert paid.token_id is not None
        await workflow.execute_activity_method(
            BillingActivities.refund_gift_card,
            GiftCardMoveInput(
                data.username, paid.token_id, amount, data.idempotency_key, data.reference
            ),
            summary=f"Откат: вернуть {_roubles(amount)} на подарочную карту {paid.masked}",
            **COMPENSATION.options(BILLING_QUEUE),
        )
    else:
        await workflow.execute_activity_method(
            PaymentActivities.refund_bank_payment,
            BankRefundInput(paid.bank_payment_id, amount, data.idempotency_key),
            summary=f"Откат: вернуть {_roubles(amount)} через банк ({paid.bank_payment_id})",
            **COMPENSATION.options(PAYMENT_QUEUE),
        )


async def send_payment_mail(
    *, kind: str, username: str, reference_id: str, key: str, result: PaymentResult
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
            **MAIL_STEP.options(NOTIFICATION_QUEUE),
        )
    except ActivityError as exc:
        workflow.logger.warning("payment mail not sent: %s", exc.cause)


@workflow.defn(name="Payment")
class PaymentWorkflow:
    @workflow.init
    def __init__(self, data: PaymentInput) -> None:
        self._bank_payment_id = ""
        self._page_url = ""
        self._woken = False
        self._given_up = False

    @workflow.signal
    def give_up(self) -> None:
        """The buyer left the bank's page («Выбрать другой способ оплаты»): stop waiting. If the
        bank still completes the payment, the LateBankPayment run gives the money back."""
        self._given_up = True

    @workflow.signal
    def bank_callback(self, notice: BankNotice) -> None:
        """The bank says this payment changed (the API checked its signature). It only wakes the
        run: the status is then asked from the bank, so duplicates and reordering do no harm."""
        if notice.payment_id == self._bank_payment_id:
            self._woken = True

    @workflow.query
    def bank_page(self) -> str:
        """The bank's page for the buyer while the run waits for it, else ""."""
        return self._page_url

    @workflow.run
    async def run(self, data: PaymentInput) -> PaymentResult:
        workflow.upsert_search_attributes(
            [
                CUSTOMER_ID.value_set(data.username),
                PAYMENT_METHOD.value_set(data.method),
                FLOW_STATUS.value_set("PAYING"),
                *([ORDER_ID.value_set(data.reference_id)] if data.purpose == "order" else []),
            ]
        )
        try:
            result = await self._charge(data)
        except Declined as declined:
            result = PaymentResult(
                status="DECLINED",
                method=data.method,
                amount_kopecks=data.amount_kopecks,
                message=declined.message,
                error_type=declined.error_type,
                token_id=data.token_id,
            )
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(result.status)])
        await send_payment_mail(
            kind="PAYMENT",
            username=data.username,
            reference_id=data.reference_id,
            key=f"{payment_key(data)}-mail",
            result=result,
        )
        return result

    async def _charge(self, data: PaymentInput) -> PaymentResult:
        if data.method in ("WALLET", "GIFT_CARD"):
            return await self._billing(data)
        if data.method == "BANK_CARD" and data.token_id is not None:
            return self._from_bank(data, await self._saved_card(data))
        if data.method in ("BANK_CARD", "SBP"):
            return await self._bank_page(data)
        raise Declined("Неизвестный способ оплаты", "ValidationError")

    def _paid(
        self,
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

    async def _billing(self, data: PaymentInput) -> PaymentResult:
        key, reference = payment_key(data), f"{data.purpose}:{data.reference_id}"
        try:
            if data.method == "WALLET":
                moved: MoneyMoved = await workflow.execute_activity_method(
                    BillingActivities.debit_wallet,
                    WalletMoveInput(data.username, data.amount_kopecks, key, reference),
                    summary=f"Списать {_roubles(data.amount_kopecks)} с кошелька {data.username}",
                    **DB_STEP.options(BILLING_QUEUE),
                )
            else:
                if data.token_id is None:
                    raise Declined("Выберите подарочную карту", "ValidationError")
                moved = await workflow.execute_activity_method(
                    BillingActivities.debit_gift_card,
                    GiftCardMoveInput(
                        data.username, data.token_id, data.amount_kopecks, key, reference
                    ),
                    summary=f"Списать {_roubles(data.amount_kopecks)} с подарочной карты",
                    **DB_STEP.options(BILLING_QUEUE),
                )
        except ActivityError as exc:
            raise _declined_by(exc) from exc
        return self._paid(data, transaction_id=moved.transaction_id, masked=moved.masked)

    async def _saved_card(self, data: PaymentInput) -> BankOutcome:
        assert data.token_id is not None
        try:
            return await workflow.execute_activity_method(
                PaymentActivities.charge_saved_card,
                SavedCardChargeInput(
                    username=data.username,
                    card_id=data.token_id,
                    amount_kopecks=data.amount_kopecks,
                    idempotency_key=payment_key(data),
                    description=self._description(data),
                ),
                summary=f"Списать {_roubles(data.amount_kopecks)} с сохранённой карты",
                **BANK_STEP.options(PAYMENT_QUEUE),
            )
        except ActivityError as exc:
            raise _declined_by(exc) from exc

    def _description(self, data: PaymentInput) -> str:
        what = {"order": "Заказ", "giftcard": "Подарочная карта", "topup": "Пополнение кошелька"}
        return f"Shopflow: {what.get(data.purpose, data.purpose)} {data.reference_id[:8]}"

    def _from_bank(self, data: PaymentInput, outcome: BankOutcome) -> PaymentResult:
        if not outcome.paid:
            raise Declined(outcome.decline_reason or "Банк отклонил операцию")
        return self._paid(data, masked=outcome.masked, bank_payment_id=outcome.payment_id)

    async def _bank_page(self, data: PaymentInput) -> PaymentResult:
        bank = data.bank
        if bank is None:
            raise Declined("Оплата через банк не настроена", "ValidationError")
        try:
            created: BankOutcome = await workflow.execute_activity_method(
                PaymentActivities.create_bank_payment,
                BankPaymentInput(
                    username=data.username,
                    method="SBP" if data.method == "SBP" else "CARD",
                    amount_kopecks=data.amount_kopecks,
                    idempotency_key=payment_key(data),
                    description=self._description(data),
                    return_url=bank.return_url,
                    callback_url=bank.callback_url,
                    save_card=data.save_card and data.method == "BANK_CARD",
                ),
                summary=f"Платёж {_roubles(data.amount_kopecks)} на странице банка",
                **BANK_STEP.options(PAYMENT_QUEUE),
            )
        except ActivityError as exc:
            raise _declined_by(exc) from exc
        self._bank_payment_id = created.payment_id
        self._page_url = created.confirmation_url
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                "bank_page", created.confirmation_url
            )
        final = await self._settled(created.payment_id, bank)
        self._page_url = ""
        if final is None:
            await self._watch_late(data, created.payment_id, bank)
            if self._given_up:
                raise Declined("Оплата на странице банка отменена")
            minutes = max(1, bank.wait_seconds // 60)
            raise Declined(f"Банк не подтвердил оплату за {minutes} мин.; попробуйте ещё раз")
        result = self._from_bank(data, final)
        if data.save_card and final.masked:
            await self._remember_card(data, final.payment_id)
        return result

    async def _settled(self, payment_id: str, bank: BankSetup) -> BankOutcome | None:
        """The bank's final word on the payment, or None if it gave none in time or the buyer
        gave up."""
        deadline = workflow.now() + timedelta(seconds=bank.wait_seconds)
        while True:
            left = (deadline - workflow.now()).total_seconds()
            if left > 0:
                await woken(lambda: self._woken or self._given_up, min(bank.poll_seconds, left))
            self._woken = False
            current = await bank_status(payment_id)
            if current.final:
                return current
            if left <= 0 or self._given_up:
                return None

    async def _watch_late(self, data: PaymentInput, payment_id: str, bank: BankSetup) -> None:
        await workflow.start_child_workflow(
            LateBankPaymentWorkflow.run,
            LatePaymentInput(
                username=data.username,
                payment_id=payment_id,
                method=data.method,
                reference=data.reference_id,
                poll_seconds=max(60, bank.poll_seconds),
            ),
            id=f"bank-late-{payment_id}",
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"Возврат платежа {payment_id}, если банк проведёт его поздно",
        )

    async def _remember_card(self, data: PaymentInput, payment_id: str) -> None:
        """«Запомнить карту»: the payment stands even if remembering fails."""
        try:
            await workflow.execute_activity_method(
                PaymentActivities.save_card,
                SaveCardInput(data.username, payment_id),
                summary="Запомнить карту клиента",
                **DB_STEP.options(PAYMENT_QUEUE),
            )
        except ActivityError as exc:
            workflow.logger.warning("card not remembered: %s", exc.cause)


@workflow.defn(name="LateBankPayment")
class LateBankPaymentWorkflow:
    """Watches a bank payment its PaymentWorkflow gave up on; if the bank still takes the money,
    gives it back in full and tells the shopper. Ends when the payment is final or after a day."""

    def __init__(self) -> None:
        self._woken = False

    @workflow.signal
    def bank_callback(self, notice: BankNotice) -> None:
        self._woken = True

    @workflow.run
    async def run(self, data: LatePaymentInput) -> str:
        workflow.upsert_search_attributes(
            [
                CUSTOMER_ID.value_set(data.username),
                PAYMENT_METHOD.value_set(data.method),
                FLOW_STATUS.value_set("WATCHING"),
            ]
        )
        deadline = workflow.now() + timedelta(seconds=data.watch_seconds)
        while workflow.now() < deadline:
            await woken(lambda: self._woken, data.poll_seconds)
            self._woken = False
            current = await bank_status(data.payment_id)
            if current.status == "PENDING":
                continue
            if current.status == "SUCCEEDED":
                await self._refund(data, current)
                return self._done("REFUNDED")
            return self._done(current.status)
        return self._done("UNSETTLED")

    def _done(self, status: str) -> str:
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(status)])
        return status

    async def _refund(self, data: LatePaymentInput, current: BankOutcome) -> None:
        left = current.amount_kopecks - current.refunded_kopecks
        await workflow.execute_activity_method(
            PaymentActivities.refund_bank_payment,
            BankRefundInput(data.payment_id, left, f"late-refund-{data.payment_id}"),
            summary=f"Вернуть {_roubles(left)}: банк провёл платёж после отказа",
            **COMPENSATION.options(PAYMENT_QUEUE),
        )
        await send_payment_mail(
            kind="REFUND",
            username=data.username,
            reference_id=data.reference,
            key=f"late-refund-{data.payment_id}-mail",
            result=PaymentResult(
                status="REFUNDED",
                method=data.method,
                amount_kopecks=left,
                masked=current.masked,
                message="Банк провёл платёж после того, как попытка оплаты была отменена",
                bank_payment_id=data.payment_id,
            ),
        )
