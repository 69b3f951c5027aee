"""Checkout contracts: the checkout page talks to the order's Checkout run through these
endpoints, each a Workflow Update or the `state` Query (flows/checkout.py)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from core.money import to_kopecks
from edge.deps import CheckoutsDep, CurrentUser
from flows.views import CheckoutPublic, checkout_public
from models.base import NO_CONTROL_CHARS, CamelModel, Id, Roubles
from models.payloads import CostConfirmation, DeliveryKind, DeliveryRequest
from models.purchase import PayBody

router = APIRouter(prefix="/checkout", tags=["checkout"])


class DeliveryBody(CamelModel):
    kind: DeliveryKind
    address: str = Field(default="", max_length=300, pattern=NO_CONTROL_CHARS)
    company_name: str = Field(default="", max_length=100, pattern=NO_CONTROL_CHARS)
    pickup_point_id: Id | None = None

    def request(self) -> DeliveryRequest:
        return DeliveryRequest(self.kind, self.address, self.company_name, self.pickup_point_id)


class CostBody(CamelModel):
    cost: Roubles = Field(ge=0, le=1_000_000, decimal_places=2)


@router.get("/{order_id}/state", response_model=CheckoutPublic)
async def state(order_id: str, user: CurrentUser, checkouts: CheckoutsDep) -> CheckoutPublic:
    """Where the checkout is (a Query: answered from the run's state)."""
    return checkout_public(await checkouts.state(user.username, order_id))


@router.post("/{order_id}/delivery", response_model=CheckoutPublic)
async def choose_delivery(
    order_id: str, body: DeliveryBody, user: CurrentUser, checkouts: CheckoutsDep
) -> CheckoutPublic:
    """Courier (address, company) or pickup point; answers the priced choice at once."""
    return checkout_public(await checkouts.choose_delivery(user.username, order_id, body.request()))


@router.post("/{order_id}/confirm-delivery-cost", response_model=CheckoutPublic)
async def confirm_cost(
    order_id: str, body: CostBody, user: CurrentUser, checkouts: CheckoutsDep
) -> CheckoutPublic:
    """«подтвердить стоимость доставки»: the cost must be the one shown."""
    confirmation = CostConfirmation(to_kopecks(body.cost))
    return checkout_public(
        await checkouts.confirm_delivery_cost(user.username, order_id, confirmation)
    )


@router.post("/{order_id}/pay", response_model=CheckoutPublic)
async def pay(
    order_id: str, body: PayBody, user: CurrentUser, checkouts: CheckoutsDep
) -> CheckoutPublic:
    """«Оплатить»: answers when the order is paid or the attempt failed (then pay again), or with
    `paymentUrl` (step AWAITING_BANK) where the shopper finishes paying on the bank's page."""
    return checkout_public(await checkouts.pay(user.username, order_id, body.request()))


@router.post("/{order_id}/leave-bank-page", response_model=CheckoutPublic)
async def leave_bank_page(
    order_id: str, user: CurrentUser, checkouts: CheckoutsDep
) -> CheckoutPublic:
    """«Выбрать другой способ оплаты» instead of finishing on the bank's page: the attempt fails
    and the payment choice is back (if the bank still completes it, the money is returned)."""
    return checkout_public(await checkouts.leave_bank_page(user.username, order_id))


@router.post("/{order_id}/back", response_model=CheckoutPublic)
async def back(order_id: str, user: CurrentUser, checkouts: CheckoutsDep) -> CheckoutPublic:
    """Back to the cart: the stock is released at once and the order is editable again."""
    return checkout_public(await checkouts.back_to_cart(user.username, order_id))
