"""Checkout: `PUT /order/process` starts (or reaches) the order's CheckoutWorkflow; the checkout
page talks to that run through these endpoints, each a Workflow Update or Query."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError, RPCStatusCode

from api.deps import CurrentUser, SessionFactoryDep, SettingsDep, TemporalDep
from api.temporal import bounded, domain_error, queues_of
from core.db import SessionFactory, transaction
from core.errors import ConflictError, NotFoundError, StaleVersionError
from core.money import to_kopecks, to_roubles
from core.settings import Settings
from models.base import NO_CONTROL_CHARS, CamelModel, Id, Roubles
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

router = APIRouter(prefix="/checkout", tags=["checkout"])


def workflow_id(order_id: str) -> str:
    return f"checkout-{order_id}"


class DeliveryBody(CamelModel):
    kind: Literal["COURIER", "PICKUP"]
    address: str = Field(default="", max_length=300, pattern=NO_CONTROL_CHARS)
    company_name: str = Field(default="", max_length=100, pattern=NO_CONTROL_CHARS)
    pickup_point_id: Id | None = None


class CostBody(CamelModel):
    cost: Roubles = Field(ge=0, le=1_000_000)


class PayBody(CamelModel):
    """«Оплатить». `tokenId`: the gift card, or the remembered bank card (none = «другая
    карта»). `saveCard`: remember a new card once the bank has it (the bank keeps the number)."""

    method: Literal["WALLET", "BANK_CARD", "SBP", "QR_PAY", "GIFT_CARD"]
    token_id: Id | None = None
    save_card: bool = False

    def request(self) -> PayRequest:
        method = "SBP" if self.method == "QR_PAY" else self.method  # QR_PAY: the spec's name
        return PayRequest(method, self.token_id, self.save_card)


class DeliveryPublic(CamelModel):
    kind: str
    company_name: str
    address: str
    pickup_point_id: int | None
    cost: Roubles
    estimated_date: str
    summary: str


class CheckoutPublic(CamelModel):
    order_id: str
    step: str
    goods: Roubles
    delivery: DeliveryPublic | None
    delivery_confirmed: bool
    total: Roubles
    payment_attempts: int
    payment_method: str
    last_error: str
    failure_reason: str
    payment_url: str
    cart_order_id: str  # after BACK_TO_CART / EXPIRED: the cart holding the goods now


def public(state: CheckoutState) -> CheckoutPublic:
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
    )


async def start_checkout(
    *, temporal: Client, settings: Settings, order_id: str, username: str, version: int
) -> CheckoutState:
    """Start the order's checkout, or reach the one already running, and ask it `ready` in the
    same call (update-with-start); answers once stock is held."""
    data = checkout_input(settings, order_id, username, version)
    start: WithStartWorkflowOperation[Any, CheckoutState] = WithStartWorkflowOperation(
        "Checkout",
        data,
        id=workflow_id(order_id),
        task_queue=data.queues.workflows,
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
                "ready", start_workflow_operation=start, result_type=CheckoutState
            ),
            settings.update_wait_seconds,
        )
    except WorkflowUpdateFailedError as exc:
        raise domain_error(exc) from exc


async def _update(
    handle: WorkflowHandle[Any, Any], settings: Settings, update: str, arg: object = None
) -> CheckoutState:
    """One Update of the running checkout, bounded; its refusal as the domain error."""
    args = [] if arg is None else [arg]
    try:
        state: CheckoutState = await bounded(
            handle.execute_update(update, args=args, result_type=CheckoutState),
            settings.update_wait_seconds,
        )
    except WorkflowUpdateFailedError as exc:
        raise domain_error(exc) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ConflictError("Оформление уже завершено: откройте корзину заново") from exc
        raise
    return state


async def _owned_handle(
    sessions: SessionFactory, temporal: Client, username: str, order_id: str
) -> WorkflowHandle[Any, Any]:
    """The order's checkout run, once the order is known to be this shopper's (else 404). The
    check's transaction ends before the caller waits on the run."""
    async with transaction(sessions) as session:
        await order.get_order(session=session, username=username, order_id=order_id)
    return temporal.get_workflow_handle(workflow_id(order_id))


