"""order activities: checkout's moves of the order."""

from __future__ import annotations

from temporalio import activity

from activities.errors import domain_errors
from core.db import SessionFactory, transaction
from core.errors import StaleVersionError
from models.order import OrderStatus
from models.payloads import (
    BeginCheckoutInput,
    FinishCheckoutInput,
    OrderLine,
    OrderRef,
    OrderSnapshot,
)
from models.payloads_fulfilment import CloseOrderInput
from services import order

FINISHES = {
    "PAID": (OrderStatus.PAID, order.CHECKOUT_RUNNING),
    "FAILED": (OrderStatus.FAILED, order.CHECKOUT_RUNNING),
}
PAID_ONLY = frozenset({OrderStatus.PAID})


class OrderActivities:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    @activity.defn(name="order.begin_checkout")
    @domain_errors
    async def begin_checkout(self, data: BeginCheckoutInput) -> OrderSnapshot:
        """NEW → IN_PROGRESS, only from the version the shopper saw; a retry finds it done."""
        async with transaction(self._sessions) as session:
            view = await order.get_order(
                session=session, username=data.username, order_id=data.order_id
            )
            if view.order.status == OrderStatus.NEW and view.order.version != data.version:
                raise StaleVersionError("Корзина изменилась: проверьте заказ и оформите его снова")
            view = await order.move_checkout(
                session=session,
                order_id=data.order_id,
                to=OrderStatus.IN_PROGRESS,
                allowed_from=order.CHECKOUT_STARTS_FROM,
            )
            return OrderSnapshot(
                order_id=data.order_id,
                username=data.username,
                lines=[OrderLine(i.product_id, i.quantity) for i in view.items],
                goods_kopecks=view.total_kopecks,
            )

    @activity.defn(name="order.finish_checkout")
    @domain_errors
    async def finish_checkout(self, data: FinishCheckoutInput) -> OrderRef:
        """The order's outcome: PAID, FAILED with the reason, or NEW: back to the cart (answers
        the cart that holds the goods now, another open cart if the shopper has one)."""
        if data.status == "NEW":
            async with transaction(self._sessions) as session:
                cart = await order.return_to_cart(
                    session=session, order_id=data.order_id, reason=data.reason
                )
            return OrderRef(cart.order.id)
        to, allowed = FINISHES[data.status]
        async with transaction(self._sessions) as session:
            await order.move_checkout(
                session=session,
                order_id=data.order_id,
                to=to,
                allowed_from=allowed,
                failure_reason=data.reason,
                delivery_summary=data.delivery_summary,
                delivery_cost_kopecks=data.delivery_cost_kopecks,
                payment_method=data.payment_method,
                paid_kopecks=data.paid_kopecks,
            )
        return OrderRef(data.order_id)

    @activity.defn(name="order.close_order")
    @domain_errors
    async def close_order(self, data: CloseOrderInput) -> OrderRef:
        """A paid order's end: COMPLETED once in the shopper's hands, CANCELED when given back."""
        async with transaction(self._sessions) as session:
            await order.move_checkout(
                session=session,
                order_id=data.order_id,
                to=OrderStatus(data.status),
                allowed_from=PAID_ONLY,
                failure_reason=data.reason,
            )
        return OrderRef(data.order_id)
