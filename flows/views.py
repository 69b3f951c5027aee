"""The checkout and the purchases as the shopper sees them, in roubles: the JSON of their endpoints
and what their pages render."""

from __future__ import annotations

from core.money import to_roubles
from models.base import CamelModel, Roubles
from models.payloads import (
    CheckoutState,
    CheckoutStep,
    DeliveryKind,
    PayMethodOrNone,
    PurchaseKind,
    PurchaseState,
    PurchaseStep,
)


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


class PurchasePublic(CamelModel):
    purchase_id: str
    kind: PurchaseKind
    step: PurchaseStep
    amount: Roubles
    payment_attempts: int
    payment_method: PayMethodOrNone
    last_error: str
    failure_reason: str
    payment_url: str
    grantee_name: str
    grantee_email: str
    design: str
    gift_card_id: int | None
    wallet_balance: Roubles | None  # after a top-up


def purchase_public(state: PurchaseState) -> PurchasePublic:
    balance = state.balance_after_kopecks
    return PurchasePublic(
        purchase_id=state.purchase_id,
        kind=state.kind,
        step=state.step,
        amount=to_roubles(state.amount_kopecks),
        payment_attempts=state.payment_attempts,
        payment_method=state.payment_method,
        last_error=state.last_error,
        failure_reason=state.failure_reason,
        payment_url=state.payment_url,
        grantee_name=state.grantee_name,
        grantee_email=state.grantee_email,
        design=state.design,
        gift_card_id=state.gift_card_id,
        wallet_balance=None if balance is None else to_roubles(balance),
    )