@router.get("/{order_id}/state", response_model=CheckoutPublic)
async def state(
    order_id: str,
    user: CurrentUser,
    sessions: SessionFactoryDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> CheckoutPublic:
    """Where the checkout is (a Query: answered from the run's state)."""
    handle = await _owned_handle(sessions, temporal, user.username, order_id)
    try:
        current: CheckoutState = await bounded(
            handle.query("state", result_type=CheckoutState), settings.update_wait_seconds
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NotFoundError("Оформление этого заказа не начиналось") from exc
        raise
    return public(current)


@router.post("/{order_id}/delivery", response_model=CheckoutPublic)
async def choose_delivery(
    order_id: str,
    body: DeliveryBody,
    user: CurrentUser,
    sessions: SessionFactoryDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> CheckoutPublic:
    handle = await _owned_handle(sessions, temporal, user.username, order_id)
    request = DeliveryRequest(body.kind, body.address, body.company_name, body.pickup_point_id)
    return public(await _update(handle, settings, "choose_delivery", request))


@router.post("/{order_id}/confirm-delivery-cost", response_model=CheckoutPublic)
async def confirm_cost(
    order_id: str,
    body: CostBody,
    user: CurrentUser,
    sessions: SessionFactoryDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> CheckoutPublic:
    handle = await _owned_handle(sessions, temporal, user.username, order_id)
    confirmation = CostConfirmation(to_kopecks(body.cost))
    return public(await _update(handle, settings, "confirm_delivery_cost", confirmation))


@router.post("/{order_id}/pay", response_model=CheckoutPublic)
async def pay(
    order_id: str,
    body: PayBody,
    user: CurrentUser,
    sessions: SessionFactoryDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> CheckoutPublic:
    """«Оплатить»: answers when the order is paid or the attempt failed (then pay again), or with
    `paymentUrl` (step AWAITING_BANK) where the shopper finishes paying on the bank's page."""
    return await pay_order(sessions, temporal, settings, user.username, order_id, body)


async def pay_order(
    sessions: SessionFactory,
    temporal: Client,
    settings: Settings,
    username: str,
    order_id: str,
    body: PayBody,
) -> CheckoutPublic:
    handle = await _owned_handle(sessions, temporal, username, order_id)
    return public(await _update(handle, settings, "pay", body.request()))


@router.post("/{order_id}/leave-bank-page", response_model=CheckoutPublic)
async def leave_bank_page(
    order_id: str,
    user: CurrentUser,
    sessions: SessionFactoryDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> CheckoutPublic:
    """«Выбрать другой способ оплаты» instead of finishing on the bank's page: the attempt fails
    and the payment choice is back (if the bank still completes it, the money is returned)."""
    handle = await _owned_handle(sessions, temporal, user.username, order_id)
    return public(await _update(handle, settings, "leave_bank_page"))


@router.post("/{order_id}/back", response_model=CheckoutPublic)
async def back(
    order_id: str,
    user: CurrentUser,
    sessions: SessionFactoryDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> CheckoutPublic:
    """Back to the cart: the stock is released at once and the order is editable again."""
    handle = await _owned_handle(sessions, temporal, user.username, order_id)
    return public(await _update(handle, settings, "back_to_cart"))


async def process_order(
    *,
    sessions: SessionFactory,
    temporal: Client,
    settings: Settings,
    username: str,
    order_id: str,
    version: int,
) -> OrderView:
    """PUT /order/process: an order in NEW (at the version the shopper saw) starts checkout; one
    already IN_PROGRESS reaches its running checkout. Answers the order once stock is held."""
    async with transaction(sessions) as session:
        view = await order.get_order(session=session, username=username, order_id=order_id)
    if view.order.status not in (OrderStatus.NEW, OrderStatus.IN_PROGRESS):
        raise ConflictError(f"Заказ в статусе {view.order.status}: оформить его нельзя")
    if view.order.status == OrderStatus.NEW:
        if view.order.version != version:
            raise StaleVersionError("Заказ изменился в другой вкладке: проверьте корзину")
        if not view.items:
            raise ConflictError("Корзина пуста")
    result = await start_checkout(
        temporal=temporal,
        settings=settings,
        order_id=order_id,
        username=username,
        version=view.order.version,
    )
    if result.step == "FAILED":
        raise ConflictError(result.failure_reason or "Оформить заказ не удалось")
    async with transaction(sessions) as session:
        return await order.get_order(session=session, username=username, order_id=order_id)
