"""The checkout's bare Temporal skeleton for `bench.checkout`: workflows and no-op activities.

`BareCheckout` has `workflows/checkout.py`'s shape on the happy path with pickup, event for event:
the same search attribute upserts, the Updates `ready`, `choose_delivery` (with its activity) and
`pay` with the same validators, the idle timer restarted by every Update, a child `BarePayment`
shaped like `workflows/payment.py`, and the same nine activities with the same payload types,
summaries, timeouts and retry policies. Each activity answers at once: no database, no mail, no
HTTP. What a checkout costs beyond this skeleton is the store's own work.

Two task queue layouts, chosen by the queue a run is started on:
- `BARE_QUEUE`: workflows and activities on one queue. The SDK then starts each activity eagerly
  (handed back in the workflow task's answer, no trip through matching).
- `SPLIT_QUEUE`: workflows there, activities on one queue per domain as `workers/bootstrap.py`
  has them (`SPLIT_QUEUE-order`, `-store`, `-delivery`, `-billing`, `-notification`).

The worker imports this module inside Temporal's sandbox: it has no side effects.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError

from models.payloads import (
    BeginCheckoutInput,
    CheckoutInput,
    CheckoutState,
    DeliveryChoice,
    DeliveryRequest,
    EntityRef,
    FinishCheckoutInput,
    HoldInput,
    MailResult,
    MoneyMoved,
    OpenCaseInput,
    OrderLine,
    OrderRef,
    OrderSnapshot,
    PaymentInput,
    PaymentResult,
    PayRequest,
    ResultMailInput,
    Units,
    WalletMoveInput,
)
from workflows.policies import (
    CUSTOMER_ID,
    DB_STEP,
    FLOW_STATUS,
    MAIL_STEP,
    ORDER_ID,
    PAYMENT_METHOD,
    QUOTE_STEP,
)

BARE_QUEUE = "bench-bare-checkout"
SPLIT_QUEUE = "bench-bare-split"
PRICE_KOPECKS = 100_00
FINAL_STEPS = {"PAID", "FAILED", "EXPIRED", "BACK_TO_CART"}


# --- no-op activities: the real ones' types in and out, nothing done ------------------------


@activity.defn(name="bare.begin_checkout")
async def begin_checkout(data: BeginCheckoutInput) -> OrderSnapshot:
    return OrderSnapshot(data.order_id, data.username, [OrderLine(1, 1)], PRICE_KOPECKS)


@activity.defn(name="bare.hold_stock")
async def hold_stock(data: HoldInput) -> Units:
    return Units(sum(line.quantity for line in data.lines))


@activity.defn(name="bare.quote")
async def quote(data: DeliveryRequest) -> DeliveryChoice:
    return DeliveryChoice(
        kind="PICKUP",
        company_name="ПВЗ",
        address="Москва, Тверская, 1",
        pickup_point_id=data.pickup_point_id,
        cost_kopecks=0,
        estimated_date="2030-01-01",
        summary="Самовывоз: ПВЗ, Москва, Тверская, 1, с 01.01.2030",
    )


@activity.defn(name="bare.debit_wallet")
async def debit_wallet(data: WalletMoveInput) -> MoneyMoved:
    return MoneyMoved(transaction_id=1, balance_after_kopecks=1_000_000_00 - data.amount_kopecks)


@activity.defn(name="bare.send_result_mail")
async def send_result_mail(data: ResultMailInput) -> MailResult:
    return MailResult(message_id=f"<bare-{data.idempotency_key}@bench>", sent=True)


@activity.defn(name="bare.confirm_stock")
async def confirm_stock(data: OrderRef) -> EntityRef:
    return EntityRef(1)


@activity.defn(name="bare.open_case")
async def open_case(data: OpenCaseInput) -> EntityRef:
    return EntityRef(1)


@activity.defn(name="bare.finish_checkout")
async def finish_checkout(data: FinishCheckoutInput) -> OrderRef:
    return OrderRef(data.order_id)


ACTIVITIES = (
    begin_checkout,
    hold_stock,
    quote,
    debit_wallet,
    send_result_mail,
    confirm_stock,
    open_case,
    finish_checkout,
)
# The real worker's split: each domain's activities on its own queue (SPLIT_QUEUE layout).
DOMAINS: dict[str, tuple[Callable[..., Any], ...]] = {
    "order": (begin_checkout, finish_checkout),
    "store": (hold_stock, confirm_stock),
    "delivery": (quote, open_case),
    "billing": (debit_wallet,),
    "notification": (send_result_mail,),
}


def domain_queue(domain: str) -> str:
    return f"{SPLIT_QUEUE}-{domain}"


def _queue(domain: str) -> str:
    """Where this run's activity of `domain` goes: its own queue in the single-queue layout."""
    own = workflow.info().task_queue
    return domain_queue(domain) if own == SPLIT_QUEUE else own


