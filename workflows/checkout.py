"""CheckoutWorkflow `checkout-{orderId}`: hold the order's stock, let the shopper choose delivery
(Updates from the web front), take payment, then confirm stock and delivery and mark the order
PAID — or undo every step that moved stock or money.

What it asks of Temporal, measured in bench/checkout.py: the database steps are local activities
(one marker event each, several in one workflow task); a payment that answers at once (wallet,
gift card, remembered card) is taken inline, and only the bank's pages (card form, СБП) get a
child PaymentWorkflow, which waits for the bank; the mails are ordinary activities sent while the
run goes on.

Every run ends with a CheckoutState in one of PAID, FAILED (with the reason, money returned),
EXPIRED or BACK_TO_CART (stock released, the goods back in the cart); FlowStatus says which.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, get_args

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

from models.payloads import (
    ENDED_STEPS,
    BankSetup,
    BeginCheckoutInput,
    CheckoutInput,
    CheckoutState,
    CheckoutStep,
    CostConfirmation,
    DeliveryRequest,
    FinishCheckoutInput,
    HoldInput,
    OpenCaseInput,
    OrderRef,
    OrderSnapshot,
    PaymentInput,
    PaymentResult,
    PayMethod,
    PayRequest,
    RefundInput,
    ResultMailInput,
)
from models.payloads_fulfilment import FulfilmentInput
from workflows import refs
from workflows.failures import STEP_FAILURES, message_of
from workflows.money import refund_payment
from workflows.policies import (
    COMPENSATION,
    CUSTOMER_ID,
    DB_STEP,
    DELIVERY,
    FLOW_STATUS,
    MAIL_STEP,
    NOTIFICATION,
    ORDER,
    ORDER_ID,
    PAYMENT_METHOD,
    QUOTE_STEP,
    STORE,
    count_outcome,
)
from workflows.saga import Saga

with workflow.unsafe.imports_passed_through():
    from activities.delivery import DeliveryActivities
    from activities.notification import NotificationActivities
    from activities.order import OrderActivities
    from activities.store import StoreActivities
    from workflows.fulfilment import FulfilmentWorkflow
    from workflows.payment import attempt

PAYMENT_METHODS: frozenset[str] = frozenset(get_args(PayMethod))
FINAL_STEPS = ENDED_STEPS
ANSWERED_STEPS = FINAL_STEPS | {"CHOOSING_DELIVERY", "AWAITING_BANK"}


@workflow.defn(name=refs.Checkout.workflow.name)
class CheckoutWorkflow:
    @workflow.init
    def __init__(self, data: CheckoutInput) -> None:
        self._input = data
        self._state = CheckoutState(order_id=data.order_id, step="HOLDING")
        self._pay: PayRequest | None = None
        self._back = False
        self._touched = False
        self._mails: list[asyncio.Task[None]] = []  # sent while the run goes on

    # --- what the web front sees and sends ---------------------------------------------------

    @workflow.query(name=refs.Checkout.state.name)
    def state(self) -> CheckoutState:
        return self._state

    @workflow.update(name=refs.Checkout.ready.name)
    async def ready(self) -> CheckoutState:
        """Answers once the stock is held (or checkout could not start)."""
        await workflow.wait_condition(lambda: self._state.step != "HOLDING")
        return self._state

    def _expect_choosing(self) -> None:
        if self._state.step != "CHOOSING_DELIVERY":
            raise ApplicationError(
                f"Сейчас это недоступно (шаг {self._state.step})", type="ConflictError"
            )

    @workflow.update(name=refs.Checkout.choose_delivery.name)
    async def choose_delivery(self, request: DeliveryRequest) -> CheckoutState:
        """Courier (address, company) or pickup point; answers the priced choice at once."""
        choice = await workflow.execute_local_activity_method(
            DeliveryActivities.quote,
            request,
            summary=f"Цена доставки: {request.company_name or request.pickup_point_id}",
            **QUOTE_STEP.local(),
        )
        self._state.delivery = choice
        # Pickup costs nothing; a courier's cost must be confirmed with the checkbox.
        self._state.delivery_confirmed = choice.kind == "PICKUP"
        self._state.last_error = ""
        self._touched = True
        return self._state

    @choose_delivery.validator
    def _validate_choose_delivery(self, request: DeliveryRequest) -> None:
        self._expect_choosing()
        if request.kind not in ("COURIER", "PICKUP"):
            raise ValueError("kind: COURIER or PICKUP")

    @workflow.update(name=refs.Checkout.confirm_delivery_cost.name)
    def confirm_delivery_cost(self, confirmation: CostConfirmation) -> CheckoutState:
        """«подтвердить стоимость доставки»: the shopper agrees to the cost shown."""
        self._state.delivery_confirmed = True
        self._touched = True
        return self._state

    @confirm_delivery_cost.validator
    def _validate_confirm(self, confirmation: CostConfirmation) -> None:
        self._expect_choosing()
        delivery = self._state.delivery
        if delivery is None or delivery.cost_kopecks != confirmation.cost_kopecks:
            raise ApplicationError(
                "Стоимость доставки изменилась: проверьте её", type="ConflictError"
            )

    @workflow.update(name=refs.Checkout.pay.name)
    async def pay(self, request: PayRequest) -> CheckoutState:
        """«Оплатить»: one payment attempt; answers when the order is paid or the attempt failed,
        or, for the bank's pages (card form, СБП), with the page's URL (step AWAITING_BANK)."""
        self._pay = request
        self._step("PAYING")
        await workflow.wait_condition(lambda: self._state.step in ANSWERED_STEPS)
        return self._state

    @pay.validator
    def _validate_pay(self, request: PayRequest) -> None:
        self._expect_choosing()
        if not self._state.delivery_confirmed:
            raise ApplicationError("Сначала выберите и подтвердите доставку", type="ConflictError")
        if request.method not in PAYMENT_METHODS:
            raise ApplicationError("Неизвестный способ оплаты", type="ValidationError")
        if request.method == "GIFT_CARD" and request.token_id is None:
            raise ApplicationError("Выберите подарочную карту", type="ValidationError")

    @workflow.update(name=refs.Checkout.leave_bank_page.name)
    async def leave_bank_page(self) -> CheckoutState:
        """«Выбрать другой способ оплаты» while the bank's page is open: the attempt ends (a
        payment the bank completes later is refunded) and the payment choice is back."""
        await workflow.get_external_workflow_handle(self._payment_run_id()).signal(
            refs.Payment.give_up.name
        )
        await workflow.wait_condition(lambda: self._state.step != "AWAITING_BANK")
        return self._state

    @leave_bank_page.validator
    def _validate_leave_bank_page(self) -> None:
        if self._state.step != "AWAITING_BANK":
            raise ApplicationError(
                f"Сейчас это недоступно (шаг {self._state.step})", type="ConflictError"
            )

    def _payment_run_id(self) -> str:
        """The attempt's key: unique across every checkout of the order (the order's version
        at the start tells them apart), so no two attempts share a run or a money key."""
        return f"payment-order-{self._input.key}-{self._state.payment_attempts}"

    @workflow.signal(name=refs.Checkout.bank_page_opened.name)
    def bank_page_opened(self, url: str) -> None:
        """From the payment run: the buyer should now go to the bank's page."""
        if self._state.step == "PAYING":
            self._state.payment_url = url
            self._step("AWAITING_BANK")

    @workflow.update(name=refs.Checkout.back_to_cart.name)
    async def back_to_cart(self) -> CheckoutState:
        """Leave checkout: the stock is released and the order can be edited again."""
        self._back = True
        await workflow.wait_condition(lambda: self._state.step in FINAL_STEPS)
        return self._state

    @back_to_cart.validator
    def _validate_back(self) -> None:
        self._expect_choosing()

    # --- the flow ----------------------------------------------------------------------------

    def _step(self, step: CheckoutStep) -> None:
        self._state.step = step
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(step)])

    @workflow.run
    async def run(self, data: CheckoutInput) -> CheckoutState:
        workflow.upsert_search_attributes(
            [CUSTOMER_ID.value_set(data.username), ORDER_ID.value_set(data.order_id)]
        )
        snapshot = await self._start(data)
        if snapshot is not None:
            payment = await self._until_paid(data, snapshot)
            if payment is not None:
                await self._confirm(data, snapshot, payment)
        await asyncio.gather(*self._mails)
        await workflow.wait_condition(workflow.all_handlers_finished)
        count_outcome("checkout", outcome=self._state.step)
        workflow.logger.info(
            "checkout ended: %s", self._state.step, extra={"order_id": data.order_id}
        )
        return self._state

    async def _start(self, data: CheckoutInput) -> OrderSnapshot | None:
        """Order to IN_PROGRESS and its stock held; None (and the order untouched) if impossible."""
        order = OrderRef(data.order_id)
        try:
            snapshot: OrderSnapshot = await workflow.execute_local_activity_method(
                OrderActivities.begin_checkout,
                BeginCheckoutInput(data.order_id, data.username, data.version),
                summary=f"Заказ {data.order_id[:8]} → IN_PROGRESS",
                **DB_STEP.local(),
            )
        except STEP_FAILURES as exc:
            self._state.failure_reason = message_of(exc)
            self._step("FAILED")
            return None
        self._state.goods_kopecks = snapshot.goods_kopecks
        try:
            await workflow.execute_local_activity_method(
                StoreActivities.hold_stock,
                HoldInput(data.order_id, snapshot.lines),
                summary=f"Резерв товара заказа {data.order_id[:8]}",
                **DB_STEP.local(),
            )
        except STEP_FAILURES as exc:
            await self._leave(order, "FAILED", message_of(exc))
            return None
        self._step("CHOOSING_DELIVERY")
        return snapshot

    async def _leave(self, order: OrderRef, step: CheckoutStep, reason: str = "") -> None:
        """Release the stock and give the goods back to the cart (expiry, «back», no stock): the
        order itself, or the shopper's other open cart, which then takes them in."""
        await workflow.execute_local_activity_method(
            StoreActivities.release_stock,
            order,
            summary=f"Снять резерв заказа {order.order_id[:8]}",
            **COMPENSATION.local(),
        )
        cart: OrderRef = await workflow.execute_local_activity_method(
            OrderActivities.finish_checkout,
            FinishCheckoutInput(order.order_id, "NEW", reason=reason),
            summary=f"Заказ {order.order_id[:8]} снова в корзине",
            **COMPENSATION.local(),
        )
        self._state.cart_order_id = cart.order_id
        self._state.failure_reason = reason
        self._step(step)

    async def _until_paid(
        self, data: CheckoutInput, snapshot: OrderSnapshot
    ) -> PaymentResult | None:
        """Wait for the shopper's choices; run a payment attempt per «Оплатить» until one succeeds.
        None when the shopper left or stayed idle too long (the stock is released then)."""
        idle = timedelta(seconds=data.idle_timeout_seconds)
        while True:
            self._touched = False
            try:
                await workflow.wait_condition(
                    lambda: self._pay is not None or self._back or self._touched, timeout=idle
                )
            except TimeoutError:
                await self._leave(OrderRef(data.order_id), "EXPIRED", "Время оформления истекло")
                return None
            if self._back:
                await self._leave(OrderRef(data.order_id), "BACK_TO_CART")
                return None
            if self._pay is None:
                continue  # the shopper did something: the idle timer starts over
            result = await self._attempt(data, snapshot, self._pay)
            self._pay = None
            self._state.payment_url = ""
            if result.status == "PAID":
                return result
            self._state.last_error = result.message
            self._step("CHOOSING_DELIVERY")

    async def _attempt(
        self, data: CheckoutInput, snapshot: OrderSnapshot, request: PayRequest
    ) -> PaymentResult:
        self._state.payment_attempts += 1
        self._state.payment_method = request.method
        workflow.upsert_search_attributes([PAYMENT_METHOD.value_set(request.method)])
        attempt_no = self._state.payment_attempts
        payment_id = self._payment_run_id()
        payment = PaymentInput(
            purpose="order",
            reference_id=data.order_id,
            attempt=attempt_no,
            username=data.username,
            amount_kopecks=self._state.total_kopecks,
            method=request.method,
            token_id=request.token_id,
            save_card=request.save_card,
            bank=BankSetup(
                return_url=f"{data.public_url}/checkout/{data.order_id}/return",
                callback_url=f"{data.public_url}/payment/bank/callback?flow={payment_id}",
                wait_seconds=data.bank_wait_seconds,
                poll_seconds=data.bank_poll_seconds,
            ),
            queues=data.queues,
            key=payment_id,
        )
        # The bank's pages get a run of their own (callbacks, polling, late successes refunded).
        return await attempt(
            payment, f"Оплата заказа {data.order_id[:8]}, попытка {attempt_no}", self._later
        )

    def _later(self, mail: Coroutine[Any, Any, None]) -> None:
        """A mail the shopper need not wait for; the run ends once it is sent."""
        self._mails.append(asyncio.create_task(mail))

    async def _confirm(
        self, data: CheckoutInput, snapshot: OrderSnapshot, payment: PaymentResult
    ) -> None:
        """Sell the held stock (picking case), open the delivery case, mark the order PAID;
        undone in reverse on failure."""
        self._step("CONFIRMING")
        order = OrderRef(data.order_id)
        delivery = self._state.delivery
        assert delivery is not None
        saga = Saga()
        queues = data.queues
        refund = RefundInput(
            username=data.username,
            payment=payment,
            idempotency_key=f"refund-{self._payment_run_id()}",
            reference=f"order:{data.order_id}",
        )
        saga.on_failure("refund", lambda: refund_payment(refund, queues))
        try:
            saga.on_failure(
                "release",
                lambda: workflow.execute_activity_method(
                    StoreActivities.release_stock,
                    order,
                    summary="Откат: вернуть товар на склад",
                    **COMPENSATION.options(queues, STORE),
                ),
            )
            await workflow.execute_local_activity_method(
                StoreActivities.confirm_stock,
                order,
                summary="Подтвердить товар и открыть кейс комплектации",
                **DB_STEP.local(),
            )
            saga.on_failure(
                "cancel delivery",
                lambda: workflow.execute_activity_method(
                    DeliveryActivities.cancel_case,
                    order,
                    summary="Откат: отменить кейс доставки",
                    **COMPENSATION.options(queues, DELIVERY),
                ),
            )
            await workflow.execute_local_activity_method(
                DeliveryActivities.open_case,
                OpenCaseInput(data.order_id, delivery),
                summary=f"Открыть кейс доставки: {delivery.summary}",
                **DB_STEP.local(),
            )
            await workflow.execute_local_activity_method(
                OrderActivities.finish_checkout,
                FinishCheckoutInput(
                    data.order_id,
                    "PAID",
                    delivery_summary=delivery.summary,
                    delivery_cost_kopecks=delivery.cost_kopecks,
                    payment_method=payment.method,
                    paid_kopecks=payment.amount_kopecks,
                ),
                summary=f"Заказ {data.order_id[:8]} → PAID",
                **DB_STEP.local(),
            )
        except (*STEP_FAILURES, asyncio.CancelledError) as exc:
            reason = message_of(exc)
            await saga.compensate()
            await workflow.execute_activity_method(
                OrderActivities.finish_checkout,
                FinishCheckoutInput(data.order_id, "FAILED", reason=reason),
                summary=f"Заказ {data.order_id[:8]} → FAILED",
                **COMPENSATION.options(queues, ORDER),
            )
            self._state.failure_reason = reason
            self._step("FAILED")
            if isinstance(exc, asyncio.CancelledError):
                raise
            self._later(
                self._mail(data, success=False, amount=payment.amount_kopecks, detail=reason)
            )
            return
        self._step("PAID")
        self._later(
            self._mail(data, success=True, amount=payment.amount_kopecks, detail=delivery.summary)
        )
        if workflow.patched("fulfilment"):  # runs paid before fulfilment existed end at PAID
            await workflow.start_child_workflow(
                FulfilmentWorkflow.run,
                FulfilmentInput(
                    order_id=data.order_id,
                    username=data.username,
                    delivery=delivery,
                    payment=payment,
                    pickup_days=data.pickup_days,
                    reminder_days=data.pickup_reminder_days,
                    queues=queues,
                ),
                id=f"delivery-{data.order_id}",
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=f"Доставка заказа {data.order_id[:8]}: {delivery.summary}",
            )

    async def _mail(self, data: CheckoutInput, *, success: bool, amount: int, detail: str) -> None:
        try:
            await workflow.execute_activity_method(
                NotificationActivities.send_result_mail,
                ResultMailInput(
                    kind="ORDER",
                    order_id=data.order_id,
                    username=data.username,
                    success=success,
                    amount_kopecks=amount,
                    detail=detail,
                    idempotency_key=f"checkout-{data.order_id}-{'paid' if success else 'failed'}",
                ),
                summary="Письмо с итогом заказа",
                **MAIL_STEP.options(data.queues, NOTIFICATION),
            )
        except STEP_FAILURES as exc:
            workflow.logger.warning("order mail not sent: %s", exc.cause)
