"""The checkout and the purchases as the shopper sees them, in roubles: the JSON of their endpoints
and what their pages render."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import transaction
from core.errors import UnavailableError
from core.money import to_roubles
from flows.fulfilment import Fulfilments
from models.base import CamelModel, Roubles
from models.notification import Notification
from models.order import OrderPublic, OrderStatus
from models.payloads import CheckoutState, CheckoutStep, DeliveryKind, PayMethodOrNone
from models.payloads_fulfilment import SHOPPER_MAY_CANCEL, FulfilmentStage, FulfilmentState
from models.payloads_purchase import PurchaseKind, PurchaseState, PurchaseStep
from services import notification, order


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


STAGE_LABELS: dict[FulfilmentStage, str] = {
    "PICKING": "Комплектуется",
    "SENT_TO_PICKUP_POINT": "Отправлен в пункт выдачи",
    "AT_PICKUP_POINT": "Ждёт в пункте выдачи",
    "PICKED_UP": "Получен",
    "HANDED_TO_COURIER": "Передан курьеру",
    "OUT_FOR_DELIVERY": "Курьер везёт заказ",
    "DELIVERED": "Доставлен",
    "RETURNED": "Не забран: возвращён на склад",
    "CANCELED": "Отменён",
}


# In the timeline the first stage reads as what happened: the payment came, picking began.
EVENT_LABELS = {**STAGE_LABELS, "PICKING": "Оплачен и передан в комплектацию"}


class StageEventPublic(CamelModel):
    stage: FulfilmentStage
    label: str
    at: datetime
    by: str
    note: str


class FulfilmentPublic(CamelModel):
    """A paid order's fulfilment as «Мои заказы» shows it: the stage and its timeline."""

    order_id: str
    kind: DeliveryKind
    stage: FulfilmentStage
    stage_label: str
    timeline: list[StageEventPublic]
    slot: str
    refunded: bool
    reason: str
    shopper_may_cancel: bool


def fulfilment_public(state: FulfilmentState) -> FulfilmentPublic:
    return FulfilmentPublic(
        order_id=state.order_id,
        kind=state.kind,
        stage=state.stage,
        stage_label=STAGE_LABELS[state.stage],
        timeline=[
            StageEventPublic(
                stage=event.stage,
                label=EVENT_LABELS[event.stage],
                at=datetime.fromisoformat(event.at),
                by=event.by,
                note=event.note,
            )
            for event in state.timeline
        ],
        slot=state.slot,
        refunded=state.refunded,
        reason=state.reason,
        shopper_may_cancel=state.stage in SHOPPER_MAY_CANCEL,
    )


class OrderSummary(CamelModel):
    """A line of «Мои заказы»: the order, and for a paid one its live stage (None when it has
    none, or when the store could not tell right now)."""

    order: OrderPublic
    created_at: datetime
    delivery_summary: str
    stage: FulfilmentStage | None
    stage_label: str


async def my_orders(fulfilments: Fulfilments, username: str, limit: int) -> list[OrderSummary]:
    """The shopper's orders newest first; a paid one's stage read from its fulfilment (the
    queries run side by side, after the database transaction has ended)."""
    async with transaction(fulfilments.sessions) as session:
        views = await order.orders_of(session=session, username=username, limit=limit)

    async def stage_of(order_id: str, status: OrderStatus) -> FulfilmentState | None:
        if status != OrderStatus.PAID:
            return None
        try:
            return await fulfilments.state(order_id, username=None)
        except UnavailableError:
            return None

    states = await asyncio.gather(*(stage_of(v.order.id, v.order.status) for v in views))
    return [
        OrderSummary(
            order=view.public(),
            created_at=view.order.created_at,
            delivery_summary=view.order.delivery_summary,
            stage=None if state is None else state.stage,
            stage_label="" if state is None else STAGE_LABELS[state.stage],
        )
        for view, state in zip(views, states, strict=True)
    ]


class NoticePublic(CamelModel):
    """An in-app notice (PUSH), as the stream's events, the JSON list and the page show it."""

    id: int
    subject: str
    body: str
    at: datetime


def notice_public(row: Notification) -> NoticePublic:
    return NoticePublic(id=row.id or 0, subject=row.subject, body=row.body, at=row.created_at)


NOTICE_PAGE = 100
NOTICE_PAGES = 20  # past 2,000 notices the oldest are not read for the list at all


async def latest_notices(session: AsyncSession, username: str, count: int) -> list[NoticePublic]:
    """The shopper's `count` newest in-app notices, newest first."""
    kept: deque[Notification] = deque(maxlen=count)
    after = 0
    for _ in range(NOTICE_PAGES):
        rows = await notification.push_notices(
            session=session, username=username, after_id=after, limit=NOTICE_PAGE
        )
        kept.extend(rows)
        if len(rows) < NOTICE_PAGE:
            break
        after = rows[-1].id or after
    return [notice_public(row) for row in reversed(kept)]
