"""The checkout as the shopper sees it, in roubles: the JSON of the checkout endpoints and what the
checkout pages render."""

from __future__ import annotations

from core.money import to_roubles
from models.base import CamelModel, Roubles
from models.payloads import CheckoutState, CheckoutStep, DeliveryKind, PayMethodOrNone


class DeliveryPublic(CamelModel):
    kind: DeliveryKind
    company_name: str
    address: str
    pickup_point_id: int | None
    cost: Roubles
    estimated_date: str
    summary: str


class CheckoutPublic(CamelModel):
    order_id: str
    step: CheckoutStep
    goods: Roubles
    delivery: DeliveryPublic | None
    delivery_confirmed: bool
    total: Roubles
    payment_attempts: int
    payment_method: PayMethodOrNone
    last_error: str
    failure_reason: str
    payment_url: str
    cart_order_id: str  # after BACK_TO_CART / EXPIRED: the cart holding the goods now


def checkout_public(state: CheckoutState) -> CheckoutPublic:
    delivery = state.delivery
    return CheckoutPublic(
        order_id=state.order_id,
        step=state.step,
        goods=to_roubles(state.goods_kopecks),
        delivery=None
        if delivery is None
        else DeliveryPublic(
            kind=delivery.kind,
            company_name=delivery.company_name,
            address=delivery.address,
            pickup_point_id=delivery.pickup_point_id,
            cost=to_roubles(delivery.cost_kopecks),
            estimated_date=delivery.estimated_date,
            summary=delivery.summary,
        ),
        delivery_confirmed=state.delivery_confirmed,
        total=to_roubles(state.total_kopecks),
        payment_attempts=state.payment_attempts,
        payment_method=state.payment_method,
        last_error=state.last_error,
        failure_reason=state.failure_reason,
        payment_url=state.payment_url,
        cart_order_id=state.cart_order_id,
    )
