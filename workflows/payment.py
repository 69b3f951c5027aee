"""PaymentWorkflow (its id is the attempt's key, e.g. `payment-order-{orderId}-v{version}-{n}`):
one attempt to take money for an order, a gift card or a top-up, by the chosen method; the
shopper gets the result by mail either way.

- WALLET, GIFT_CARD and a remembered BANK_CARD answer at once (`workflows.money.take_at_once`;
  the checkout calls that inline instead of starting this run).
- BANK_CARD «другая карта» and SBP: a payment on the bank's own page. The run tells its parent the
  page's URL (refs.Checkout.bank_page_opened), then waits for the bank's callback (signal
  `bank_callback`, checked by the API), asking the bank itself every `poll_seconds` in case a
  callback is late or lost. The callback only wakes the run: the bank's answer to
  `bank_payment_status` decides, so a duplicated or reordered callback changes nothing. After
  `wait_seconds` the attempt fails, and a LateBankPayment run (`bank-late-{paymentId}`, outliving
  this one) refunds the payment should the bank still complete it.

Every money step's idempotency key is the attempt's key: a retried activity or a restarted worker
reaches the same debit or bank payment.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError
from temporalio.workflow import ParentClosePolicy

from models.payloads import (
    BankNotice,
    BankOutcome,
    BankPaymentInput,
    BankRefundInput,
    BankSetup,
    LatePaymentInput,
    PaymentInput,
    PaymentResult,
    SaveCardInput,
)
from workflows import refs
from workflows.money import (
    Declined,
    answers_at_once,
    bank_status,
    declined,
    declined_by,
    description,
    from_bank,
    payment_key,
    roubles,
    send_payment_mail,
    take_at_once,
)
from workflows.policies import (
    BANK_STEP,
    COMPENSATION,
    CUSTOMER_ID,
    DB_STEP,
    FLOW_STATUS,
    ORDER_ID,
    PAYMENT,
    PAYMENT_METHOD,
    count_outcome,
)

with workflow.unsafe.imports_passed_through():
    from activities.payment import PaymentActivities


async def woken(condition: Callable[[], bool], seconds: float) -> bool:
    """Wait until `condition` holds (True) or `seconds` pass (False)."""
    try:
        await workflow.wait_condition(condition, timeout=seconds)
    except TimeoutError:
        return False
    return True


@workflow.defn(name=refs.Payment.workflow.name)
class PaymentWorkflow:
    @workflow.init
    def __init__(self, data: PaymentInput) -> None:
        self._bank_payment_id = ""
        self._page_url = ""
        self._woken = False
        self._given_up = False

    @workflow.signal(name=refs.Payment.give_up.name)
    def give_up(self) -> None:
        """The buyer left the bank's page («Выбрать другой способ оплаты»): stop waiting. If the
        bank still completes the payment, the LateBankPayment run gives the money back."""
        self._given_up = True

    @workflow.signal(name=refs.Payment.bank_callback.name)
    def bank_callback(self, notice: BankNotice) -> None:
        """The bank says this payment changed (the API checked its signature). It only wakes the
        run: the status is then asked from the bank, so duplicates and reordering do no harm."""
        if notice.payment_id == self._bank_payment_id:
            self._woken = True

    @workflow.query(name=refs.Payment.bank_page_url.name)
    def bank_page_url(self) -> str:
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
        if answers_at_once(data.method, data.token_id):
            result = await take_at_once(data)
        else:
            try:
                result = await self._bank_page(data)
            except Declined as refusal:
                result = declined(data, refusal)
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(result.status)])
        count_outcome("payment", method=data.method, purpose=data.purpose, status=result.status)
        await send_payment_mail(
            kind="PAYMENT",
            username=data.username,
            reference_id=data.reference_id,
            key=f"{payment_key(data)}-mail",
            result=result,
            queues=data.queues,
        )
        return result

    async def _bank_page(self, data: PaymentInput) -> PaymentResult:
        """BANK_CARD «другая карта» and SBP: the buyer pays on the bank's own page."""
        bank = data.bank
        if data.method not in ("BANK_CARD", "SBP"):
            raise Declined("Неизвестный способ оплаты", "ValidationError")
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
                    description=description(data),
                    return_url=bank.return_url,
                    callback_url=bank.callback_url,
                    save_card=data.save_card and data.method == "BANK_CARD",
                ),
                summary=f"Платёж {roubles(data.amount_kopecks)} на странице банка",
                **BANK_STEP.options(data.queues, PAYMENT),
            )
        except ActivityError as exc:
            raise declined_by(exc) from exc
        self._bank_payment_id = created.payment_id
        self._page_url = created.confirmation_url
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                refs.Checkout.bank_page_opened.name, created.confirmation_url
            )
        final = await self._settled(created.payment_id, bank, data)
        self._page_url = ""
        if final is None:
            await self._watch_late(data, created.payment_id, bank)
            if self._given_up:
                raise Declined("Оплата на странице банка отменена")
            minutes = max(1, bank.wait_seconds // 60)
            raise Declined(f"Банк не подтвердил оплату за {minutes} мин.; попробуйте ещё раз")
        result = from_bank(data, final)
        if data.save_card and final.masked:
            await self._remember_card(data, final.payment_id)
        return result

    async def _settled(
        self, payment_id: str, bank: BankSetup, data: PaymentInput
    ) -> BankOutcome | None:
        """The bank's final word on the payment, or None if it gave none in time or the buyer
        gave up."""
        deadline = workflow.now() + timedelta(seconds=bank.wait_seconds)
        while True:
            left = (deadline - workflow.now()).total_seconds()
            if left > 0:
                await woken(lambda: self._woken or self._given_up, min(bank.poll_seconds, left))
            self._woken = False
            current = await bank_status(payment_id, data.queues)
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
                queues=data.queues,
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
                **DB_STEP.options(data.queues, PAYMENT),
            )
        except ActivityError as exc:
            workflow.logger.warning("card not remembered: %s", exc.cause)


