"""«Мои заказы»: the shopper's orders with their live stage, an order's composition and timeline
(read from its fulfilment) with «Отменить заказ» while it is picked; and «Уведомления», the
in-app notices."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.db import transaction
from core.errors import ConflictError, UnavailableError
from edge.deps import FulfilmentsDep, OptionalUser, SessionDep
from flows.fulfilment import Fulfilments
from flows.views import fulfilment_public, latest_notices, my_orders
from models.auth import User
from models.order import OrderId, OrderStatus
from services import order
from web.pages import _login_redirect, _page

router = APIRouter(include_in_schema=False)

LISTED = 50
NOTICES_SHOWN = 50
STATUS_LABELS = {
    OrderStatus.IN_PROGRESS: "Оформляется",
    OrderStatus.PAID: "Оплачен",
    OrderStatus.COMPLETED: "Выполнен",
    OrderStatus.CANCELED: "Отменён",
    OrderStatus.FAILED: "Не оформлен",
}
# Statuses an order may have a fulfilment in (a canceled one: canceled after it was paid).
FULFILLED = frozenset({OrderStatus.PAID, OrderStatus.COMPLETED, OrderStatus.CANCELED})


@router.get("/orders", response_class=HTMLResponse)
async def orders_page(
    request: Request, user: OptionalUser, fulfilments: FulfilmentsDep
) -> Response:
    """«Мои заказы»: the orders that left the cart, newest first, a paid one with its stage."""
    if user is None:
        return _login_redirect("/orders")
    orders = await my_orders(fulfilments, user.username, LISTED)
    return _page(request, "order/list.html", user=user, orders=orders, labels=STATUS_LABELS)


async def _detail(
    request: Request,
    fulfilments: Fulfilments,
    user: User,
    order_id: str,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    async with transaction(fulfilments.sessions) as session:  # not held while Temporal answers
        view = await order.get_order(session=session, username=user.username, order_id=order_id)
    state, unknown = None, False
    if view.order.status in FULFILLED:
        try:
            state = await fulfilments.state(order_id, username=None)
        except UnavailableError:
            unknown = True
    return _page(
        request,
        "order/detail.html",
        status_code=status_code,
        user=user,
        order=view.public(),
        created_at=view.order.created_at,
        delivery_summary=view.order.delivery_summary,
        status_label=STATUS_LABELS.get(view.order.status, view.order.status),
        fulfilment=None if state is None else fulfilment_public(state),
        unknown=unknown,
        problem=problem,
        canceled=request.query_params.get("canceled") == "1",
    )


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_page(
    request: Request, user: OptionalUser, fulfilments: FulfilmentsDep, order_id: OrderId
) -> Response:
    """The order: composition, status, the fulfilment's timeline, «Отменить заказ»."""
    if user is None:
        return _login_redirect(f"/orders/{order_id}")
    return await _detail(request, fulfilments, user, order_id)


@router.post("/orders/{order_id}", response_class=HTMLResponse)
async def cancel_order(
    request: Request, user: OptionalUser, fulfilments: FulfilmentsDep, order_id: OrderId
) -> Response:
    """«Отменить заказ» (while it is picked): cancel and refund, then back to the order."""
    if user is None:
        return _login_redirect(f"/orders/{order_id}")
    try:
        await fulfilments.cancel(order_id, username=user.username)
    except ConflictError as exc:
        return await _detail(request, fulfilments, user, order_id, exc.message, 409)
    return RedirectResponse(f"/orders/{order_id}?canceled=1", status_code=303)


@router.get("/notifications", response_class=HTMLResponse)
async def notifications_page(request: Request, user: OptionalUser, session: SessionDep) -> Response:
    """«Уведомления»: the in-app notices, newest first."""
    if user is None:
        return _login_redirect("/notifications")
    notices = await latest_notices(session, user.username, NOTICES_SHOWN)
    return _page(request, "notifications.html", user=user, notices=notices)
