"""Purchases paid before anything is handed over: GiftCardWorkflow `giftcard-{uuid}` (a gift card
for someone: payment → billing issues the card → the grantee's mail with the postcard and the
code) and WalletTopUpWorkflow `topup-{uuid}` (payment → billing credits the wallet).

Both wait for «Оплатить» (an Update that answers paid, declined — then pay again — or with the
bank's page), run the payment like the checkout does (`purpose` giftcard or topup: inline for the
wallet and a remembered card, a child Payment run for the bank's pages), then fulfil. A fulfilment
that fails after the money was taken gives the money back; the run ends FAILED with the reason.
A purchase nobody pays for ends EXPIRED after the idle time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.payloads import (
    BankSetup,
    PaymentInput,
    PaymentResult,
    PayRequest,
    RefundInput,
    WalletMoveInput,
)
from models.payloads_purchase import (
    PURCHASE_METHODS,
    GiftCardMailInput,
    IssueGiftCardInput,
    PurchaseInput,
    PurchaseState,
    PurchaseStep,
)
from workflows import refs
from workflows.failures import STEP_FAILURES, message_of
from workflows.money import (
    refund_payment,
    roubles,
)
from workflows.policies import (
    BILLING,
    CUSTOMER_ID,
    DB_STEP,
    FLOW_STATUS,
    MAIL_STEP,
    NOTIFICATION,
    PAYMENT_METHOD,
)

with workflow.unsafe.imports_passed_through():
    from activities.billing import BillingActivities
    from activities.notification import NotificationActivities
    from workflows.payment import attempt

ANSWERED: frozenset[PurchaseStep] = frozenset(
    {"CHOOSING_PAYMENT", "AWAITING_BANK", "DONE", "FAILED", "EXPIRED"}
)


class _Purchase:
    """The handlers and the payment loop both purchases share; `_fulfil` is each one's own."""

    @workflow.init
    def __init__(self, data: PurchaseInput) -> None:
        self._input = data
        self._state = PurchaseState(
            purchase_id=data.purchase_id,
            kind=data.kind,
            username=data.username,
            amount_kopecks=data.amount_kopecks,
            grantee_name=data.gift.grantee_name if data.gift else "",
            grantee_email=data.gift.grantee_email if data.gift else "",
            design=data.gift.design if data.gift else "",
        )
        self._pay: PayRequest | None = None
        self._later: list[asyncio.Task[None]] = []  # mails sent while the run goes on

    @workflow.query(name=refs.Purchase.state.name)
    def state(self) -> PurchaseState:
        return self._state

    @workflow.update(name=refs.Purchase.pay.name)
    async def pay(self, request: PayRequest) -> PurchaseState:
        """«Оплатить»: answers when paid and handed over, declined (pay again), or with the
        bank's page (AWAITING_BANK)."""
        self._pay = request
        self._step("PAYING")
        await workflow.wait_condition(lambda: self._state.step in ANSWERED)
        return self._state

    @pay.validator
    def _validate_pay(self, request: PayRequest) -> None:
        if self._state.step != "CHOOSING_PAYMENT":
            raise ApplicationError(
                f"Сейчас это недоступно (шаг {self._state.step})", type="ConflictError"
            )
        if request.method not in PURCHASE_METHODS[self._input.kind]:
            raise ApplicationError("Этот способ оплаты здесь недоступен", type="ValidationError")

    @workflow.update(name=refs.Purchase.leave_bank_page.name)
    async def leave_bank_page(self) -> PurchaseState:
        """«Выбрать другой способ оплаты» while the bank's page is open."""
        await workflow.get_external_workflow_handle(self._payment_id()).signal(
            refs.Payment.give_up.name
        )
        await workflow.wait_condition(lambda: self._state.step != "AWAITING_BANK")
        return self._state

    @leave_bank_page.validator
    def _validate_leave(self) -> None:
        if self._state.step != "AWAITING_BANK":
            raise ApplicationError(
                f"Сейчас это недоступно (шаг {self._state.step})", type="ConflictError"
            )

    @workflow.signal(name=refs.Purchase.bank_page_opened.name)
    def bank_page_opened(self, url: str) -> None:
        """From the payment run: the buyer should now go to the bank's page."""
        if self._state.step == "PAYING":
            self._state.payment_url = url
            self._step("AWAITING_BANK")

    # --- the flow ----------------------------------------------------------------------------

    def _step(self, step: PurchaseStep) -> None:
        self._state.step = step
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(step)])

    def _payment_id(self) -> str:
        return f"payment-{self._input.purchase_id}-{self._state.payment_attempts}"

    async def _run(self, data: PurchaseInput) -> PurchaseState:
        workflow.upsert_search_attributes([CUSTOMER_ID.value_set(data.username)])
        payment = await self._until_paid(data)
        if payment is not None:
            self._step("FULFILLING")
            try:
                await self._fulfil(data)
            except STEP_FAILURES as exc:
                self._state.failure_reason = message_of(exc)
                await refund_payment(
                    RefundInput(
                        username=data.username,
                        payment=payment,
                        idempotency_key=f"refund-{self._payment_id()}",
                        reference=f"{data.kind}:{data.purchase_id}",
                    ),
                    data.queues,
                )
                self._step("FAILED")
            else:
                self._step("DONE")
        await asyncio.gather(*self._later)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _fulfil(self, data: PurchaseInput) -> None:
        raise NotImplementedError

    async def _until_paid(self, data: PurchaseInput) -> PaymentResult | None:
        idle = timedelta(seconds=data.idle_timeout_seconds)
        while True:
            try:
                await workflow.wait_condition(lambda: self._pay is not None, timeout=idle)
            except TimeoutError:
                self._state.failure_reason = "Время оплаты истекло"
                self._step("EXPIRED")
                return None
            assert self._pay is not None
            result = await self._attempt(data, self._pay)
            self._pay = None
            self._state.payment_url = ""
            if result.status == "PAID":
                return result
            self._state.last_error = result.message
            self._step("CHOOSING_PAYMENT")

    async def _attempt(self, data: PurchaseInput, request: PayRequest) -> PaymentResult:
        self._state.payment_attempts += 1
        self._state.payment_method = request.method
        workflow.upsert_search_attributes([PAYMENT_METHOD.value_set(request.method)])
        payment_id = self._payment_id()
        payment = PaymentInput(
            purpose=data.kind,
            reference_id=data.purchase_id,
            attempt=self._state.payment_attempts,
            username=data.username,
            amount_kopecks=data.amount_kopecks,
            method=request.method,
            token_id=request.token_id,
            save_card=request.save_card,
            bank=BankSetup(
                return_url=f"{data.public_url}/purchase/{data.purchase_id}/return",
                callback_url=f"{data.public_url}/payment/bank/callback?flow={payment_id}",
                wait_seconds=data.bank_wait_seconds,
                poll_seconds=data.bank_poll_seconds,
            ),
            queues=data.queues,
            key=payment_id,
        )
        return await attempt(payment, f"Оплата {roubles(data.amount_kopecks)}", self._later_task)

    def _later_task(self, mail: Coroutine[Any, Any, None]) -> None:
        self._later.append(asyncio.create_task(mail))


