"""«Операторская»: the paid orders with their live stage, one order's timeline with the button for
its next stage, cancel-and-refund while allowed, the operators' moves, and the run in the Temporal
UI. Operators only (a shopper gets 403, a visitor the login page). Plain forms posting here, then
303 back to the order; a refused move is shown on the order's page with the flow's message.
The pages live under /operator/order/… (singular): /operator/orders/… is the JSON contract."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.errors import DomainError
from edge.deps import OPERATORS_ONLY, FulfilmentsDep, OptionalUser
from flows.fulfilment import (
    Fulfilments,
    desk_order,
    desk_orders,
    operator_advance,
    operator_cancel,
    workflow_id,
)
from flows.views import STAGE_LABELS
from models.auth import OPERATOR, User
from models.order import OrderId
from models.payloads_fulfilment import FulfilmentStage
from web.pages import _login_redirect, _page

router = APIRouter(include_in_schema=False)

ORDERS_SHOWN = 50
KIND_LABELS = {"PICKUP": "Самовывоз", "COURIER": "Курьер"}
ACTION_LABELS = {"ADVANCE": "Переход", "CANCEL": "Отмена и возврат"}
LABELS = {"stages": STAGE_LABELS, "kinds": KIND_LABELS, "actions": ACTION_LABELS}


def _operator(request: Request, user: User | None, here: str) -> User | Response:
    """The operator; else the login page for a visitor, 403 for a shopper."""
    if user is None:
        return _login_redirect(here)
    if user.role != OPERATOR:
        return _page(
            request, "error.html", status_code=403, user=user, status=403, message=OPERATORS_ONLY
        )
    return user


@router.get("/operator", response_class=HTMLResponse)
async def operator_home(
    request: Request, user: OptionalUser, fulfilments: FulfilmentsDep
) -> Response:
    """«Операторская»: orders, newest first, with their live stage."""
    operator = _operator(request, user, "/operator")
    if isinstance(operator, Response):
        return operator
    orders = await desk_orders(fulfilments, limit=ORDERS_SHOWN)
    return _page(request, "operator/orders.html", user=operator, orders=orders, labels=LABELS)


async def _order_page(
    request: Request,
    user: User,
    fulfilments: Fulfilments,
    order_id: str,
    *,
    problem: DomainError | None = None,
) -> Response:
    settings = request.app.state.settings
    run_url = (
        f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"
        f"/workflows/{workflow_id(order_id)}"
    )
    return _page(
        request,
        "operator/order.html",
        status_code=problem.http_status if problem else 200,
        user=user,
        order=await desk_order(fulfilments, order_id),
        labels=LABELS,
        run_url=run_url,
        problem=problem.message if problem else "",
    )


@router.get("/operator/order/{order_id}", response_class=HTMLResponse)
async def operator_order(
    request: Request, order_id: OrderId, user: OptionalUser, fulfilments: FulfilmentsDep
) -> Response:
    """One order: its stage and timeline, the next move, the operators' moves on it."""
    here = f"/operator/order/{order_id}"
    operator = _operator(request, user, here)
    if isinstance(operator, Response):
        return operator
    return await _order_page(request, operator, fulfilments, order_id)


@router.post("/operator/order/{order_id}/advance", response_class=HTMLResponse)
async def operator_advance_form(
    request: Request,
    order_id: OrderId,
    user: OptionalUser,
    fulfilments: FulfilmentsDep,
    stage: Annotated[FulfilmentStage, Form()],
    slot: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """«Перевести в …»: the next stage (with the slot when out for delivery), then back."""
    here = f"/operator/order/{order_id}"
    operator = _operator(request, user, here)
    if isinstance(operator, Response):
        return operator
    try:
        await operator_advance(
            fulfilments, order_id, stage, operator=operator.username, slot=slot.strip()
        )
    except DomainError as exc:
        return await _order_page(request, operator, fulfilments, order_id, problem=exc)
    return RedirectResponse(here, status_code=303)


@router.post("/operator/order/{order_id}/cancel", response_class=HTMLResponse)
async def operator_cancel_form(
    request: Request,
    order_id: OrderId,
    user: OptionalUser,
    fulfilments: FulfilmentsDep,
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """«Отменить и вернуть деньги»: stock and money back, then back to the order."""
    here = f"/operator/order/{order_id}"
    operator = _operator(request, user, here)
    if isinstance(operator, Response):
        return operator
    try:
        await operator_cancel(
            fulfilments, order_id, operator=operator.username, reason=reason.strip()
        )
    except DomainError as exc:
        return await _order_page(request, operator, fulfilments, order_id, problem=exc)
    return RedirectResponse(here, status_code=303)