@workflow.defn(name=refs.LateBankPayment.workflow.name)
class LateBankPaymentWorkflow:
    """Watches a bank payment its PaymentWorkflow gave up on; if the bank still takes the money,
    gives it back in full and tells the shopper. Ends when the payment is final or after a day.

    It asks the bank after `poll_seconds`, then twice as long each time up to `max_poll_seconds`
    (about 30 questions in a day, not 1 440); a callback wakes it at once."""

    def __init__(self) -> None:
        self._woken = False

    @workflow.signal(name=refs.LateBankPayment.bank_callback.name)
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
        pause = data.poll_seconds
        while workflow.now() < deadline:
            left = (deadline - workflow.now()).total_seconds()
            await woken(lambda: self._woken, min(pause, left))
            pause = min(pause * 2, max(data.poll_seconds, data.max_poll_seconds))
            self._woken = False
            current = await bank_status(data.payment_id, data.queues)
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
            summary=f"Вернуть {roubles(left)}: банк провёл платёж после отказа",
            **COMPENSATION.options(data.queues, PAYMENT),
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
            queues=data.queues,
        )


async def attempt(
    payment: PaymentInput, summary: str, later: Callable[[Coroutine[Any, Any, None]], None]
) -> PaymentResult:
    """One payment attempt as a flow (a checkout, a purchase) runs it: the bank's pages in a child
    Payment run `payment.key` (it waits for the bank and mails the result); a method that answers
    at once inline, its result mail handed to `later` (sent while the flow goes on)."""
    if not answers_at_once(payment.method, payment.token_id):
        return await workflow.execute_child_workflow(
            PaymentWorkflow.run,
            payment,
            id=payment.key,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=summary,
        )
    result = await take_at_once(payment)
    count_outcome("payment", method=payment.method, purpose=payment.purpose, status=result.status)
    later(
        send_payment_mail(
            kind="PAYMENT",
            username=payment.username,
            reference_id=payment.reference_id,
            key=f"{payment.key}-mail",
            result=result,
            queues=payment.queues,
        )
    )
    return result