@workflow.defn(name=refs.GiftCard.workflow.name)
class GiftCardWorkflow(_Purchase):
    @workflow.run
    async def run(self, data: PurchaseInput) -> PurchaseState:
        return await self._run(data)

    async def _fulfil(self, data: PurchaseInput) -> None:
        """Billing issues the card; the grantee's mail (its code derived in the activity) goes
        out while the page already says it is done."""
        assert data.gift is not None
        card = await workflow.execute_activity_method(
            BillingActivities.issue_gift_card,
            IssueGiftCardInput(data.purchase_id, data.amount_kopecks, data.gift),
            summary=f"Выпустить подарочную карту на {roubles(data.amount_kopecks)}",
            **DB_STEP.options(data.queues, BILLING),
        )
        self._state.gift_card_id = card.id
        self._later_task(self._send_card(data, card.id))

    async def _send_card(self, data: PurchaseInput, card_id: int) -> None:
        assert data.gift is not None
        try:
            await workflow.execute_activity_method(
                NotificationActivities.send_gift_card_mail,
                GiftCardMailInput(
                    issue_key=data.purchase_id,
                    gift_card_id=card_id,
                    buyer=data.username,
                    order=data.gift,
                    amount_kopecks=data.amount_kopecks,
                    idempotency_key=f"{data.purchase_id}-mail",
                ),
                summary=f"Письмо с подарочной картой для {data.gift.grantee_email}",
                **MAIL_STEP.options(data.queues, NOTIFICATION),
            )
        except STEP_FAILURES as exc:
            # The card exists and is paid: the buyer sees it sent; an operator resends.
            workflow.logger.error("gift card mail not sent: %s", message_of(exc))


@workflow.defn(name=refs.WalletTopUp.workflow.name)
class WalletTopUpWorkflow(_Purchase):
    @workflow.run
    async def run(self, data: PurchaseInput) -> PurchaseState:
        return await self._run(data)

    async def _fulfil(self, data: PurchaseInput) -> None:
        moved = await workflow.execute_activity_method(
            BillingActivities.credit_wallet,
            WalletMoveInput(
                username=data.username,
                amount_kopecks=data.amount_kopecks,
                idempotency_key=f"{data.purchase_id}-credit",
                reference=f"topup:{data.purchase_id}",
            ),
            summary=f"Пополнить кошелёк на {roubles(data.amount_kopecks)}",
            **DB_STEP.options(data.queues, BILLING),
        )
        self._state.balance_after_kopecks = moved.balance_after_kopecks
