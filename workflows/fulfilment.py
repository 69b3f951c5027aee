"""FulfilmentWorkflow `delivery-{orderId}`: a paid order from the store's picking to the shopper's
hands. Started by the checkout once the order is PAID (its picking and delivery cases are open).

Each move comes from outside, as the `advance` Update: an operator (or the courier company)
hands the order to the courier or sends it to the pickup point, marks it there or out for
delivery (with the slot), then delivered or picked up — the order is COMPLETED. Each stage is
announced to the shopper (Format 4 of the spec), once per stage whatever retries happen.

At the pickup point two timers run: a reminder after `reminder_days`, and after `pickup_days` the
goods go back to stock, the money is refunded and the shopper is told (RETURNED). The shopper may
cancel while the order is being picked, an operator until it has arrived: stock back, money back,
CANCELED.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from models.payloads import OrderRef, RefundInput
from models.payloads_fulfilment import (
    FULFILMENT_ENDED,
    FULFILMENT_NEXT,
    OPERATOR_MAY_CANCEL,
    SHOPPER_MAY_CANCEL,
    CancelRequest,
    CloseOrderInput,
    DeliveryNoticeInput,
    FulfilmentInput,
    FulfilmentStage,
    FulfilmentState,
    StageEvent,
    StageRequest,
)
from workflows import refs
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
    STORE,
)

with workflow.unsafe.imports_passed_through():
    from activities.delivery import DeliveryActivities
    from activities.notification import NotificationActivities
    from activities.order import OrderActivities
    from activities.store import StoreActivities

SHOPPER = "shopper"
FIRST_MOVE: dict[str, FulfilmentStage] = {
    "PICKUP": "SENT_TO_PICKUP_POINT",
    "COURIER": "HANDED_TO_COURIER",
}
NOTICES: dict[FulfilmentStage, str] = {
    "PICKING": "Заказ оплачен и передан в комплектацию",
    "SENT_TO_PICKUP_POINT": "Заказ собран и отправлен в пункт выдачи",
    "AT_PICKUP_POINT": "Заказ ждёт вас в пункте выдачи",
    "PICKED_UP": "Заказ получен. Спасибо за покупку!",
    "HANDED_TO_COURIER": "Заказ собран и передан курьеру",
    "OUT_FOR_DELIVERY": "Курьер везёт заказ",
    "DELIVERED": "Заказ доставлен. Спасибо за покупку!",
    "RETURNED": "Заказ не забрали вовремя: товар вернулся на склад, деньги возвращены",
    "CANCELED": "Заказ отменён, деньги возвращены",
}


@workflow.defn(name=refs.Fulfilment.workflow.name)
class FulfilmentWorkflow:
    @workflow.init
    def __init__(self, data: FulfilmentInput) -> None:
        self._input = data
        self._state = FulfilmentState(
            order_id=data.order_id, username=data.username, kind=data.delivery.kind
        )
        self._cancel: CancelRequest | None = None
        # Here, not in `run`: an operator's first move may be handled before `run` starts.
        self._state.timeline.append(StageEvent("PICKING", self._now()))

    @workflow.query(name=refs.Fulfilment.state.name)
    def state(self) -> FulfilmentState:
        return self._state

    @workflow.update(name=refs.Fulfilment.advance.name)
    async def advance(self, request: StageRequest) -> FulfilmentState:
        """The next stage, as an operator or the courier company reports it."""
        await self._enter(request.stage, request.by, slot=request.slot)
        return self._state

    @advance.validator
    def _validate_advance(self, request: StageRequest) -> None:
        expected = self._next()
        if request.stage != expected:
            now = self._state.stage
            raise ApplicationError(
                f"Из шага {now} заказ переходит только в {expected or 'никуда: он завершён'}",
                type="ConflictError",
            )
        if request.stage == "OUT_FOR_DELIVERY" and not request.slot:
            raise ApplicationError("Укажите слот доставки ЧЧ:ММ–ЧЧ:ММ", type="ValidationError")

    @workflow.update(name=refs.Fulfilment.cancel.name)
    async def cancel(self, request: CancelRequest) -> FulfilmentState:
        """Cancel and refund: the stock goes back, the money by the way it was paid."""
        self._cancel = request
        await workflow.wait_condition(lambda: self._state.stage in FULFILMENT_ENDED)
        return self._state

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        allowed = SHOPPER_MAY_CANCEL if request.by == SHOPPER else OPERATOR_MAY_CANCEL
        if self._state.stage not in allowed or self._cancel is not None:
            raise ApplicationError(
                "Заказ уже передан в доставку: отменить его нельзя"
                if request.by == SHOPPER
                else f"На шаге {self._state.stage} заказ не отменить",
                type="ConflictError",
            )

    # --- the flow ----------------------------------------------------------------------------

    def _next(self) -> FulfilmentStage | None:
        if self._state.stage == "PICKING":
            return FIRST_MOVE[self._state.kind]
        return FULFILMENT_NEXT.get(self._state.stage)

    def _now(self) -> str:
        return workflow.now().isoformat(timespec="seconds")

    async def _enter(
        self, stage: FulfilmentStage, by: str, *, slot: str = "", note: str = ""
    ) -> None:
        self._state.stage = stage
        if slot:
            self._state.slot = slot
        self._state.timeline.append(StageEvent(stage, self._now(), by, note))
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(stage)])
        await self._notify(stage, NOTICES[stage])

    async def _notify(self, stage: FulfilmentStage, detail: str, suffix: str = "") -> None:
        data = self._input
        await workflow.execute_activity_method(
            NotificationActivities.send_delivery_notice,
            DeliveryNoticeInput(
                order_id=data.order_id,
                username=data.username,
                stage=stage,
                delivery=data.delivery,
                slot=self._state.slot,
                detail=detail,
                idempotency_key=f"delivery-{data.order_id}-{stage}{suffix}",
            ),
            summary=f"Уведомление: {detail}",
            **MAIL_STEP.options(data.queues, NOTIFICATION),
        )

    @workflow.run
    async def run(self, data: FulfilmentInput) -> FulfilmentState:
        workflow.upsert_search_attributes(
            [CUSTOMER_ID.value_set(data.username), ORDER_ID.value_set(data.order_id)]
        )
        workflow.upsert_search_attributes([FLOW_STATUS.value_set(self._state.stage)])
        await self._notify("PICKING", NOTICES["PICKING"])
        while self._state.stage not in FULFILMENT_ENDED:
            if self._state.stage == "AT_PICKUP_POINT":
                await self._wait_at_pickup_point(data)
            else:
                await workflow.wait_condition(self._moved_on)
            if self._cancel is not None and self._state.stage not in FULFILMENT_ENDED:
                await self._give_back(data, "CANCELED", self._cancel.by, self._cancel.reason)
        if self._state.stage in ("PICKED_UP", "DELIVERED"):
            await self._close(data, "COMPLETED")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    def _moved_on(self) -> bool:
        stage = self._state.stage
        return self._cancel is not None or stage in FULFILMENT_ENDED or stage == "AT_PICKUP_POINT"

    async def _wait_at_pickup_point(self, data: FulfilmentInput) -> None:
        """The goods wait: a reminder after `reminder_days`, back to stock after `pickup_days`."""
        reminded = False
        deadline = workflow.now() + timedelta(days=data.pickup_days)
        remind_at = workflow.now() + timedelta(days=data.reminder_days)
        while True:
            until = remind_at if not reminded and remind_at < deadline else deadline
            try:
                await workflow.wait_condition(
                    lambda: self._state.stage != "AT_PICKUP_POINT" or self._cancel is not None,
                    timeout=max(timedelta(0), until - workflow.now()),
                )
                return
            except TimeoutError:
                if until == deadline:
                    await self._give_back(
                        data, "RETURNED", "", f"Срок хранения {data.pickup_days} дн. истёк"
                    )
                    return
                reminded = True
                await self._notify(
                    "AT_PICKUP_POINT",
                    f"Напоминаем: заказ ждёт вас в пункте выдачи ещё"
                    f" {data.pickup_days - data.reminder_days} дн.",
                    suffix="-reminder",
                )

    async def _give_back(
        self, data: FulfilmentInput, stage: FulfilmentStage, by: str, reason: str
    ) -> None:
        """Stock back on the shelf, the delivery case closed, the money refunded, the order
        CANCELED; then the notice."""
        order = OrderRef(data.order_id)
        await workflow.execute_activity_method(
            StoreActivities.release_stock,
            order,
            summary="Вернуть товар на склад",
            **COMPENSATION.options(data.queues, STORE),
        )
        await workflow.execute_activity_method(
            DeliveryActivities.cancel_case,
            order,
            summary="Закрыть кейс доставки",
            **COMPENSATION.options(data.queues, DELIVERY),
        )
        await refund_payment(
            RefundInput(
                username=data.username,
                payment=data.payment,
                idempotency_key=f"refund-delivery-{data.order_id}",
                reference=f"order:{data.order_id}",
            ),
            data.queues,
        )
        self._state.refunded = True
        self._state.reason = reason or NOTICES[stage]
        await self._close(data, "CANCELED")
        await self._enter(stage, by, note=reason)

    async def _close(self, data: FulfilmentInput, status: Literal["COMPLETED", "CANCELED"]) -> None:
        await workflow.execute_activity_method(
            OrderActivities.close_order,
            CloseOrderInput(data.order_id, status, self._state.reason),
            summary=f"Заказ {data.order_id[:8]} → {status}",
            **DB_STEP.options(data.queues, ORDER),
        )