# --- workflows ----------------------------------------------------------------------------------


@workflow.defn(name="BarePayment")
class BarePayment:
    @workflow.run
    async def run(self, data: PaymentInput) -> PaymentResult:
        workflow.upsert_search_attributes(
            [PAYMENT_METHOD.value_set(data.method), FLOW_STATUS.value_set("PAYING")]
        )
        key = f"payment-{data.purpose}-{data.reference_id}-{data.attempt}"
        moved = await workflow.execute_activity(
            debit_wallet,
            WalletMoveInput(data.username, data.amount_kopecks, key, f"order:{data.reference_id}"),
            summary=f"Списать {data.amount_kopecks / 100:.2f} ₽ с кошелька {data.username}",
            **DB_STEP.options(_queue("billing")),
        )
        result = PaymentResult(
            status="PAID",
            method=data.method,
            amount_kopecks=data.amount_kopecks,
            transaction_id=moved.transaction_id,
        )
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(result.status)])
        await workflow.execute_activity(
            send_result_mail,
            ResultMailInput(
                "PAYMENT", data.reference_id, data.username, True, data.amount_kopecks, "", key
            ),
            summary=f"Письмо о результате оплаты {data.username}",
            **MAIL_STEP.options(_queue("notification")),
        )
        return result


@workflow.defn(name="BareCheckout")
class BareCheckout:
    @workflow.init
    def __init__(self, data: CheckoutInput) -> None:
        self._state = CheckoutState(order_id=data.order_id, step="HOLDING")
        self._pay: PayRequest | None = None
        self._touched = False

    @workflow.query
    def state(self) -> CheckoutState:
        return self._state

    @workflow.update
    async def ready(self) -> CheckoutState:
        await workflow.wait_condition(lambda: self._state.step != "HOLDING")
        return self._state

    def _expect_choosing(self) -> None:
        if self._state.step != "CHOOSING_DELIVERY":
            raise ApplicationError(f"not now (step {self._state.step})", type="ConflictError")

    @workflow.update
    async def choose_delivery(self, request: DeliveryRequest) -> CheckoutState:
        choice = await workflow.execute_activity(
            quote,
            request,
            summary=f"Цена доставки: {request.company_name or request.pickup_point_id}",
            **QUOTE_STEP.options(_queue("delivery")),
        )
        self._state.delivery = choice
        self._state.delivery_confirmed = choice.kind == "PICKUP"
        self._state.last_error = ""
        self._touched = True
        return self._state

    @choose_delivery.validator
    def _validate_choose_delivery(self, request: DeliveryRequest) -> None:
        self._expect_choosing()
        if request.kind not in ("COURIER", "PICKUP"):
            raise ValueError("kind: COURIER or PICKUP")

    @workflow.update
    async def pay(self, request: PayRequest) -> CheckoutState:
        self._pay = request
        self._state.step = "PAYING"
        await workflow.wait_condition(
            lambda: self._state.step in FINAL_STEPS | {"CHOOSING_DELIVERY"}
        )
        return self._state

    @pay.validator
    def _validate_pay(self, request: PayRequest) -> None:
        self._expect_choosing()
        if not self._state.delivery_confirmed:
            raise ApplicationError("choose delivery first", type="ConflictError")

    def _step(self, step: str) -> None:
        self._state.step = step
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(step)])

    @workflow.run
    async def run(self, data: CheckoutInput) -> CheckoutState:
        workflow.upsert_search_attributes(
            [CUSTOMER_ID.value_set(data.username), ORDER_ID.value_set(data.order_id)]
        )
        snapshot = await workflow.execute_activity(
            begin_checkout,
            BeginCheckoutInput(data.order_id, data.username, data.version),
            summary=f"Заказ {data.order_id[:8]} → IN_PROGRESS",
            **DB_STEP.options(_queue("order")),
        )
        self._state.goods_kopecks = snapshot.goods_kopecks
        await workflow.execute_activity(
            hold_stock,
            HoldInput(data.order_id, snapshot.lines),
            summary=f"Резерв товара заказа {data.order_id[:8]}",
            **DB_STEP.options(_queue("store")),
        )
        self._step("CHOOSING_DELIVERY")
        payment = await self._until_paid(data)
        await self._confirm(data, payment)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _until_paid(self, data: CheckoutInput) -> PaymentResult:
        # The real loop: an idle timer per wait, restarted by every Update (two timers here).
        idle = timedelta(seconds=data.idle_timeout_seconds)
        while True:
            self._touched = False
            await workflow.wait_condition(
                lambda: self._pay is not None or self._touched, timeout=idle
            )
            if self._pay is None:
                continue
            self._state.payment_attempts += 1
            self._state.payment_method = self._pay.method
            workflow.upsert_search_attributes([PAYMENT_METHOD.value_set(self._pay.method)])
            attempt = self._state.payment_attempts
            result = await workflow.execute_child_workflow(
                BarePayment.run,
                PaymentInput(
                    purpose="order",
                    reference_id=data.order_id,
                    attempt=attempt,
                    username=data.username,
                    amount_kopecks=self._state.total_kopecks,
                    method=self._pay.method,
                ),
                id=f"bare-payment-{data.order_id}-{attempt}",
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"Оплата заказа {data.order_id[:8]}, попытка {attempt}",
            )
            self._pay = None
            return result

    async def _confirm(self, data: CheckoutInput, payment: PaymentResult) -> None:
        self._step("CONFIRMING")
        delivery = self._state.delivery
        assert delivery is not None
        order = OrderRef(data.order_id)
        await workflow.execute_activity(
            confirm_stock,
            order,
            summary="Подтвердить товар и открыть кейс комплектации",
            **DB_STEP.options(_queue("store")),
        )
        await workflow.execute_activity(
            open_case,
            OpenCaseInput(data.order_id, delivery),
            summary=f"Открыть кейс доставки: {delivery.summary}",
            **DB_STEP.options(_queue("delivery")),
        )
        await workflow.execute_activity(
            finish_checkout,
            FinishCheckoutInput(
                data.order_id,
                "PAID",
                delivery_summary=delivery.summary,
                delivery_cost_kopecks=delivery.cost_kopecks,
                payment_method=payment.method,
                paid_kopecks=payment.amount_kopecks,
            ),
            summary=f"Заказ {data.order_id[:8]} → PAID",
            **DB_STEP.options(_queue("order")),
        )
        self._step("PAID")
        await workflow.execute_activity(
            send_result_mail,
            ResultMailInput(
                "ORDER",
                data.order_id,
                data.username,
                True,
                payment.amount_kopecks,
                delivery.summary,
                f"checkout-{data.order_id}-paid",
            ),
            summary="Письмо с итогом заказа",
            **MAIL_STEP.options(_queue("notification")),
        )


WORKFLOWS = (BareCheckout, BarePayment)
