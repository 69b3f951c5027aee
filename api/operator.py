"""The operators' area as JSON: the paid orders with their live fulfilment stage, one order's
timeline and the operators' moves on it, and the moves themselves (the next stage; cancel and
refund). Operators only: 401 without a session, 403 for a shopper. Each accepted move is logged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from edge.deps import CurrentOperator, FulfilmentsDep
from flows.fulfilment import desk_order, desk_orders, operator_advance, operator_cancel
from models.operator import AdvanceBody, CancelBody, OperatorOrderDetail, OperatorOrdersPublic
from models.order import OrderId

router = APIRouter(prefix="/operator", tags=["operator"])
ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "Malformed request (a slot is required out for delivery)"},
    401: {"description": "Not authorized"},
    403: {"description": "Operators only"},
    404: {"description": "Order not found or not paid"},
    409: {"description": "Inappropriate state of object for performing operation"},
}


@router.get("/orders", response_model=OperatorOrdersPublic, responses=ERRORS)
async def orders(
    _operator: CurrentOperator,
    fulfilments: FulfilmentsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> OperatorOrdersPublic:
    """Paid, completed and cancelled orders, newest first, each with its live stage."""
    return OperatorOrdersPublic(orders=await desk_orders(fulfilments, limit=limit, offset=offset))


@router.get("/orders/{order_id}", response_model=OperatorOrderDetail, responses=ERRORS)
async def order_detail(
    order_id: OrderId, _operator: CurrentOperator, fulfilments: FulfilmentsDep
) -> OperatorOrderDetail:
    """The order's stage, its timeline and every operator's move on it."""
    return await desk_order(fulfilments, order_id)


@router.post("/orders/{order_id}/advance", response_model=OperatorOrderDetail, responses=ERRORS)
async def advance(
    order_id: OrderId, body: AdvanceBody, operator: CurrentOperator, fulfilments: FulfilmentsDep
) -> OperatorOrderDetail:
    """Move the order to its next stage (409 for any other; 400 without a slot when it goes out
    for delivery)."""
    await operator_advance(
        fulfilments, order_id, body.stage, operator=operator.username, slot=body.slot
    )
    return await desk_order(fulfilments, order_id)


@router.post("/orders/{order_id}/cancel", response_model=OperatorOrderDetail, responses=ERRORS)
async def cancel(
    order_id: OrderId, body: CancelBody, operator: CurrentOperator, fulfilments: FulfilmentsDep
) -> OperatorOrderDetail:
    """Cancel and refund (until the goods have arrived; 409 after): stock and money go back."""
    await operator_cancel(fulfilments, order_id, operator=operator.username, reason=body.reason)
    return await desk_order(fulfilments, order_id)
