"""Checkout as the edge reaches it: `PUT /order/process` and «Оформить заказ» start (or reach) the
order's Checkout run; the checkout page and its JSON endpoints ask it Updates and the `state`
Query. Every wait is bounded, every refusal comes back as the domain error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from core.db import SessionFactory, transaction
from core.errors import ConflictError, NotFoundError, StaleVersionError
from core.settings import Settings
from flows.engine import TemporalClient, bounded, domain_error, query, queues_of, update
from models.order import OrderStatus
from models.payloads import (
    CheckoutInput,
    CheckoutState,
    CostConfirmation,
    DeliveryRequest,
    PayRequest,
)
from services import order
from services.order import OrderView
from workflows.policies import CHECKOUT_TIMEOUT, CUSTOMER_ID, FLOW_STATUS, ORDER_ID
from workflows.refs import Checkout, UpdateRef

In = TypeVar("In")
ENDED = "Оформление уже завершено: откройте корзину заново"


def workflow_id(order_id: str) -> str:
    return f"checkout-{order_id}"


def checkout_input(settings: Settings, order_id: str, username: str, version: int) -> CheckoutInput:
    return CheckoutInput(
        order_id=order_id,
        username=username,
        version=version,
        idle_timeout_seconds=int(settings.checkout_idle_minutes * 60),
        public_url=settings.public_url,
        bank_wait_seconds=int(settings.bank_wait_minutes * 60),
        bank_poll_seconds=max(1, int(settings.bank_poll_seconds)),
        queues=queues_of(settings),
        pickup_days=settings.pickup_days,
        pickup_reminder_days=settings.pickup_reminder_days,
    )


async def start_checkout(
    *, temporal: TemporalClient, settings: Settings, order_id: str, username: str, version: int
) -> CheckoutState:
    """Start the order's checkout, or reach the one already running, and ask it `ready` in the
    same call (update-with-start); answers once stock is held."""
    data = checkout_input(settings, order_id, username, version)
    start: WithStartWorkflowOperation[Any, CheckoutState] = WithStartWorkflowOperation(
        Checkout.workflow.name,
        data,
        id=workflow_id(order_id),
        task_queue=data.queues.workflows,
        result_type=Checkout.workflow.result,
        execution_timeout=CHECKOUT_TIMEOUT,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CUSTOMER_ID, username),
                SearchAttributePair(ORDER_ID, order_id),
                SearchAttributePair(FLOW_STATUS, "HOLDING"),
            ]
        ),
        static_summary=f"Оформление заказа {order_id[:8]} клиентом {username}",
    )
    try:
        return await bounded(
            temporal.execute_update_with_start_workflow(
                Checkout.ready.name,
                start_workflow_operation=start,
                result_type=Checkout.ready.result,
            ),
            settings.update_wait_seconds,
        )
    except WorkflowUpdateFailedError as exc:
        raise domain_error(exc) from exc


@dataclass(frozen=True)
class Checkouts:
    """A shopper's checkouts: each call first checks the order is theirs (404 for anyone else's),
    in a transaction that ends before the call waits on the run."""

    sessions: SessionFactory
    temporal: TemporalClient
    settings: Settings

    async def process(self, username: str, order_id: str, version: int) -> OrderView:
        """PUT /order/process: an order in NEW (at the version the shopper saw) starts checkout;
        one already IN_PROGRESS reaches its running checkout. Answers the order once stock is
        held."""
        view = await self._order(username, order_id)
        if view.order.status not in (OrderStatus.NEW, OrderStatus.IN_PROGRESS):
            raise ConflictError(f"Заказ в статусе {view.order.status}: оформить его нельзя")
        if view.order.status == OrderStatus.NEW:
            if view.order.version != version:
                raise StaleVersionError("Заказ изменился в другой вкладке: проверьте корзину")
            if not view.items:
                raise ConflictError("Корзина пуста")
        result = await start_checkout(
            temporal=self.temporal,
            settings=self.settings,
            order_id=order_id,
            username=username,
            version=view.order.version,
        )
        if result.step == "FAILED":
            raise ConflictError(result.failure_reason or "Оформить заказ не удалось")
        return await self._order(username, order_id)

    async def find(self, username: str, order_id: str) -> tuple[OrderView, CheckoutState | None]:
        """The shopper's order and its checkout's state; None if it never went to checkout.
        With no worker to answer the Query, UnavailableError after the bounded wait."""
        view = await self._order(username, order_id)
        return view, await self._state(order_id)

    async def state(self, username: str, order_id: str) -> CheckoutState:
        """Where the checkout is (a Query: answered from the run's state)."""
        _view, current = await self.find(username, order_id)
        if current is None:
            raise NotFoundError("Оформление этого заказа не начиналось")
        return current

    async def choose_delivery(
        self, username: str, order_id: str, request: DeliveryRequest
    ) -> CheckoutState:
        return await self._update(username, order_id, Checkout.choose_delivery, request)

    async def confirm_delivery_cost(
        self, username: str, order_id: str, confirmation: CostConfirmation
    ) -> CheckoutState:
        return await self._update(username, order_id, Checkout.confirm_delivery_cost, confirmation)

    async def pay(self, username: str, order_id: str, request: PayRequest) -> CheckoutState:
        """«Оплатить»: answers when the order is paid or the attempt failed, or with the bank's
        page (step AWAITING_BANK) where the shopper finishes paying."""
        return await self._update(username, order_id, Checkout.pay, request)

    async def leave_bank_page(self, username: str, order_id: str) -> CheckoutState:
        return await self._update(username, order_id, Checkout.leave_bank_page, None)

    async def back_to_cart(self, username: str, order_id: str) -> CheckoutState:
        return await self._update(username, order_id, Checkout.back_to_cart, None)

    async def _order(self, username: str, order_id: str) -> OrderView:
        async with transaction(self.sessions) as session:
            return await order.get_order(session=session, username=username, order_id=order_id)

    async def _state(self, order_id: str) -> CheckoutState | None:
        return await query(
            self.temporal, workflow_id(order_id), Checkout.state, self.settings.update_wait_seconds
        )

    async def _update(
        self,
        username: str,
        order_id: str,
        ref: UpdateRef[In, CheckoutState],
        arg: In,
    ) -> CheckoutState:
        """One Update of the running checkout, once the order is known to be the shopper's."""
        await self._order(username, order_id)
        return await update(
            self.temporal,
            workflow_id(order_id),
            ref,
            arg,
            seconds=self.settings.update_wait_seconds,
            ended=ENDED,
        )
