"""order contracts (spec section 4, order): place, adjust, cancel, process, get."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from core.errors import NotFoundError
from edge.deps import CheckoutsDep, CurrentUser, FulfilmentsDep, SessionDep
from flows.catalogue import order_lines
from flows.views import FulfilmentPublic, OrderSummary, fulfilment_public, my_orders
from models.base import CamelModel
from models.order import ChangeRequest, OrderId, OrderPublic, PlaceRequest
from services import order

router = APIRouter(prefix="/order", tags=["order"])
LISTED = 50
ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Not authorized"},
    404: {"description": "Order or product not found"},
    409: {"description": "Inappropriate state of object for performing operation"},
}


@router.post("/place", response_model=OrderPublic, responses=ERRORS)
async def place(body: PlaceRequest, user: CurrentUser, session: SessionDep) -> OrderPublic:
    """Create an order (the cart) with these items."""
    lines = await order_lines(await session.connection(), body.order_items)
    view = await order.place_order(
        session=session, username=user.username, lines=lines, order_id=body.id
    )
    return view.public()


@router.put("/adjust", response_model=OrderPublic, responses=ERRORS)
async def adjust(body: ChangeRequest, user: CurrentUser, session: SessionDep) -> OrderPublic:
    """Replace the items of a NEW order; `version` must be the one the client last saw."""
    lines = await order_lines(await session.connection(), body.order_items)
    view = await order.adjust_order(
        session=session, username=user.username, order_id=body.id, version=body.version, lines=lines
    )
    return view.public()


@router.put("/cancel", response_model=OrderPublic, responses=ERRORS)
async def cancel(body: ChangeRequest, user: CurrentUser, session: SessionDep) -> OrderPublic:
    """Cancel a NEW order."""
    view = await order.cancel_order(
        session=session, username=user.username, order_id=body.id, version=body.version
    )
    return view.public()


@router.put("/process", response_model=OrderPublic, responses=ERRORS)
async def process(body: ChangeRequest, user: CurrentUser, checkouts: CheckoutsDep) -> OrderPublic:
    """Hand the order to checkout (its CheckoutWorkflow; a second call reaches the same run).
    Answers once the stock is held: the order is IN_PROGRESS then."""
    view = await checkouts.process(user.username, body.id, body.version)
    return view.public()


@router.get("/get", response_model=OrderPublic, responses=ERRORS)
async def get(
    user: CurrentUser, session: SessionDep, order_id: Annotated[str, Query(alias="orderId")]
) -> OrderPublic:
    """The order's current state."""
    view = await order.get_order(session=session, username=user.username, order_id=order_id)
    return view.public()


class CancelPaidRequest(CamelModel):
    id: OrderId


@router.get("/list", response_model=list[OrderSummary], responses=ERRORS)
async def list_orders(user: CurrentUser, fulfilments: FulfilmentsDep) -> list[OrderSummary]:
    """The shopper's orders that left the cart, newest first; a paid one with its live stage."""
    return await my_orders(fulfilments, user.username, LISTED)


@router.get("/timeline", response_model=FulfilmentPublic, responses=ERRORS)
async def timeline(
    user: CurrentUser,
    fulfilments: FulfilmentsDep,
    order_id: Annotated[OrderId, Query(alias="orderId")],
) -> FulfilmentPublic:
    """A paid order's fulfilment: its stage and the timeline (404 before it is paid)."""
    state = await fulfilments.state(order_id, username=user.username)
    if state is None:
        raise NotFoundError("Заказ ещё не оплачен")
    return fulfilment_public(state)


@router.post("/cancel-paid", response_model=FulfilmentPublic, responses=ERRORS)
async def cancel_paid(
    body: CancelPaidRequest, user: CurrentUser, fulfilments: FulfilmentsDep
) -> FulfilmentPublic:
    """Cancel a paid order while it is being picked: stock back, the money refunded the way it
    was paid (409 once it has left the store)."""
    state = await fulfilments.cancel(body.id, username=user.username)
    return fulfilment_public(state)
